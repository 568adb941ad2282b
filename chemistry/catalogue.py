"""The operator catalogue: every soup operator, built-in or user rule, as one definition.

An ``Operator`` says its name, its stable ``/events`` code, its parameters (defaults and
checks), where it sits in a tick by default (``rank``), how it draws and applies (``run``) and
the observables it adds. A soup's config lists a schedule of ``OperatorSpec`` entries (name +
resolved parameters); ``Soup.step()`` runs them in order. User rules (``chemistry/rules.py``)
register ``Operator`` objects in ``RULES``; they get codes from ``RULE_CODE_BASE`` on in the
order the schedule lists them, so built-ins can be added without renumbering anything.

Adding a built-in touches four places: its kernel (``operators.py``), one ``Operator(...)``
below (with its ``run`` function), its per-particle twin ``ref_<name>`` in
``tests/reference/soup.py`` and a case in ``tests/chemistry/test_operators.py``; the tests
over the catalogue require the last two, and ``check_catalogue`` refuses a duplicate name,
code or rank at import. The operator table in ``docs/runfile.md`` is generated
(``python -m neurosoup.chemistry.catalogue_docs``).

A soup holds particles of one kind (``ParticleSpec.kind``: weightwise, aggregating,
recurrent). Every operator that applies one particle to another works for all three (the
particle core dispatches on the kind); an operator that needs one kind says so in ``kinds``,
and ``SoupConfig`` refuses a schedule that lists it for another kind when it is built.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from neurosoup.particles import (
    PARTICLE_KINDS,
    ConfigError,
    ParticleSpec,
    ParticleStore,
    runformat,
)

from . import growth
from . import operators as ops
from .checks import PAIRINGS, check_bool, check_choice, check_int, check_positive, check_rate
from .checks import suggest as _suggest
from .organisms import Organisms
from .pairing import draw_actors, draw_pairs, draw_third

MELT_MODES = ("in_place", "offspring")
TRAIN_MODES = ("full", "epoch")
#: codes of user rules start here, in schedule order (int8 column: at most 27 rules)
RULE_CODE_BASE = 100
#: built-ins with a code below this are always named in a run file's ``/events`` code table
#: (as they always were); later built-ins only when the schedule runs them, so adding a
#: built-in never changes the files of existing scenarios
LISTED_CODES_BELOW = 9
RULE_RANK = 60  # user rules run after merge, before self_apply (as before the catalogue)


@dataclass(frozen=True)
class Param:
    """One parameter of an operator: default (None = required) and a check(name, value)."""

    name: str
    default: Any
    check: Callable[[str, Any], None]
    doc: str = ""


@dataclass
class Tick:
    """What an operator sees of the soup during one tick.

    ``alive`` [N] are the living slots at the start of the tick (births replace in place, so
    the list stays valid). ``lr``, ``momentum`` and ``train_mode`` are the particles'
    optimizer settings, shared by self_train and learn_from.
    """

    store: ParticleStore
    spec: ParticleSpec
    gen: torch.Generator
    tick: int
    alive: Tensor
    dtype: torch.dtype
    lr: float
    momentum: float
    train_mode: str
    epsilon: float
    strict: bool
    organisms: Organisms


@dataclass
class Outcome:
    """What one operator did in one tick: events, births/deaths, bond changes, extras."""

    events: ops.Events | None = None
    lineage: ops.Lineage | None = None
    bonds_changed: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


Observe = Callable[[str, "Outcome | None", Any], dict[str, float]]


def count_actions(name: str, outcome: Outcome | None, soup: Any) -> dict[str, float]:
    """``actions_<op>`` (events drawn) and ``applied_<op>`` (events that took effect)."""
    ev = outcome.events if outcome is not None else None
    return {
        f"actions_{name}": float(ev.actor.shape[0]) if ev is not None else 0.0,
        f"applied_{name}": float(ev.applied.sum()) if ev is not None else 0.0,
    }


def _action_names(name: str) -> tuple[str, ...]:
    return (f"actions_{name}", f"applied_{name}")


@dataclass(frozen=True)
class Operator:
    """One catalogue entry.

    Attributes:
        name: what a schedule lists (``[[operators]] name = "attack"``).
        code: stable ``/events`` code (None for user rules: assigned per schedule).
        rank: default tick position when an operator is added by a key (``attack.rate=…``).
        params: its parameters, in order.
        run: ``run(tick, params) -> Outcome``: takes its draws from ``tick.gen``, then applies.
        observable_names: ``names(op_name) -> tuple`` of the observables it adds.
        observe: ``observe(op_name, outcome or None, soup) -> {name: value}``.
        enabled: ``enabled(params) -> bool``; a disabled entry is dropped from the schedule.
        doc: one line for ``docs/extending.md`` and error messages.
        digest: source digest of a user rule (recorded; resume refuses a changed rule).
        kinds: the particle kinds it runs on (None: every kind, ``particles.PARTICLE_KINDS``).
        writes_events: whether it writes ``/events`` rows (training operators do not).
    """

    name: str
    code: int | None
    rank: int
    params: tuple[Param, ...]
    run: Callable[[Tick, dict[str, Any]], Outcome]
    observable_names: Callable[[str], tuple[str, ...]] = _action_names
    observe: Observe = count_actions
    enabled: Callable[[dict[str, Any]], bool] = lambda p: p["rate"] > 0
    doc: str = ""
    digest: str | None = None
    kinds: tuple[str, ...] | None = None
    writes_events: bool = True

    def check_particle(self, spec: ParticleSpec) -> None:
        """Raise a one-line ``ConfigError`` when this operator cannot act on ``spec``'s kind."""
        if self.kinds is not None and spec.kind not in self.kinds:
            others = [k for k in PARTICLE_KINDS if k in self.kinds]
            raise ConfigError(
                f"operator `{self.name}` works on {' and '.join(others)} particles only, not "
                f"kind {spec.kind!r}; drop it from the schedule or use particle.kind = "
                f"{others[0]!r}"
            )

    def param_names(self) -> tuple[str, ...]:
        """Names of its parameters, in order."""
        return tuple(p.name for p in self.params)

    def resolve(self, given: dict[str, Any]) -> dict[str, Any]:
        """Every parameter, defaults filled in and checked; unknown names raise."""
        names = self.param_names()
        for key in given:
            if key not in names:
                raise ConfigError(
                    f"operator `{self.name}` has no parameter `{key}`."
                    f"{_suggest(key, names)} Its parameters: {', '.join(names) or 'none'}"
                )
        out: dict[str, Any] = {}
        for p in self.params:
            if p.name in given:
                value = given[p.name]
            elif p.default is None:
                raise ConfigError(
                    f"operator `{self.name}` needs `{p.name}` ({p.doc}); e.g. "
                    f"--set {self.name}.{p.name}=0.1 or {p.name} = … in its [[operators]] entry"
                )
            else:
                value = p.default
            p.check(f"{self.name}.{p.name}", value)
            out[p.name] = value
        return out


