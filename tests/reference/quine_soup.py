"""Per-member twins of the quine operators (``chemistry/quine_operators.py``).

A population is a plain list of ``RefQuine`` objects (each with its own torch.optim), plus a
list of founders. Each operator loops over its events one by one; random numbers come from
the same generator calls as the batched code (``ref_draw_pairs`` / ``ref_draw_actors`` of the
soup twins, then one ``torch.rand(M, N)`` of sort keys per epoch of the M actors).
"""

from __future__ import annotations

import torch

from tests.reference.quine import RefQuine, make_torch_optimiser
from tests.reference.soup import ref_draw_actors, ref_draw_pairs, ref_winners


def ref_epoch_orders(m: int, n: int, gen: torch.Generator) -> list[torch.Tensor]:
    """One permutation per actor: the coordinates sorted by their uniform key."""
    keys = torch.rand(m, n, generator=gen)
    return [torch.argsort(keys[i]) for i in range(m)]


def ref_main_epoch(quines: list[RefQuine], gen: torch.Generator, minibatch: int) -> None:
    """The kind's epoch of every member (own targets)."""
    n = quines[0].flat().shape[0]
    for q, order in zip(quines, ref_epoch_orders(len(quines), n, gen), strict=True):
        q.epoch(order, minibatch=minibatch)


def _train(quines, actors, teachers, epochs, gen, minibatch):
    if not actors:
        return
    n = quines[0].flat().shape[0]
    for _ in range(epochs):
        orders = ref_epoch_orders(len(actors), n, gen)
        for i, a in enumerate(actors):
            target = None if teachers is None else teachers[i]
            quines[a].epoch(orders[i], minibatch=minibatch, targets=target)


def ref_regenerate(quines, ancestor, params, gen, minibatch):
    actors = ref_draw_actors(list(range(len(quines))), params["pairing"], params["rate"], gen)
    for a in actors:
        quines[a].regenerate()
    return [(a, a, a, True) for a in actors]


def ref_self_train(quines, ancestor, params, gen, minibatch):
    actors = ref_draw_actors(list(range(len(quines))), params["pairing"], params["rate"], gen)
    _train(quines, actors, None, params["epochs"], gen, minibatch)
    return [(a, a, a, True) for a in actors]


def ref_learn_from(quines, ancestor, params, gen, minibatch):
    pairs = ref_draw_pairs(list(range(len(quines))), params["pairing"], params["rate"], gen)
    teachers = [quines[b].flat().clone() for _, b, _ in pairs]
    _train(quines, [a for a, _, _ in pairs], teachers, params["epochs"], gen, minibatch)
    return [(a, b, a, True) for a, b, _ in pairs]


def ref_overwrite(quines, ancestor, params, gen, minibatch):
    pairs = ref_draw_pairs(list(range(len(quines))), params["pairing"], params["rate"], gen)
    win = ref_winners([b for _, b, _ in pairs], [k for _, _, k in pairs])
    children = {b: quines[a].predict_all() for (a, b, _), w in zip(pairs, win, strict=True) if w}
    founders = {b: ancestor[a] for (a, b, _), w in zip(pairs, win, strict=True) if w}
    for b, child in children.items():
        q = quines[b]
        q.set_flat(child)
        if q.opt is not None:  # a newborn starts its optimiser afresh
            q.opt = make_torch_optimiser(q.optimiser, q.mats, q.lr)
        ancestor[b] = founders[b]
    return [(a, b, b, w) for (a, b, _), w in zip(pairs, win, strict=True)]


REF_QUINE_OPERATORS = {
    "regenerate": ref_regenerate,
    "self_train": ref_self_train,
    "learn_from": ref_learn_from,
    "overwrite": ref_overwrite,
}
