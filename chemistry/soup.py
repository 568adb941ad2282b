"""``Soup``: a Mesa model whose population is a ``ParticleStore`` (``science/soup.md``).

One ``step()`` is one tick: the config's operator schedule in order (``catalogue.py``), then
classification and observables. Organism bookkeeping (bonds, stable ids) is its own component,
``Organisms``. The store is the population; small soups also keep one thin Mesa agent per
particle (``soup.agents``, ``agents.py``), never used by an operator. The soup is the
``soup`` kind of the run machinery (``model_kinds.py``): it says what its run file holds
(``layout``), what each tick adds (``step_records``) and what a snapshot holds (``snapshot``).
"""

from __future__ import annotations

import json
from typing import Any

import mesa
import numpy as np
import torch

from neurosoup.particles import ConfigError, ParticleStore, classify_with_stats, runformat
from neurosoup.particles.complexity import high_order_entropy

from . import catalogue
from . import operators as ops
from .agents import AGENT_LIMIT, ParticleAgents
from .config import SoupConfig
from .model_kinds import Layout, ModelBase, Series, Table
from .observe import summary
from .organisms import Organisms

soup_fmt = runformat.soup  # the soup's run-file vocabulary
TYPE_OBSERVABLES, BASE_OBSERVABLES = soup_fmt.TYPE_OBSERVABLES, soup_fmt.BASE_OBSERVABLES


def operator_codes(config: SoupConfig) -> dict[str, int]:
    """Operator name → ``/events`` code: built-ins fixed, rules from 100 in schedule order."""
    codes = {name: op.code for name, op in catalogue.BUILT_INS.items()}
    if len(config.rules) > 127 - catalogue.RULE_CODE_BASE:
        raise ConfigError(
            f"a schedule holds at most {127 - catalogue.RULE_CODE_BASE} user rules (the /events "
            f"operator column is int8), got {len(config.rules)}; merge some rules into one"
        )
    for i, name in enumerate(config.rules):
        codes[name] = catalogue.RULE_CODE_BASE + i
    return codes  # type: ignore[return-value]


def observable_names(config: SoupConfig) -> list[str]:
    """Names of the per-tick observables of a soup with this config, in file order."""
    names = list(BASE_OBSERVABLES)
    for entry in config.operators:
        names += catalogue.lookup(entry.name).observable_names(entry.name)
    return names


