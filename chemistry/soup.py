"""``Soup``: a Mesa model whose population is a ``ParticleStore`` (``science/soup.md``).

One ``step()`` is one tick: attack, apply_to_other, learn_from, melt, merge, custom pair rules,
self_apply, self_train, respawn, then classification and observables. Bonds live in a networkx
``Graph`` over uids; organisms are its connected components with ≥ 2 members and keep their id
while the component persists (a merged component keeps the smallest old id, a split one's
largest part keeps it). Particles are not Mesa agents: the store is the population.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import mesa
import networkx as nx
import numpy as np
import torch
from tqdm.auto import tqdm

from neurosoup.particles import ParticleStore, classify_with_stats

from . import operators as ops
from .config import SoupConfig
from .observe import summary
from .pairing import Pairs, draw_actors, draw_pairs, draw_third
from .rng import RunRng, check_seed, resolve_device
from .rules import checked, get_rule

TYPE_OBSERVABLES = (
    "count_divergent", "count_zero", "count_fixpoint", "count_second_order", "count_other",
)  # fmt: skip


def observable_names(config: SoupConfig) -> list[str]:
    """Names of the per-tick observables of a soup with this config, in file order."""
    names = [*TYPE_OBSERVABLES, "n_alive", "loss_mean", "loss_median", "log10_rho_median"]
    for op in [*config.enabled(), *config.rules]:
        names += [f"actions_{op}", f"applied_{op}"]
    if config.respawn:
        names += ["respawn_divergent", "respawn_zero"]
    if config.merge_rate > 0:
        names += ["n_organisms", "largest_organism"]
    return names


class Soup(mesa.Model):
    """A soup of particle networks.

    Args:
        config: the soup's dynamics and cadences.
        seed: the run's seed (one ``SeedSequence`` → Mesa's ``rng`` and a torch generator).
        device: ``cpu``, ``cuda`` or None (CUDA when available).
        scenario: id of the registered scenario this soup was made from (for the run file).
    """

    def __init__(
        self,
        config: SoupConfig,
        seed: int = 0,
        device: torch.device | str | None = None,
        *,
        scenario: str | None = None,
    ) -> None:
        dev = resolve_device(device)
        rngs = RunRng.from_seed(check_seed(seed), dev)
        super().__init__(rng=rngs.numpy)
        self.config, self.seed, self.device, self.rngs = config, int(seed), dev, rngs
        self.scenario = scenario
        self.spec = config.particle
        self.dtype = torch.float64 if config.dtype == "float64" else torch.float32
        self.rules = [get_rule(name) for name in config.rules]
        for rule in self.rules:
            checked(rule, self.spec, self.dtype, dev)
        self.store = ParticleStore(self.spec, config.n_particles, dev, self.dtype)
        w = self.spec.init(config.n_particles, rngs.torch, dtype=self.dtype, device=dev)
        uids = self.store.uid[self.store.add(w, born_at=0)]
        self.graph: nx.Graph = nx.Graph()
        self._org_of: dict[int, int] = {}
        self._orgs: dict[int, frozenset[int]] = {}
        self._next_org = 0
        self.recorder: Any = None
        none = torch.full_like(uids, -1)
        empty = torch.zeros(0, dtype=torch.int64, device=dev)
        self.last_events: list[ops.Events] = []
        self.last_lineage = [
            ops.Lineage(uids, none, none, torch.full_like(uids, ops.SEED), empty, empty)
        ]
        self.observables: dict[str, float] = {}
        self._respawn_causes = torch.zeros(0, dtype=torch.int8)
        self._observe({})
        self._new_collector()

    # ---- the tick ------------------------------------------------------------------------
    def step(self) -> None:
        """One tick (Mesa's wrapper has already incremented ``self.steps``)."""
        cfg, store, spec, gen = self.config, self.store, self.spec, self.rngs.torch
        tick = self.steps
        events: list[ops.Events] = []
        lineage: list[ops.Lineage] = []
        self._respawn_causes = torch.zeros(0, dtype=torch.int8)
        alive = store.alive_slots()
        if cfg.attack_rate > 0:
            pairs = draw_pairs(alive, cfg.attack_pairing, cfg.attack_rate, gen)
            events.append(ops.attack(store, spec, pairs))
        if cfg.apply_to_other_rate > 0:
            pairs = draw_pairs(alive, cfg.apply_to_other_pairing, cfg.apply_to_other_rate, gen)
            events.append(ops.apply_to_other(store, spec, pairs))
        if cfg.learn_from_rate > 0:
            pairs = draw_pairs(alive, cfg.learn_from_pairing, cfg.learn_from_rate, gen)
            orders = ops.draw_orders(
                cfg.learn_from_severity, len(pairs), spec.n_weights, cfg.train_mode, gen
            )
            events.append(
                ops.learn_from(
                    store, spec, pairs, cfg.learn_from_severity, cfg.lr, cfg.momentum, orders
                )
            )
        if cfg.melt_rate > 0:
            pairs = draw_pairs(alive, cfg.melt_pairing, cfg.melt_rate, gen)
            mask = ops.draw_melt_mask(len(pairs), spec.n_weights, gen)
            thirds = draw_third(alive, pairs, gen) if cfg.melt_mode == "offspring" else None
            ev, born = ops.melt(store, pairs, mask, tick, thirds)
            events.append(ev)
            if born is not None:
                lineage.append(born)
        bonds_changed = False
        if cfg.merge_rate > 0:
            ev = self.add_bonds(draw_pairs(alive, cfg.merge_pairing, cfg.merge_rate, gen))
            bonds_changed = bool(ev.applied.any())
            events.append(ev)
        for code, rule in enumerate(self.rules, start=len(ops.OPERATOR_CODES)):
            pairs = draw_pairs(alive, rule.pairing, rule.rate, gen)
            k = rule.noise_size(spec)
            noise = torch.randn(len(pairs), k, generator=gen, device=gen.device, dtype=self.dtype)
            ev = ops.rule_attack(store, rule, pairs, noise)
            ev.operator = code
            events.append(ev)
        if cfg.self_apply_rate > 0:
            actors = draw_actors(alive, cfg.self_apply_pairing, cfg.self_apply_rate, gen)
            events.append(ops.self_apply(store, spec, actors))
        if cfg.train_steps > 0:
            orders = ops.draw_orders(
                cfg.train_steps, alive.shape[0], spec.n_weights, cfg.train_mode, gen
            )
            ops.self_train(store, spec, cfg.train_steps, cfg.lr, cfg.momentum, orders)
        if cfg.respawn:
            slots, cause, fresh = ops.draw_respawn(
                store, spec, gen, divergent=cfg.respawn_divergent, zero=cfg.respawn_zero,
                epsilon=cfg.epsilon, strict=cfg.strict,
            )  # fmt: skip
            ev, born = ops.respawn(store, slots, cause, fresh, tick)
            self._respawn_causes = cause
            events.append(ev)
            lineage.append(born)
        bonds_changed |= self._drop_dead_bonds(lineage)
        if bonds_changed:
            self._update_organisms()
        self.last_events, self.last_lineage = events, lineage
        self._observe({ev.operator: ev for ev in events})
        self.datacollector.collect(self)
        self.running = self.steps < cfg.steps  # so Mesa's run_model() stops at the plan
        if self.recorder is not None:
            self.recorder.after_tick(self)

    def run(
        self, n: int | None = None, progress: bool = True, threads: int | str | None = "auto"
    ) -> dict[str, int]:
        """Run ``n`` ticks (default: up to ``config.steps``); returns the final counts.

        The tqdm bar shows only when ``progress`` and stderr is a terminal. ``threads`` sets
        torch's intra-op threads for the run and restores them after (None: leave as is).
        ``auto`` uses 1 thread below 10⁴ particles, where the tensors are too small to gain
        from threads and extra threads only contend with other processes (measured 28–100×
        slower on a busy 2-core machine), and torch's default from 10⁴ on (idle 2-core
        machine, journal soup: 29 vs 21 ticks/s at N = 10⁴, 4.3 vs 2.6 at 10⁵).
        """
        if n is None:
            n = max(self.config.steps - self.steps, 0)
        old = torch.get_num_threads()
        if threads == "auto":
            threads = 1 if self.store.capacity < 10_000 else None
        if threads is not None:
            torch.set_num_threads(int(threads))
        try:
            bar = tqdm(range(n), desc="soup", unit="tick", disable=not progress or not _tty())
            for _ in bar:
                self.step()
        finally:
            torch.set_num_threads(old)
        return self.counts()

    # ---- organisms -----------------------------------------------------------------------
    def add_bonds(self, pairs: Pairs, *, update: bool = False) -> ops.Events:
        """The merge operator: bond each (actor, counterpart) pair of slots.

        Bonding a bonded pair is a no-op (``applied`` False). ``update`` recomputes the
        organisms at once (``step`` does it at the end of the tick).
        """
        ev = ops.merge_pairs(self.store, pairs, self.bond_set())
        new = torch.stack([ev.actor[ev.applied], ev.counterpart[ev.applied]], dim=1)
        self.graph.add_edges_from(new.tolist())
        if update:
            self._update_organisms()
        return ev

    def bond_set(self) -> set[tuple[int, int]]:
        """Current bonds as (smaller uid, larger uid) pairs."""
        return {(min(a, b), max(a, b)) for a, b in self.graph.edges}

    def bonds(self) -> np.ndarray:
        """Current bonds, [E, 2] int64 uid pairs, smaller uid first, rows sorted."""
        edges = sorted(self.bond_set())
        return np.asarray(edges, dtype=np.int64).reshape(-1, 2)

    def organisms(self) -> dict[int, frozenset[int]]:
        """Organism id → member uids (connected components of the bond graph, ≥ 2 members)."""
        return dict(self._orgs)

    def _drop_dead_bonds(self, lineage: list[ops.Lineage]) -> bool:
        dead = [u for lin in lineage for u in lin.death_uid.tolist() if u in self.graph]
        self.graph.remove_nodes_from(dead)
        lonely = [u for u, d in self.graph.degree if d == 0]
        self.graph.remove_nodes_from(lonely)
        return bool(dead)

    def _update_organisms(self) -> None:
        comps = [c for c in nx.connected_components(self.graph) if len(c) >= 2]
        comps.sort(key=lambda c: (-len(c), min(c)))
        org_of: dict[int, int] = {}
        orgs: dict[int, frozenset[int]] = {}
        for comp in comps:
            old = sorted({self._org_of[u] for u in comp if u in self._org_of} - orgs.keys())
            if old:
                oid = old[0]
            else:
                oid, self._next_org = self._next_org, self._next_org + 1
            orgs[oid] = frozenset(comp)
            org_of.update(dict.fromkeys(comp, oid))
        self._org_of, self._orgs = org_of, orgs

    # ---- observables ---------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        """Number of living particles per type (latest classification)."""
        return self.store.counts(self.config.epsilon)

    def _observe(self, events: dict[int, ops.Events]) -> None:
        cfg, store = self.config, self.store
        slots = store.alive_slots()
        codes, stats = classify_with_stats(
            self.spec, store.weights[slots], cfg.epsilon, strict=cfg.strict
        )
        store.ptype[slots] = codes
        obs = summary(codes, stats["mse"], stats["rho"])
        names = [*(op for op in ops.OPERATOR_CODES if op in cfg.enabled()), *cfg.rules]
        for name in names:
            code = (ops.OPERATOR_CODES + tuple(cfg.rules)).index(name)
            ev = events.get(code)
            obs[f"actions_{name}"] = float(ev.actor.shape[0]) if ev is not None else 0.0
            obs[f"applied_{name}"] = float(ev.applied.sum()) if ev is not None else 0.0
        if cfg.respawn:
            causes = self._respawn_causes
            obs["respawn_divergent"] = float((causes == ops.DIVERGENT).sum())
            obs["respawn_zero"] = float((causes == ops.ZERO).sum())
        if cfg.merge_rate > 0:
            sizes = [len(m) for m in self._orgs.values()]
            obs["n_organisms"] = float(len(sizes))
            obs["largest_organism"] = float(max(sizes, default=0))
        self.observables = obs

    def _new_collector(self) -> None:
        reporters: dict[str, Any] = {
            name: (lambda m, n=name: m.observables[n]) for name in observable_names(self.config)
        }
        if self.config.merge_rate > 0:
            reporters["organism_sizes"] = lambda m: sorted(len(v) for v in m._orgs.values())
        self.datacollector = mesa.DataCollector(model_reporters=reporters)
        self.datacollector.collect(self)

    # ---- checkpoints ---------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        """Everything needed to continue this soup exactly (numpy arrays, ints, JSON)."""
        org_uids = np.asarray(list(self._org_of), dtype=np.int64)
        return {
            "tick": int(self.steps),
            "store": self.store.state_dict(),
            "rng": self.rngs.state(),
            "bonds": self.bonds(),
            "org_uid": org_uids,
            "org_id": np.asarray([self._org_of[u] for u in org_uids.tolist()], dtype=np.int64),
            "next_org": int(self._next_org),
            "observables": json.dumps(self.observables),
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Continue from ``state()`` output (same config, seed and device type)."""
        self.steps = int(state["tick"])
        self.store = ParticleStore.from_state(self.spec, state["store"], self.device)
        self.rngs.restore(state["rng"])
        self.graph = nx.Graph()
        self.graph.add_edges_from(np.asarray(state["bonds"]).reshape(-1, 2).tolist())
        org_of = dict(
            zip(np.asarray(state["org_uid"]).tolist(), np.asarray(state["org_id"]).tolist(),
                strict=True)
        )  # fmt: skip
        self._org_of, self._next_org = org_of, int(state["next_org"])
        orgs: dict[int, set[int]] = {}
        for uid, oid in org_of.items():
            orgs.setdefault(oid, set()).add(uid)
        self._orgs = {k: frozenset(v) for k, v in orgs.items()}
        self.last_events, self.last_lineage = [], []
        self.observables = json.loads(state["observables"])
        self._new_collector()


def _tty() -> bool:
    return bool(getattr(sys.stderr, "isatty", lambda: False)())


__all__ = ["Soup", "observable_names"]
