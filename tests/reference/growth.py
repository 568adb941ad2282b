"""Slow twin of the ``grow`` operator (``chemistry/growth.py``): positions found by brute force.

Every position of the shape is enumerated by nested loops, adjacency is tested pair by pair,
organisms are found by flooding the bond set, and the free particles are recomputed from
scratch for every event. Draws: the same generator calls as ``growth.draw_grow``.
"""

from __future__ import annotations

import torch


def ref_positions(shape) -> list[tuple[int, int, int]]:
    """(layer, cell, edge) for every ON particle of ``shape``, layer → cell → edge."""
    out = []
    for k in range(len(shape) - 1):
        for c in range(shape[k + 1]):
            for e in range(shape[k]):
                out.append((k, c, e))
    return out


def ref_adjacent(p, q) -> bool:
    """Signal flows from p into q (p's cell is q's edge source) or from q into p."""
    return (q[0] == p[0] + 1 and q[2] == p[1]) or (q[0] == p[0] - 1 and q[1] == p[2])


def ref_flood(bonds: set, start: int) -> set:
    comp, frontier = {start}, [start]
    while frontier:
        u = frontier.pop()
        for a, b in bonds:
            for x, y in ((a, b), (b, a)):
                if x == u and y not in comp:
                    comp.add(y)
                    frontier.append(y)
    return comp


def _pick(options: list, u: float):
    return options[min(int(u * len(options)), len(options) - 1)]


def ref_grow(t, p, name):
    """Twin of ``grow``: mutates ``t.bonds`` and ``t.positions`` (uid → position)."""
    shape, where = p["shape"], t.positions
    u = torch.rand(len(t.alive), generator=t.gen, dtype=torch.float64).tolist()
    actors = [s for i, s in enumerate(t.alive)
              if u[i] < (p["rate"] if t.uid(s) in where else p["found_rate"])]
    keys = torch.rand(len(actors), 3, generator=t.gen, dtype=torch.float64).tolist()
    every = ref_positions(shape)
    for a, (k_found, k_slot, k_recruit) in zip(actors, keys, strict=True):
        ua = t.uid(a)
        bonded = {x for e in t.bonds for x in e}
        free = sorted(t.uid(s) for s in t.alive
                      if t.uid(s) not in bonded and t.uid(s) not in where and t.uid(s) != ua)
        founding, members, open_ = None, set(), []
        if ua in where:
            members = ref_flood(t.bonds, ua)
            taken = {where[m] for m in members if m in where}
            open_ = [q for q in every if ref_adjacent(where[ua], q) and q not in taken]
        elif ua not in bonded:
            founding = _pick(every, k_found)
            open_ = [q for q in every if ref_adjacent(founding, q)]
        if not open_ or not free:
            t.events.append((t.codes[name], ua, -1, -1, False))
            continue
        ub, slot = _pick(free, k_recruit), _pick(open_, k_slot)
        if founding is not None:
            where[ua], members = founding, {ua}
        where[ub] = slot
        for m in members:
            if m in where and ref_adjacent(where[m], slot):
                t.bonds.add((min(m, ub), max(m, ub)))
        t.events.append((t.codes[name], ua, ub, -1, True))