# ---- parameter kinds ------------------------------------------------------------------------
def rate(default: float | None = None) -> Param:
    """The probability of the operator's pairing mode (required unless ``default``)."""
    return Param("rate", default, check_rate, "a probability in [0, 1]")


def pairing(default: str) -> Param:
    """``per_actor`` (each particle acts with probability p) or ``single`` (one event)."""
    return Param(
        "pairing", default, lambda n, v: check_choice(n, v, PAIRINGS), "per_actor or single"
    )


def _int_at_least(low: int) -> Callable[[str, Any], None]:
    return lambda n, v: check_int(n, v, low)


# ---- built-in operators ---------------------------------------------------------------------
def _attack(t: Tick, p: dict[str, Any]) -> Outcome:
    pairs = draw_pairs(t.alive, p["pairing"], p["rate"], t.gen)
    return Outcome(ops.attack(t.store, t.spec, pairs))


def _apply_to_other(t: Tick, p: dict[str, Any]) -> Outcome:
    pairs = draw_pairs(t.alive, p["pairing"], p["rate"], t.gen)
    return Outcome(ops.apply_to_other(t.store, t.spec, pairs))


def _learn_from(t: Tick, p: dict[str, Any]) -> Outcome:
    pairs = draw_pairs(t.alive, p["pairing"], p["rate"], t.gen)
    orders = ops.draw_orders(p["severity"], len(pairs), t.spec.n_weights, t.train_mode, t.gen)
    return Outcome(
        ops.learn_from(t.store, t.spec, pairs, p["severity"], t.lr, t.momentum, orders)
    )


