"""The built-in soup operators as batched functions over a ``ParticleStore``.

Each operator is split in two: ``draw_*`` takes every random number it needs from the soup's
generator (pairs, keys, masks, orders, fresh inits), and the operator itself applies those
draws to the store. The per-particle twins in ``tests/reference/soup.py`` take the same draws.
Operators read the state at their own start and write all their changes at once
(``science/soup.md`` §3); an actor that is also changed acts with its start weights. Writes go
through ``ParticleStore.update`` / ``replace``. The catalogue (``catalogue.py``) wraps each
kernel with its draws, parameters and ``/events`` code; ``Events.operator`` is set there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from neurosoup.particles import (
    ParticleSpec,
    ParticleStore,
    apply_weightwise,
    collapsed,
    learn_from_step,
    row_blocks,
    runformat,
    second_order_step,
    self_train_step,
    self_train_steps,
    train_pass,
)

from .pairing import Pairs, winners

UNSET = -1  # Events.operator before the catalogue sets the code
SEED, RESPAWN, OFFSPRING = runformat.SEED, runformat.RESPAWN, runformat.OFFSPRING
DIVERGENT, ZERO, REPLACED = runformat.DIVERGENT, runformat.ZERO, runformat.REPLACED


@dataclass
class Events:
    """One operator's actions: all [M] int64 uids (−1 none) and [M] bool ``applied``."""

    operator: int
    actor: Tensor
    counterpart: Tensor
    changed: Tensor
    applied: Tensor


@dataclass
class Lineage:
    """Births [B] (uid, parent, co-parent, cause) and deaths [D] (uid, cause) of one tick."""

    birth_uid: Tensor
    birth_parent: Tensor
    birth_co_parent: Tensor
    birth_cause: Tensor
    death_uid: Tensor
    death_cause: Tensor


def _none_like(x: Tensor) -> Tensor:
    return torch.full_like(x, -1)


# ---- attack and apply_to_other --------------------------------------------------------------
def attack(store: ParticleStore, spec: ParticleSpec, pairs: Pairs) -> Events:
    """w_B ← A◁B for every pair; one uniform winner per target (smallest key)."""
    a, b = pairs.actors, pairs.counterparts
    uid_a, uid_b = store.uid[a].clone(), store.uid[b].clone()
    new = apply_weightwise(spec, store.weights[a], store.weights[b])
    win = winners(b, pairs.keys)
    store.update(b[win], new[win])
    return Events(UNSET, uid_a, uid_b, torch.where(win, uid_b, _none_like(uid_b)), win)


def apply_to_other(store: ParticleStore, spec: ParticleSpec, pairs: Pairs) -> Events:
    """w_A ← A◁B for every pair (actors are distinct, so nothing collides)."""
    a, b = pairs.actors, pairs.counterparts
    new = apply_weightwise(spec, store.weights[a], store.weights[b])
    store.update(a, new)
    uid_a = store.uid[a].clone()
    return Events(UNSET, uid_a, store.uid[b].clone(), uid_a, torch.ones_like(a, dtype=torch.bool))


# ---- learn_from and self_train --------------------------------------------------------------
def draw_orders(steps: int, m: int, p: int, mode: str, gen: torch.Generator) -> Tensor | None:
    """Per-pass sample orders of ``epoch`` mode, [steps, m, p] int64 (None in ``full`` mode)."""
    if mode != "epoch" or m == 0:
        return None
    u = torch.rand(steps, m, p, generator=gen, device=gen.device, dtype=torch.float64)
    return torch.argsort(u, dim=2)


