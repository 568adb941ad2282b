"""Who acts on whom in one operator (``science/soup.md`` §3, pairing modes and collisions).

Positions index the sorted list of living slots; the functions here return store slots.
Every draw comes from the soup's ``torch.Generator`` and has a fixed shape for a given
population size, so the stream does not depend on earlier outcomes within an operator.

- ``per_actor(p)``: each living particle acts with probability p; its counterpart j is drawn
  uniformly from {0…N−2} and shifted by one when j ≥ the actor's position (never itself).
- ``single(p)``: with probability p exactly one event: one actor, one distinct counterpart.
- Collisions: when several actors hit one target, the smallest uniform key wins.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass(frozen=True)
class Pairs:
    """The draws of one pair operator.

    Attributes:
        actors: [M] int64 slots of the acting particles.
        counterparts: [M] int64 slots of their counterparts.
        keys: [M] float64 uniform collision keys (smallest wins).
    """

    actors: Tensor
    counterparts: Tensor
    keys: Tensor

    def __len__(self) -> int:
        return int(self.actors.shape[0])


def _uniform(n: int, gen: torch.Generator) -> Tensor:
    return torch.rand(n, generator=gen, device=gen.device, dtype=torch.float64)


def draw_actor_positions(n: int, mode: str, p: float, gen: torch.Generator) -> Tensor:
    """Positions (in the alive list) of this operator's actors. Returns [M] int64.

    ``per_actor`` draws N uniforms; ``single`` draws one uniform and one position.
    """
    if mode == "per_actor":
        return torch.nonzero(_uniform(n, gen) < p, as_tuple=False)[:, 0]
    u = _uniform(1, gen)
    i = torch.randint(0, n, (1,), generator=gen, device=gen.device)
    return i[u < p]


def draw_actors(alive_slots: Tensor, mode: str, p: float, gen: torch.Generator) -> Tensor:
    """Slots of the actors of a one-particle operator (self_apply). Returns [M] int64."""
    return alive_slots[draw_actor_positions(alive_slots.shape[0], mode, p, gen)]


def draw_pairs(alive_slots: Tensor, mode: str, p: float, gen: torch.Generator) -> Pairs:
    """Actor/counterpart slots of a pair operator plus collision keys.

    alive_slots: [N] int64 sorted living slots. Draw order: actor uniforms (N or 1), then in
    ``single`` mode the actor position, then counterparts (N or 1), then keys [M].
    """
    n = alive_slots.shape[0]
    dev = alive_slots.device
    if n < 2:
        empty = torch.zeros(0, dtype=torch.int64, device=dev)
        return Pairs(empty, empty, torch.zeros(0, dtype=torch.float64, device=dev))
    if mode == "per_actor":
        chosen = _uniform(n, gen) < p
        j = torch.randint(0, n - 1, (n,), generator=gen, device=gen.device)
        pos = torch.arange(n, device=dev)
        j = j + (j >= pos).long()
        a_pos, b_pos = pos[chosen], j[chosen]
    else:
        u = _uniform(1, gen)
        i = torch.randint(0, n, (1,), generator=gen, device=gen.device)
        j = torch.randint(0, n - 1, (1,), generator=gen, device=gen.device)
        j = j + (j >= i).long()
        hit = u < p
        a_pos, b_pos = i[hit], j[hit]
    keys = _uniform(a_pos.shape[0], gen)
    return Pairs(alive_slots[a_pos], alive_slots[b_pos], keys)


def draw_third(alive_slots: Tensor, pairs: Pairs, gen: torch.Generator) -> Tensor:
    """A third particle per pair, uniform over the living ones other than actor and partner.

    Used by ``offspring`` melt (the child replaces it). Returns [M] int64 slots. Needs N ≥ 3.
    """
    n = alive_slots.shape[0]
    m = len(pairs)
    d = torch.randint(0, max(n - 2, 1), (m,), generator=gen, device=gen.device)
    a = torch.searchsorted(alive_slots, pairs.actors)
    b = torch.searchsorted(alive_slots, pairs.counterparts)
    lo, hi = torch.minimum(a, b), torch.maximum(a, b)
    d = d + (d >= lo).long()
    d = d + (d >= hi).long()
    return alive_slots[d]


def winners(targets: Tensor, keys: Tensor) -> Tensor:
    """Which of several actors hitting one target wins: the smallest key per target.

    targets: [M] int64; keys: [M] float64. Returns [M] bool, exactly one True per target.
    """
    m = targets.shape[0]
    if m == 0:
        return torch.zeros(0, dtype=torch.bool, device=targets.device)
    order = torch.argsort(keys, stable=True)
    rank = torch.empty_like(order)
    rank[order] = torch.arange(m, device=targets.device)
    size = int(targets.max()) + 1
    best = torch.full((size,), m, dtype=torch.int64, device=targets.device)
    best = best.scatter_reduce(0, targets, rank, reduce="amin")
    return rank == best[targets]


__all__ = ["Pairs", "draw_actor_positions", "draw_actors", "draw_pairs", "draw_third", "winners"]