def _melt(t: Tick, p: dict[str, Any]) -> Outcome:
    pairs = draw_pairs(t.alive, p["pairing"], p["rate"], t.gen)
    mask = ops.draw_melt_mask(len(pairs), t.spec.n_weights, t.gen)
    thirds = draw_third(t.alive, pairs, t.gen) if p["mode"] == "offspring" else None
    events, born = ops.melt(t.store, pairs, mask, t.tick, thirds)
    return Outcome(events, born)


def _merge(t: Tick, p: dict[str, Any]) -> Outcome:
    pairs = draw_pairs(t.alive, p["pairing"], p["rate"], t.gen)
    events = ops.merge_pairs(t.store, pairs, t.organisms.bond_set())
    t.organisms.add(events.actor[events.applied], events.counterpart[events.applied])
    return Outcome(events, bonds_changed=bool(events.applied.any()))


def _observe_merge(name: str, outcome: Outcome | None, soup: Any) -> dict[str, float]:
    sizes = soup.organisms.sizes()
    return {
        **count_actions(name, outcome, soup),
        "n_organisms": float(len(sizes)),
        "largest_organism": float(max(sizes, default=0)),
    }


def _grow(t: Tick, p: dict[str, Any]) -> Outcome:
    held = growth.held_mask(t.store, t.alive, t.organisms.where)
    draws = growth.draw_grow(t.alive, held, p["rate"], p["found_rate"], t.gen)
    events = growth.grow(t.store, t.organisms.graph, t.organisms.where, draws, p["shape"])
    return Outcome(events, bonds_changed=bool(events.applied.any()))


def _observe_grow(name: str, outcome: Outcome | None, soup: Any) -> dict[str, float]:
    org, shape = soup.organisms, soup.config.op(name)["shape"]
    return {**_observe_merge(name, outcome, soup),
            "complete_organisms": float(growth.complete_count(org.graph, org.where, shape))}


def _self_apply(t: Tick, p: dict[str, Any]) -> Outcome:
    actors = draw_actors(t.alive, p["pairing"], p["rate"], t.gen)
    return Outcome(ops.self_apply(t.store, t.spec, actors))


def _mutate(t: Tick, p: dict[str, Any]) -> Outcome:
    actors = draw_actors(t.alive, p["pairing"], p["rate"], t.gen)
    noise = torch.randn(
        actors.shape[0], t.spec.n_weights, generator=t.gen, device=t.gen.device, dtype=t.dtype
    )
    return Outcome(ops.mutate(t.store, actors, noise, p["sigma"]))


def _self_train(t: Tick, p: dict[str, Any]) -> Outcome:
    orders = ops.draw_orders(p["steps"], t.alive.shape[0], t.spec.n_weights, t.train_mode, t.gen)
    ops.self_train(t.store, t.spec, p["steps"], t.lr, t.momentum, orders)
    return Outcome()


def _second_order_train(t: Tick, p: dict[str, Any]) -> Outcome:
    ops.second_order_train(t.store, t.spec, p["steps"], t.lr, t.momentum)
    return Outcome()