def _train(
    spec: ParticleSpec,
    w: Tensor,
    data: Tensor | None,
    steps: int,
    lr: float,
    momentum: float,
    buf: Tensor | None,
    orders: Tensor | None,
) -> tuple[Tensor, Tensor, Tensor | None]:
    """``steps`` steps (``orders`` None) or passes of self-train (data None) or learn-from."""
    if orders is None and data is None:  # plain steps: one call, the per-step work hoisted
        return self_train_steps(spec, w, steps, lr, momentum=momentum, buf=buf)
    loss = torch.zeros(w.shape[0], dtype=w.dtype, device=w.device)
    for s in range(steps):
        if orders is not None:
            target = w if data is None else data
            w, loss, buf = train_pass(
                spec, w, target, lr, momentum=momentum, buf=buf, order=orders[s]
            )
        elif data is None:
            w, loss, buf = self_train_step(spec, w, lr, momentum=momentum, buf=buf)
        else:
            w, loss, buf = learn_from_step(spec, w, data, lr, momentum=momentum, buf=buf)
    return w, loss, buf


def learn_from(
    store: ParticleStore,
    spec: ParticleSpec,
    pairs: Pairs,
    severity: int,
    lr: float,
    momentum: float,
    orders: Tensor | None,
) -> Events:
    """``severity`` steps of A's self-train loss on B's start-of-operator weights; changes A."""
    a, b = pairs.actors, pairs.counterparts
    if a.numel():
        buf = store.momentum[a] if momentum > 0 else None
        teachers = store.weights[b].clone()
        w, _, buf = _train(spec, store.weights[a], teachers, severity, lr, momentum, buf, orders)
        store.update(a, w, buf)
    uid_a = store.uid[a].clone()
    return Events(UNSET, uid_a, store.uid[b].clone(), uid_a, torch.ones_like(a, dtype=torch.bool))


#: Rows per block of ``self_train`` (and of the soup's classification): a block runs through
#: all of a tick's steps while its working tensors stay in the CPU cache (4-2-1: 16384 rows ×
#: 14 weights × 4 bytes = 0.9 MB per tensor). At N = 10⁶ on one core, self-training runs
#: 1.6·10⁶ particle-steps/s unblocked, 6.4 / 7.9 / 8.1 / 8.3 / 8.2·10⁶ in blocks of 2048 /
#: 8192 / 16384 / 32768 / 65536 rows (measured on the shared 2-core machine). Rows never mix,
#: so blocking gives the same bits as one batched call.
BLOCK_ROWS = 16384


def self_train(
    store: ParticleStore,
    spec: ParticleSpec,
    steps: int,
    lr: float,
    momentum: float,
    orders: Tensor | None,
    *,
    block_rows: int | None = None,
) -> Tensor:
    """``steps`` self-train steps (or passes) of every living particle, batched.

    Above ``block_rows`` living particles (default ``BLOCK_ROWS``; 0 never blocks) the rows go
    through all the steps in near-equal blocks (``row_blocks``), so the working tensors stay
    cache-sized; each row's arithmetic is the same as in one call over all rows
    (``tests/chemistry/test_big_soup.py``). Weightwise particles on the CPU only.
    Returns the loss of the last step (before its update) per living particle, [N].
    """
    slots = store.alive_slots()
    n = slots.shape[0]
    # a full store needs no gather/scatter: train the tensor itself (inputs are not modified)
    full = n == store.capacity
    blocks = row_blocks(n, BLOCK_ROWS if block_rows is None else block_rows)
    if len(blocks) == 1 or spec.kind != "weightwise" or store.device.type != "cpu":
        rows = slice(None) if full else slots
        buf = store.momentum[rows] if momentum > 0 else None
        w, loss, buf = _train(spec, store.weights[rows], None, steps, lr, momentum, buf, orders)
        store.update(rows, w, buf)
        return loss
    losses = []
    for lo, hi in blocks:
        rows = slice(lo, hi) if full else slots[lo:hi]
        buf = store.momentum[rows] if momentum > 0 else None
        part = None if orders is None else orders[:, lo:hi]
        w, loss, buf = _train(spec, store.weights[rows], None, steps, lr, momentum, buf, part)
        store.update(rows, w, buf)
        losses.append(loss)
    return torch.cat(losses)