class Soup(ModelBase):
    """A soup of particle networks.

    Args:
        config: the soup's dynamics and cadences.
        seed: the run's seed (one ``SeedSequence`` → Mesa's ``rng`` and a torch generator).
        device: ``cpu``, ``cuda`` or None (CUDA when available).
        scenario: id of the registered scenario this soup was made from (for the run file).
        agent_limit: up to this many living particles, ``agents`` holds one ``ParticleAgent``
            per particle, kept in step every tick (``chemistry/agents.py``); 0 turns them off.
    """

    kind = "soup"
    unit = "tick"

    def __init__(
        self,
        config: SoupConfig,
        seed: int = 0,
        device: torch.device | str | None = None,
        *,
        scenario: str | None = None,
        agent_limit: int = AGENT_LIMIT,
    ) -> None:
        super().__init__(config, seed, device, scenario=scenario)
        self.particle_agents = ParticleAgents(self, agent_limit)
        dev = self.device
        self.spec = config.particle
        self.dtype = torch.float64 if config.dtype == "float64" else torch.float32
        self.schedule = [(catalogue.lookup(e.name), e.as_dict()) for e in config.operators]
        self.codes = operator_codes(config)
        self._check_rules()
        self.store = ParticleStore(self.spec, config.n_particles, dev, self.dtype)
        w = self.spec.init(config.n_particles, self.rngs.torch, dtype=self.dtype, device=dev)
        uids = self.store.uid[self.store.add(w, born_at=0)]
        self.organisms = Organisms()
        none = torch.full_like(uids, -1)
        empty = torch.zeros(0, dtype=torch.int64, device=dev)
        self.last_events: list[ops.Events] = []
        self.last_lineage = [
            ops.Lineage(uids, none, none, torch.full_like(uids, ops.SEED), empty, empty)
        ]
        self._observe({})
        self._new_collector()
        self.particle_agents.sync()

    @property
    def agents(self) -> mesa.agent.AgentSet:
        """Mesa's ``AgentSet``: one ``ParticleAgent`` per living particle in small soups.

        Above ``agent_limit`` living particles it is empty; the first access logs why.
        """
        self.particle_agents.note_once()
        return self._all_agents

    @classmethod
    def memory_need(cls, config: SoupConfig) -> tuple[int, str]:
        """The store (weights, momentum, ids, masks, free stack) and the initial weights."""
        size = 8 if config.dtype == "float64" else 4
        per_particle = 3 * config.particle.n_weights * size + 42
        return config.n_particles * per_particle, "n_particles"

    def _check_rules(self) -> None:
        from .rules import _RULE_OBJECTS, checked  # rules import the catalogue, not the soup

        for name in self.config.rules:
            rule = _RULE_OBJECTS.get(name)
            if rule is not None:
                checked(rule, self.spec, self.dtype, self.device)

    # ---- the tick ------------------------------------------------------------------------
    def step(self) -> None:
        """One tick: the schedule in order (Mesa's wrapper has already counted it)."""
        cfg, store = self.config, self.store
        tick = catalogue.Tick(
            store, self.spec, self.rngs.torch, self.steps, store.alive_slots(), self.dtype,
            cfg.lr, cfg.momentum, cfg.train_mode, cfg.epsilon, cfg.strict, self.organisms,
        )  # fmt: skip
        outcomes: dict[str, catalogue.Outcome] = {}
        for op, params in self.schedule:
            outcome = op.run(tick, params)
            if outcome.events is not None:
                outcome.events.operator = self.codes[op.name]
            outcomes[op.name] = outcome
        events = [o.events for o in outcomes.values() if o.events is not None]
        lineage = [o.lineage for o in outcomes.values() if o.lineage is not None]
        bonds_changed = any(o.bonds_changed for o in outcomes.values())
        dead = [u for lin in lineage for u in lin.death_uid.tolist()]
        bonds_changed |= self.organisms.drop(dead)
        if bonds_changed:
            self.organisms.update()
        self.last_events, self.last_lineage = events, lineage
        self._observe(outcomes)
        self.particle_agents.sync()
        self.datacollector.collect(self)

    def size_hint(self) -> int:
        """Store capacity: the thread policy's measure of a tick's size."""
        return self.store.capacity

    # ---- organisms (the Organisms component does the bookkeeping) -------------------------
    def add_bonds(self, pairs: Any, *, update: bool = False) -> ops.Events:
        """Bond each (actor, counterpart) pair of slots as the merge operator does.

        Bonding a bonded pair is a no-op (``applied`` False). ``update`` recomputes the
        organisms at once (``step`` does it at the end of the tick).
        """
        ev = ops.merge_pairs(self.store, pairs, self.organisms.bond_set())
        ev.operator = self.codes["merge"]
        self.organisms.add(ev.actor[ev.applied], ev.counterpart[ev.applied])
        if update:
            self.organisms.update()
        return ev

    def bonds(self) -> np.ndarray:
        """Current bonds, [E, 2] int64 uid pairs, smaller uid first, rows sorted."""
        return self.organisms.bonds()

    def organisms_by_id(self) -> dict[int, frozenset[int]]:
        """Organism id → member uids (connected components of the bond graph, ≥ 2 members)."""
        return self.organisms.members()

    # ---- observables ---------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        """Number of living particles per type (latest classification)."""
        return self.store.counts(self.config.epsilon)

    def result(self) -> dict[str, float]:
        """Final counts per particle type (what ``neurosoup run`` prints)."""
        return {k: float(v) for k, v in self.counts().items()}

    def _observe(self, outcomes: dict[str, catalogue.Outcome]) -> None:
        cfg, store = self.config, self.store
        slots = store.alive_slots()
        weights = store.weights if slots.shape[0] == store.capacity else store.weights[slots]
        codes, stats = classify_with_stats(
            self.spec, weights, cfg.epsilon, strict=cfg.strict, block_rows=ops.BLOCK_ROWS
        )
        store.set_types(slots, codes)
        obs = summary(codes, stats["mse"], stats["rho"])
        obs[soup_fmt.HIGH_ORDER_ENTROPY] = high_order_entropy(weights)  # particles/complexity.py
        for op, _ in self.schedule:
            obs.update(op.observe(op.name, outcomes.get(op.name), self))
        self.observables = obs

    def _new_collector(self) -> None:
        reporters: dict[str, Any] = {
            name: (lambda m, n=name: m.observables[n]) for name in observable_names(self.config)
        }
        if self._bonding():
            reporters[soup_fmt.ORGANISM_SIZES_NAME] = lambda m: m.organisms.sizes()
        self.datacollector = mesa.DataCollector(model_reporters=reporters)
        self.datacollector.collect(self)

    def restore_history(self, history: dict[str, list[Any]]) -> None:
        """Give the DataCollector the run's history, steps 0 … now, from the run file."""
        columns = self.datacollector.model_vars
        for name, values in columns.items():
            if name in history:
                values[:] = history[name]
        longest = max((len(v) for v in columns.values()), default=0)
        for values in columns.values():
            values[:0] = [None] * (longest - len(values))

    def provenance(self) -> dict[str, str]:
        """Source digests of the user rules in the schedule."""
        return {op.name: op.digest for op, _ in self.schedule if op.digest is not None}

    # ---- the run file ----------------------------------------------------------------------
    def layout(self) -> Layout:
        """Observables, particle snapshots, bonds, organism sizes, events, lineage."""
        wdtype = np.float64 if self.config.dtype == "float64" else np.float32
        p = self.spec.n_weights
        series = [Series(soup_fmt.field(soup_fmt.WEIGHTS), wdtype, (p,))]
        series += [Series(soup_fmt.field(name), dt) for name, dt in soup_fmt.SNAPSHOT_FIELDS]
        series.append(Series(soup_fmt.BONDS, np.int64, (2,), ragged=True))
        if self._bonding():
            series.append(Series(soup_fmt.ORGANISM_SIZES, np.int64, ragged=True, cadence="step"))
        names = {str(c): n for n, c in self.codes.items() if self._listed(n, c)}
        tables = (
            Table(runformat.EVENTS, runformat.EVENT_COLUMNS, runformat.common.EVENT_STEP,
                  attrs={runformat.common.OPERATORS_ATTR:
                         json.dumps(dict(sorted(names.items(), key=lambda kv: int(kv[0]))))}),
            Table(soup_fmt.BIRTHS, soup_fmt.BIRTH_COLUMNS, soup_fmt.BIRTH_STEP),
            Table(soup_fmt.DEATHS, soup_fmt.DEATH_COLUMNS, soup_fmt.DEATH_STEP),
        )  # fmt: skip
        return Layout({name: () for name in observable_names(self.config)}, tuple(series), tables)

    def _bonding(self) -> bool:
        """Whether an operator of the schedule bonds particles (organism sizes recorded)."""
        return self.config.op("merge") is not None or self.config.op("grow") is not None

    def _listed(self, name: str, code: int) -> bool:
        """Whether the ``/events`` code table names this operator (``LISTED_CODES_BELOW``)."""
        if name in self.config.rules:
            return True
        return name in catalogue.BUILT_INS and (
            code < catalogue.LISTED_CODES_BELOW or self.config.op(name) is not None
        )

    def step_records(self) -> dict[str, Any]:
        """This tick's rows: events, births, deaths ([R, columns] int64) and organism sizes."""
        tick = self.steps
        out: dict[str, Any] = {}
        rows = []
        for ev in self.last_events:
            cols = [torch.full_like(ev.actor, tick), torch.full_like(ev.actor, ev.operator),
                    ev.actor, ev.counterpart, ev.changed, ev.applied.long()]  # fmt: skip
            rows.append(torch.stack(cols, dim=1).cpu().numpy())
        out[runformat.EVENTS] = rows
        births, deaths = [], []
        for lin in self.last_lineage:
            born = torch.full_like(lin.birth_uid, tick)
            b = [lin.birth_uid, lin.birth_parent, lin.birth_co_parent, born, lin.birth_cause]
            births.append(torch.stack([x.long() for x in b], dim=1).cpu().numpy())
            d = [lin.death_uid, torch.full_like(lin.death_uid, tick), lin.death_cause.long()]
            deaths.append(torch.stack(d, dim=1).cpu().numpy())
        out[soup_fmt.BIRTHS], out[soup_fmt.DEATHS] = births, deaths
        if self._bonding():
            out[soup_fmt.ORGANISM_SIZES] = np.asarray(self.organisms.sizes(), dtype=np.int64)
        return out

    def snapshot(self) -> dict[str, np.ndarray]:
        """Particle arrays [C, …] (dead slots filled) and bonds [E, 2]."""
        store = self.store
        alive = store.alive.cpu().numpy()
        weights = store.weights.cpu().numpy()
        out = {soup_fmt.field(soup_fmt.WEIGHTS):
               np.where(alive[:, None], weights, runformat.FLOAT_FILL)}  # fmt: skip
        for name, dtype in soup_fmt.SNAPSHOT_FIELDS:
            value = getattr(store, name).cpu().numpy().astype(dtype)
            out[soup_fmt.field(name)] = np.where(alive, value, runformat.INT_FILL).astype(dtype)
        out[soup_fmt.BONDS] = self.bonds()
        return out

    # ---- checkpoints ---------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        """Everything needed to continue this soup exactly (numpy arrays, ints, JSON)."""
        return {
            "tick": int(self.steps),
            "store": self.store.state_dict(),
            "rng": self.rngs.state(),
            "organisms": self.organisms.state(),
            "observables": json.dumps(self.observables),
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Continue from ``state()`` output (same config, seed and device type)."""
        self.steps = int(state["tick"])
        self.store = ParticleStore.from_state(self.spec, state["store"], self.device)
        self.rngs.restore(state["rng"])
        self.organisms = Organisms()
        self.organisms.restore(state["organisms"])
        self.last_events, self.last_lineage = [], []
        self.observables = json.loads(state["observables"])
        self._new_collector()
        self.particle_agents.sync(rebuild=True)


__all__ = ["Soup", "observable_names", "operator_codes"]