def _respawn(t: Tick, p: dict[str, Any]) -> Outcome:
    slots, cause, fresh = ops.draw_respawn(
        t.store, t.spec, t.gen, divergent=p["divergent"], zero=p["zero"],
        epsilon=t.epsilon, strict=t.strict,
    )  # fmt: skip
    events, born = ops.respawn(t.store, slots, cause, fresh, t.tick)
    return Outcome(events, born, extra={"causes": cause})


def _observe_respawn(name: str, outcome: Outcome | None, soup: Any) -> dict[str, float]:
    causes = outcome.extra["causes"] if outcome is not None else torch.zeros(0)
    return {
        "respawn_divergent": float((causes == runformat.DIVERGENT).sum()),
        "respawn_zero": float((causes == runformat.ZERO).sum()),
    }


def check_catalogue(operators: tuple[Operator, ...]) -> dict[str, Operator]:
    """The built-ins by name, after checking what the catalogue promises (else ``ConfigError``).

    Names, ``/events`` codes and ranks are unique; codes lie in [0, ``RULE_CODE_BASE``) (the
    int8 column; rules number from ``RULE_CODE_BASE``) and ranks differ from ``RULE_RANK``.
    Run at import: a duplicate code would label one operator's events as another's.
    """
    names = [op.name for op in operators]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ConfigError(
            f"operator catalogue: the name `{twice[0]}` is given to two built-ins; rename one"
        )
    seen: dict[tuple[str, Any], str] = {}
    for op in operators:
        if not isinstance(op.code, int) or not 0 <= op.code < RULE_CODE_BASE:
            raise ConfigError(
                f"operator catalogue: built-in `{op.name}` has code {op.code!r}; built-in codes "
                f"are ints in [0, {RULE_CODE_BASE}) (rules number from {RULE_CODE_BASE})"
            )
        if op.rank == RULE_RANK:
            raise ConfigError(
                f"operator catalogue: built-in `{op.name}` has rank {RULE_RANK}, the rank of "
                "user rules; give it a rank of its own"
            )
        for what, value in (("code", op.code), ("rank", op.rank)):
            other = seen.setdefault((what, value), op.name)
            if other != op.name:
                free = max(getattr(o, what) for o in operators) + (1 if what == "code" else 5)
                raise ConfigError(
                    f"operator catalogue: {what} {value!r} is given to both `{other}` and "
                    f"`{op.name}`; each built-in needs its own {what} (e.g. {free})"
                )
    return {op.name: op for op in operators}


