"""The quine operator catalogue: what quines of one run may do to themselves and each other.

A quine cannot read another network's weights, so the particle soup's ``attack`` (A◁B) has no
quine counterpart (``science/quine.md``, relation to the particle networks). What is defined:

* ``regenerate`` — θ_A ← f_A(C): the member's weights replaced at once by its own predictions;
* ``self_train`` — ``epochs`` extra optimiser epochs of the member on its own weights;
* ``learn_from`` — ``epochs`` optimiser epochs of A with B's weights as frozen targets
  (f_A(c) → θ_B,c); all quines of a run have equal N and share the projection;
* ``overwrite`` — θ_B ← f_A(C): B is replaced by A's offspring (A prints itself into B's
  slot); B's optimiser state starts afresh, and B inherits A's founder (``ancestor``).

Every entry is a ``catalogue.Operator`` (name, stable code, parameters, ``run``) over a
``QuineTick`` instead of the soup's ``Tick``; the codes below never change. Pair operators
draw with the soup's pairing (``per_actor`` or ``single``; the counterpart is never the
actor); several overwrites of one target: the smallest uniform key wins, and every overwrite
of a tick reads the weights as they were before it. Per-member twins: ``tests/reference/
quine_soup.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from neurosoup.particles import ConfigError, QuineOptimiser, QuinePopulation, draw_epoch
from neurosoup.particles.quine_train import train_epoch

from .catalogue import Operator, Outcome, Param, pairing, rate
from .checks import check_int, suggest
from .operators import Events
from .pairing import draw_actors, draw_pairs, winners


@dataclass
class QuineTick:
    """What a quine operator sees during one model step (after that step's epoch).

    ``members`` [Q] are the member indices (every member is always alive); ``ancestor`` [Q]
    int64 is each member's founder (updated in place by ``overwrite``).
    """

    pop: QuinePopulation
    opt: QuineOptimiser
    gen: torch.Generator
    step: int
    members: Tensor
    ancestor: Tensor
    minibatch: int


def _epochs(t: QuineTick, rows: Tensor, epochs: int, targets: Tensor | None) -> None:
    """``epochs`` optimiser epochs of members ``rows`` (own state rows), written back."""
    if rows.numel() == 0 or epochs == 0:
        return
    pop = t.pop
    sub = QuinePopulation(pop.spec, pop.weights.index_select(0, rows), pop.projection)
    opt = t.opt.subset(rows)
    for _ in range(epochs):
        draws = draw_epoch(sub, t.gen)
        train_epoch(sub, opt, draws, t.gen, minibatch=t.minibatch, targets=targets)
    pop.weights = pop.weights.index_copy(0, rows, sub.weights)
    t.opt.put(rows, opt)


def _self_events(actors: Tensor) -> Events:
    ones = torch.ones_like(actors, dtype=torch.bool)
    return Events(-1, actors, actors.clone(), actors.clone(), ones)


def _regenerate(t: QuineTick, p: dict[str, Any]) -> Outcome:
    actors = draw_actors(t.members, p["pairing"], p["rate"], t.gen)
    if actors.numel():
        pred = t.pop.predict_weights(weights=t.pop.weights.index_select(0, actors))
        t.pop.weights = t.pop.weights.index_copy(0, actors, pred)
    return Outcome(_self_events(actors))


def _self_train(t: QuineTick, p: dict[str, Any]) -> Outcome:
    actors = draw_actors(t.members, p["pairing"], p["rate"], t.gen)
    _epochs(t, actors, p["epochs"], None)
    return Outcome(_self_events(actors))


def _learn_from(t: QuineTick, p: dict[str, Any]) -> Outcome:
    pairs = draw_pairs(t.members, p["pairing"], p["rate"], t.gen)
    a, b = pairs.actors, pairs.counterparts
    teachers = t.pop.weights.index_select(0, b).clone()
    _epochs(t, a, p["epochs"], teachers)
    return Outcome(Events(-1, a, b, a.clone(), torch.ones_like(a, dtype=torch.bool)))


def _overwrite(t: QuineTick, p: dict[str, Any]) -> Outcome:
    pairs = draw_pairs(t.members, p["pairing"], p["rate"], t.gen)
    a, b = pairs.actors, pairs.counterparts
    win = winners(b, pairs.keys)
    wa, wb = a[win], b[win]
    if wa.numel():
        child = t.pop.predict_weights(weights=t.pop.weights.index_select(0, wa))
        t.pop.weights = t.pop.weights.index_copy(0, wb, child)
        t.opt.reset(wb)
        t.ancestor.index_copy_(0, wb, t.ancestor.index_select(0, wa))
    return Outcome(Events(-1, a, b, b.clone(), win))


def _epochs_param() -> Param:
    return Param("epochs", 1, lambda n, v: check_int(n, v, 1), "optimiser epochs per event")


QUINE_OPERATORS: dict[str, Operator] = {
    op.name: op
    for op in (
        Operator("regenerate", 0, 10, (rate(), pairing("per_actor")), _regenerate,
                 doc="θ_A ← f_A(C): all weights replaced by the member's own predictions"),
        Operator("self_train", 1, 20, (rate(), pairing("per_actor"), _epochs_param()),
                 _self_train, doc="extra optimiser epochs of A on its own weights"),
        Operator("learn_from", 2, 30, (rate(), pairing("per_actor"), _epochs_param()),
                 _learn_from, doc="optimiser epochs of A with B's weights as targets"),
        Operator("overwrite", 3, 40, (rate(), pairing("per_actor")), _overwrite,
                 doc="θ_B ← f_A(C): B becomes A's offspring (one uniform winner per target)"),
    )
}  # fmt: skip


def lookup(name: object) -> Operator:
    """The quine operator ``name``; unknown names raise a did-you-mean."""
    if isinstance(name, str) and name in QUINE_OPERATORS:
        return QUINE_OPERATORS[name]
    known = list(QUINE_OPERATORS)
    hint = " attack (A◁B) is undefined for quines: a quine cannot read another's weights." if (
        name == "attack") else ""  # fmt: skip
    raise ConfigError(
        f"unknown quine operator `{name}`.{suggest(str(name), known)}{hint} Known: "
        f"{', '.join(known)}"
    )


def resolve_schedule(value: Any) -> tuple[dict[str, Any], ...]:
    """``operators`` (a list of ``{"name": …, params}``) → resolved entries, enabled only."""
    if not isinstance(value, list | tuple):
        raise ConfigError(
            f"quine operators must be a list of entries, got {type(value).__name__}; e.g. "
            '[{"name": "overwrite", "rate": 0.01}]'
        )
    out = []
    seen = set()
    for entry in value:
        if not isinstance(entry, dict) or "name" not in entry:
            raise ConfigError(
                'each quine operator entry needs a name, e.g. {"name": "overwrite", '
                f'"rate": 0.01}}; got {entry!r}'
            )
        given = dict(entry)
        name = given.pop("name")
        op = lookup(name)
        if name in seen:
            raise ConfigError(f"quine operator `{name}` is listed twice; list it once")
        seen.add(name)
        params = op.resolve(given)
        if op.enabled(params):
            out.append({"name": name, **params})
    return tuple(out)


def event_names() -> dict[str, str]:
    """``/events`` attrs['operators']: code (string) → name."""
    return {str(op.code): op.name for op in QUINE_OPERATORS.values()}


__all__ = ["QUINE_OPERATORS", "QuineTick", "event_names", "lookup", "resolve_schedule"]