def second_order_train(
    store: ParticleStore, spec: ParticleSpec, steps: int, lr: float, momentum: float
) -> Tensor:
    """``steps`` second-order (2-cycle) steps of every living particle, one batched call each.

    Always full-batch steps (``second_order_step``): the objective needs the whole first
    image f(w) as the second application's weight column. A non-finite particle keeps its
    weights and momentum row. Returns the last step's loss per living particle, [N].
    """
    slots = store.alive_slots()
    rows = slice(None) if slots.shape[0] == store.capacity else slots
    w = store.weights[rows]
    buf = store.momentum[rows] if momentum > 0 else None
    loss = torch.zeros(w.shape[0], dtype=w.dtype, device=w.device)
    for _ in range(steps):
        w, loss, buf = second_order_step(spec, w, lr, momentum=momentum, buf=buf)
    store.update(rows, w, buf)
    return loss


# ---- melt, self_apply, merge ----------------------------------------------------------------
def draw_melt_mask(m: int, p: int, gen: torch.Generator) -> Tensor:
    """Keep-masks [m, p] bool: the first ⌊p/2⌋ positions of a random permutation per row."""
    u = torch.rand(m, p, generator=gen, device=gen.device, dtype=torch.float64)
    perm = torch.argsort(u, dim=1)
    mask = torch.zeros(m, p, dtype=torch.bool, device=gen.device)
    return mask.scatter_(1, perm[:, : p // 2], True)


def melt(
    store: ParticleStore,
    pairs: Pairs,
    mask: Tensor,
    tick: int,
    thirds: Tensor | None = None,
) -> tuple[Events, Lineage | None]:
    """W ← m⊙w_A + (1−m)⊙w_B; in place on A, or (``thirds`` given) as a child replacing D.

    mask: [M, P] bool keep-masks; thirds: [M] slots of the particles the children replace
    (one uniform winner per third slot). Returns the events and, for offspring, the lineage.
    """
    a, b = pairs.actors, pairs.counterparts
    child = torch.where(mask, store.weights[a], store.weights[b])
    uid_a, uid_b = store.uid[a].clone(), store.uid[b].clone()
    if thirds is None:
        store.update(a, child)
        return Events(UNSET, uid_a, uid_b, uid_a, torch.ones_like(a, dtype=torch.bool)), None
    win = winners(thirds, pairs.keys)
    dead = thirds[win]
    dead_uid = store.uid[dead].clone()
    new_uid = store.replace(dead, child[win], uid_a[win], tick)
    changed = _none_like(uid_a)
    changed[win] = new_uid
    lineage = Lineage(
        new_uid, uid_a[win], uid_b[win], torch.full_like(new_uid, OFFSPRING),
        dead_uid, torch.full_like(dead_uid, REPLACED),
    )  # fmt: skip
    return Events(UNSET, uid_a, uid_b, changed, win), lineage


def self_apply(store: ParticleStore, spec: ParticleSpec, actors: Tensor) -> Events:
    """w_A ← A◁A for every actor. actors: [M] int64 slots."""
    store.update(actors, apply_weightwise(spec, store.weights[actors], store.weights[actors]))
    uid = store.uid[actors].clone()
    return Events(UNSET, uid, _none_like(uid), uid, torch.ones_like(actors, dtype=torch.bool))


def merge_pairs(store: ParticleStore, pairs: Pairs, existing: set[tuple[int, int]]) -> Events:
    """The bonds {A, B} a merge adds; ``applied`` is False for a bond that already exists.

    existing: the current bonds as (smaller uid, larger uid). Returns events whose
    actor/counterpart rows are the bonds to add where ``applied``.
    """
    uid_a, uid_b = store.uid[pairs.actors].clone(), store.uid[pairs.counterparts].clone()
    lo, hi = torch.minimum(uid_a, uid_b).tolist(), torch.maximum(uid_a, uid_b).tolist()
    seen = set(existing)
    applied = []
    for edge in zip(lo, hi, strict=True):  # one set lookup per bond, not per particle
        applied.append(edge not in seen)
        seen.add(edge)
    flag = torch.tensor(applied, dtype=torch.bool, device=uid_a.device)
    return Events(UNSET, uid_a, uid_b, _none_like(uid_a), flag)


def mutate(store: ParticleStore, actors: Tensor, noise: Tensor, sigma: float) -> Events:
    """w_A ← w_A + σ·z for every actor. actors: [M] int64 slots; noise: [M, P] standard normals."""
    store.update(actors, store.weights[actors] + sigma * noise)
    uid = store.uid[actors].clone()
    return Events(UNSET, uid, _none_like(uid), uid, torch.ones_like(actors, dtype=torch.bool))


def rule_attack(
    store: ParticleStore, rule: Callable[..., Tensor], pairs: Pairs, noise: Tensor
) -> Events:
    """A custom pair rule with attack's semantics: w_B ← rule(w_A, w_B, noise); uniform winner.

    noise: [M, K] pre-drawn standard normals.
    """
    a, b = pairs.actors, pairs.counterparts
    uid_a, uid_b = store.uid[a].clone(), store.uid[b].clone()
    new = rule(store.weights[a], store.weights[b], noise)
    win = winners(b, pairs.keys)
    store.update(b[win], new[win].to(store.dtype))
    return Events(UNSET, uid_a, uid_b, torch.where(win, uid_b, _none_like(uid_b)), win)


def rule_self(
    store: ParticleStore, rule: Callable[..., Tensor], actors: Tensor, noise: Tensor
) -> Events:
    """A custom particle rule: w_A ← rule(w_A, noise) for every actor. actors: [M] slots."""
    new = rule(store.weights[actors], noise)
    store.update(actors, new.to(store.dtype))
    uid = store.uid[actors].clone()
    return Events(UNSET, uid, _none_like(uid), uid, torch.ones_like(actors, dtype=torch.bool))


# ---- respawn --------------------------------------------------------------------------------
def draw_respawn(
    store: ParticleStore,
    spec: ParticleSpec,
    gen: torch.Generator,
    *,
    divergent: bool,
    zero: bool,
    epsilon: float,
    strict: bool,
) -> tuple[Tensor, Tensor, Tensor]:
    """Slots to respawn [D], their death causes [D] int8 and fresh inits [D, P]."""
    slots = store.alive_slots()
    is_div, is_zero = collapsed(store.weights[slots], epsilon, strict)
    dead = torch.zeros_like(is_div)
    if divergent:
        dead |= is_div
    if zero:
        dead |= is_zero
    cause = torch.where(is_div[dead], DIVERGENT, ZERO).to(torch.int8)
    n = int(dead.sum())
    fresh = spec.init(n, gen, dtype=store.dtype, device=store.device)
    return slots[dead], cause, fresh


def respawn(
    store: ParticleStore, slots: Tensor, cause: Tensor, fresh: Tensor, tick: int
) -> tuple[Events, Lineage]:
    """Replace ``slots`` by fresh particles (new uid, no parent, zero momentum)."""
    old = store.uid[slots].clone()
    new = store.replace(slots, fresh, torch.full_like(old, -1), tick)
    lineage = Lineage(
        new, _none_like(new), _none_like(new), torch.full_like(new, RESPAWN), old, cause
    )
    return Events(UNSET, old, _none_like(old), new, torch.ones_like(old, dtype=torch.bool)), lineage


__all__ = [
    "BLOCK_ROWS",
    "Events",
    "Lineage",
    "apply_to_other",
    "attack",
    "draw_melt_mask",
    "draw_orders",
    "draw_respawn",
    "learn_from",
    "melt",
    "merge_pairs",
    "mutate",
    "respawn",
    "rule_attack",
    "rule_self",
    "second_order_train",
    "self_apply",
    "self_train",
]