BUILT_INS: dict[str, Operator] = check_catalogue(
    (
        Operator("attack", 0, 10, (rate(), pairing("single")), _attack,
                 doc="w_B ← A◁B for every pair; one uniform winner per target"),
        Operator("apply_to_other", 1, 20, (rate(), pairing("per_actor")), _apply_to_other,
                 doc="w_A ← A◁B: the actor changes"),
        Operator(
            "learn_from", 2, 30,
            (rate(), pairing("per_actor"),
             Param("severity", 1, _int_at_least(1), "steps (full) or passes (epoch) per event")),
            _learn_from, doc="severity self-train steps of A on B's weights",
        ),
        Operator(
            "melt", 3, 40,
            (rate(), pairing("single"),
             Param("mode", "in_place", lambda n, v: check_choice(n, v, MELT_MODES),
                   "in_place or offspring")),
            _melt, doc="W ← m⊙w_A + (1−m)⊙w_B, in place on A or as a child replacing a third",
        ),
        Operator("merge", 4, 50, (rate(), pairing("per_actor")), _merge,
                 observable_names=lambda n: (*_action_names(n), "n_organisms",
                                             "largest_organism"),
                 observe=_observe_merge, doc="bond A and B; organisms = bond components"),
        Operator("self_apply", 5, 70, (rate(), pairing("per_actor")), _self_apply,
                 doc="w_A ← A◁A"),
        Operator(
            "respawn", 6, 90,
            (Param("divergent", False, check_bool, "replace divergent particles"),
             Param("zero", False, check_bool, "replace zero particles")),
            _respawn, observable_names=lambda n: ("respawn_divergent", "respawn_zero"),
            observe=_observe_respawn, enabled=lambda p: p["divergent"] or p["zero"],
            doc="replace collapsed particles by fresh ones at the end of the tick",
        ),
        Operator(
            "self_train", 7, 80, (Param("steps", 20, _int_at_least(0), "steps or passes"),),
            _self_train, observable_names=lambda n: (), observe=lambda n, o, s: {},
            enabled=lambda p: p["steps"] > 0, writes_events=False,
            doc="steps self-train steps (or passes) of every living particle",
        ),
        Operator(
            "mutate", 8, 75,
            (rate(), pairing("per_actor"),
             Param("sigma", 0.01, lambda n, v: check_positive(n, v), "noise sd σ")),
            _mutate, doc="w ← w + N(0, σ²) for each chosen particle",
        ),
        Operator(
            "grow", 10, 55,
            (rate(0.1), Param("found_rate", 0.01, check_rate, "founding probability of a "
                              "particle in no organism"),
             Param("shape", [2, 3, 3, 1], growth.check_shape,
                           "neuron layer sizes of the ON shape organisms grow into")),
            _grow,
            observable_names=lambda n: (*_action_names(n), "n_organisms", "largest_organism",
                                        "complete_organisms"),
            observe=_observe_grow,
            doc="A recruits a free particle into an adjacent position of the ON shape its "
                "organism grows (a free A founds one); bonds join layer l to l + 1",
        ),
        Operator(
            "second_order_train", 9, 85,
            (Param("steps", 20, _int_at_least(0), "full-batch steps"),),
            _second_order_train, observable_names=lambda n: (), observe=lambda n, o, s: {},
            enabled=lambda p: p["steps"] > 0, kinds=("weightwise",), writes_events=False,
            doc="steps full-batch steps toward a 2-cycle, MSE(f(w), −w) + MSE(f(f(w)), w), "
                "of every living particle (any train_mode; non-finite particles stop)",
        ),
    )
)  # fmt: skip
#: registered user rules (``chemistry.rules``), name → Operator
RULES: dict[str, Operator] = {}
#: legacy flat keys that do not follow ``<operator>_<parameter>``
ALIASES = {"train_steps": ("self_train", "steps")}


def lookup(name: object) -> Operator:
    """The built-in operator or registered rule ``name``; unknown names raise a did-you-mean."""
    if isinstance(name, str):
        if name in BUILT_INS:
            return BUILT_INS[name]
        if name in RULES:
            return RULES[name]
    known = [*BUILT_INS, *RULES]
    raise ConfigError(
        f"unknown operator or rule `{name}`.{_suggest(str(name), known)} Known: "
        f"{', '.join(known)} (user rules must be imported before the soup is made, e.g. "
        "import neurosoup.scenarios)"
    )


def legacy_key(key: str) -> tuple[str, str] | None:
    """``attack_rate`` → (``attack``, ``rate``) for the flat keys of format 1; else None."""
    if key in ALIASES:
        return ALIASES[key]
    for name in sorted([*BUILT_INS, *RULES], key=len, reverse=True):
        if key.startswith(name + "_"):
            param = key[len(name) + 1 :]
            if param in lookup(name).param_names():
                return name, param
    return None


def legacy_keys() -> tuple[str, ...]:
    """Every flat key ``legacy_key`` understands (for did-you-mean suggestions)."""
    keys = [f"{op.name}_{p}" for op in BUILT_INS.values() for p in op.param_names()]
    return (*ALIASES, *keys)


__all__ = [
    "ALIASES",
    "BUILT_INS",
    "LISTED_CODES_BELOW",
    "MELT_MODES",
    "RULES",
    "RULE_CODE_BASE",
    "RULE_RANK",
    "TRAIN_MODES",
    "Operator",
    "Outcome",
    "Param",
    "Tick",
    "check_catalogue",
    "count_actions",
    "legacy_key",
    "legacy_keys",
    "lookup",
    "pairing",
    "rate",
]
