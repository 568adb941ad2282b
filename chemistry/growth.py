"""Growth: organisms that grow the layered shape of an organism network, one particle at a time.

``docs/growth.md``. A *shape* n_0-…-n_r (the ON's neuron layers, e.g. 2-3-3-1) has one
*position* (l, c, e) per ON particle: the edge from neuron e of layer l into neuron c of layer
l+1 (layer → cell → edge order, as in ``particles/organism.py``). Two positions are adjacent
when signal flows from one into the other: (l, c, e) feeds (l+1, c', c) — the first's target
neuron is the second's source neuron. A bond always joins two adjacent positions of one
organism; its *role* is the lower weight layer l (it joins layer l to layer l + 1).

Actors: every living particle draws one uniform u; a member of a grown organism acts when
u < ``rate``, any other particle when u < ``found_rate`` (founding is rarer than growing, so
a few organisms grow large instead of many staying small). One ``grow`` event, actor A,
recruits one free particle B (alive, in no organism; uniform among the free ones other than
A):

* A free: A founds an organism at a uniform position p of the shape, B takes a uniform
  position adjacent to p, and A–B is bonded;
* A holds a position: B takes a uniform open position adjacent to A in A's organism and is
  bonded to every member at a position adjacent to B's;
* otherwise (A's organism has no open position next to A, no free particle is left, or A is
  bonded without a position, e.g. by ``merge``) nothing happens (``applied`` false).

The shape limits growth: an organism holds at most one particle per position, so it is
complete with Σ n_l·n_{l+1} particles and then ready to become an ON (``neurosoup harvest``).
Events are resolved one actor after the other in slot order (a recruit and a position are
taken by the first actor that claims them): free particles and open positions are shared, so
this is the simplest deterministic rule. Weights are never changed by ``grow``.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import torch
from torch import Tensor

from neurosoup.particles import ConfigError, ParticleStore

from .operators import Events

Position = tuple[int, int, int]


def check_shape(name: str, value: object) -> None:
    """A shape is a list of >= 2 ints >= 1 (neuron layer sizes)."""
    ok = isinstance(value, list | tuple) and len(value) >= 2 and all(
        isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in value
    )
    if not ok:
        raise ConfigError(f"{name} must list >= 2 neuron layer sizes >= 1, e.g. [2, 3, 3, 1]; "
                          f"got {value!r}")  # fmt: skip
    groups = _groups(list(value))  # type: ignore[arg-type]
    if groups > 1:
        raise ConfigError(
            f"{name} {list(value)} cannot grow as one organism: its positions fall into {groups} "  # type: ignore[arg-type]
            "groups that pass no signal to each other; use one hidden neuron or two hidden "
            "layers, e.g. [2, 3, 3, 1]"
        )


def _groups(shape: list[int]) -> int:
    """Connected groups of the positions of ``shape`` under adjacency."""
    graph = nx.Graph()
    graph.add_nodes_from(positions(shape))
    graph.add_edges_from((p, q) for p in positions(shape) for q in adjacent(p, shape))
    return nx.number_connected_components(graph)


def positions(shape: list[int] | tuple[int, ...]) -> list[Position]:
    """Every position of ``shape`` in ON particle order (layer → cell → edge)."""
    return [(k, c, e) for k in range(len(shape) - 1) for c in range(shape[k + 1])
            for e in range(shape[k])]  # fmt: skip


def adjacent(p: Position, shape: list[int] | tuple[int, ...]) -> list[Position]:
    """Positions adjacent to ``p``: those feeding its source neuron and those it feeds, sorted."""
    k, c, e = p
    out = []
    if k > 0:
        out += [(k - 1, e, e2) for e2 in range(shape[k - 1])]
    if k + 2 < len(shape):
        out += [(k + 1, c2, c) for c2 in range(shape[k + 2])]
    return sorted(out)


@dataclass
class GrowDraws:
    """A tick's draws: actor slots [M] and three uniforms per actor [M, 3].

    Columns: the founding position, the position for the recruit, the recruit.
    """

    actors: Tensor
    keys: Tensor


def draw_grow(
    alive: Tensor, held: Tensor, rate: float, found_rate: float, gen: torch.Generator
) -> GrowDraws:
    """Actors among ``alive`` [N] slots, then their uniforms [M, 3].

    held: [N] bool, True where the particle holds a position (acts with ``rate``; the others
    with ``found_rate``).
    """
    u = torch.rand(alive.shape[0], generator=gen, device=gen.device, dtype=torch.float64)
    p = torch.where(held, rate, found_rate).to(u.device)
    actors = alive[(u < p).to(alive.device)]
    keys = torch.rand(actors.shape[0], 3, generator=gen, device=gen.device, dtype=torch.float64)
    return GrowDraws(actors, keys.cpu())


def held_mask(store: ParticleStore, alive: Tensor, where: dict[int, Position]) -> Tensor:
    """[N] bool: which of the ``alive`` slots hold a position."""
    held = [u in where for u in store.uid[alive].tolist()]
    return torch.tensor(held, dtype=torch.bool, device=alive.device)


def _pick(options: list, u: float) -> object:
    return options[min(int(u * len(options)), len(options) - 1)]


def grow(
    store: ParticleStore,
    graph: nx.Graph,
    where: dict[int, Position],
    draws: GrowDraws,
    shape: list[int] | tuple[int, ...],
) -> Events:
    """Apply one tick's growth events; mutates ``graph`` (bonds) and ``where`` (uid → position).

    Returns the events (actor, recruit or −1, changed −1, applied).
    """
    uids = store.uid[draws.actors].tolist()
    alive_uids = store.uid[store.alive_slots()].tolist()
    free = sorted(u for u in alive_uids if u not in graph and u not in where)
    all_positions = positions(shape)
    recruits, applied = [], []
    for ua, (k_found, k_slot, k_recruit) in zip(uids, draws.keys.tolist(), strict=True):
        candidates = [u for u in free if u != ua]
        if ua in where:
            members = nx.node_connected_component(graph, ua) if ua in graph else {ua}
            taken = {where[m] for m in members if m in where}
            open_ = [q for q in adjacent(where[ua], shape) if q not in taken]
            founding = None
        elif ua not in graph:
            founding = _pick(all_positions, k_found)
            members, open_ = set(), adjacent(founding, shape)  # type: ignore[arg-type]
        else:
            open_ = []
        if not open_ or not candidates:
            recruits.append(-1)
            applied.append(False)
            continue
        ub = int(_pick(candidates, k_recruit))  # type: ignore[arg-type]
        slot = _pick(open_, k_slot)
        if founding is not None:
            where[ua] = founding  # type: ignore[assignment]
            free.remove(ua)
            members = {ua}
        where[ub] = slot  # type: ignore[assignment]
        free.remove(ub)
        near = set(adjacent(slot, shape))  # type: ignore[arg-type]
        graph.add_edges_from((ub, m) for m in sorted(members) if where.get(m) in near)
        recruits.append(ub)
        applied.append(True)
    actor = torch.tensor(uids, dtype=torch.int64, device=store.device)
    return Events(-1, actor, torch.tensor(recruits, dtype=torch.int64, device=store.device),
                  torch.full_like(actor, -1),
                  torch.tensor(applied, dtype=torch.bool, device=store.device))  # fmt: skip


def complete_count(graph: nx.Graph, where: dict[int, Position], shape: list[int]) -> int:
    """Organisms holding every position of ``shape``."""
    need = len(positions(shape))
    return sum(1 for comp in nx.connected_components(graph)
               if sum(1 for u in comp if u in where) == need)  # fmt: skip


__all__ = ["GrowDraws", "adjacent", "check_shape", "complete_count", "draw_grow", "grow",
           "held_mask", "positions"]  # fmt: skip
