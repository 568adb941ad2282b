"""Organism bookkeeping of a soup: bonds between particles and stable organism ids.

Bonds live in a networkx ``Graph`` over uids; organisms are its connected components with
≥ 2 members and keep their id while the component persists (a merged component keeps the
smallest old id, a split one's largest part keeps it). Dead particles lose their bonds.
With the ``grow`` operator (``growth.py``) members also hold a position of an ON shape
(``where``: uid → (l, c, e)); a particle that loses its last bond loses its position.
"""

from __future__ import annotations

from typing import Any

import networkx as nx
import numpy as np
from torch import Tensor


class Organisms:
    """Bonds and organisms of one soup; ``state()``/``restore()`` are plain arrays."""

    def __init__(self) -> None:
        self.graph: nx.Graph = nx.Graph()
        self._org_of: dict[int, int] = {}
        self._orgs: dict[int, frozenset[int]] = {}
        self._next_org = 0
        self.where: dict[int, tuple[int, int, int]] = {}

    # ---- bonds -----------------------------------------------------------------------------
    def bond_set(self) -> set[tuple[int, int]]:
        """Current bonds as (smaller uid, larger uid) pairs."""
        return {(min(a, b), max(a, b)) for a, b in self.graph.edges}

    def bonds(self) -> np.ndarray:
        """Current bonds, [E, 2] int64 uid pairs, smaller uid first, rows sorted."""
        edges = sorted(self.bond_set())
        return np.asarray(edges, dtype=np.int64).reshape(-1, 2)

    def add(self, a: Tensor, b: Tensor) -> None:
        """Bond uid pairs (a[i], b[i]). a, b: [M] int64."""
        if a.numel():
            self.graph.add_edges_from(zip(a.tolist(), b.tolist(), strict=True))

    def drop(self, dead_uids: list[int]) -> bool:
        """Remove dead particles and the bond-less nodes they leave; True if any had bonds."""
        dead = [u for u in dead_uids if u in self.graph]
        self.graph.remove_nodes_from(dead)
        lonely = [u for u, d in self.graph.degree if d == 0]
        self.graph.remove_nodes_from(lonely)
        for u in [*dead_uids, *lonely]:
            self.where.pop(u, None)
        return bool(dead)

    # ---- organisms -------------------------------------------------------------------------
    def update(self) -> None:
        """Recompute the components, keeping ids of persisting organisms."""
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

    def members(self) -> dict[int, frozenset[int]]:
        """Organism id → member uids."""
        return dict(self._orgs)

    def organism_of(self, uid: int) -> int | None:
        """Id of the organism holding particle ``uid``, or None."""
        return self._org_of.get(uid)

    def sizes(self) -> list[int]:
        """Organism sizes, ascending."""
        return sorted(len(v) for v in self._orgs.values())

    # ---- checkpoints -----------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        """Bonds, the uid → organism id map and the next id, as arrays and an int."""
        org_uids = np.asarray(list(self._org_of), dtype=np.int64)
        held = sorted(self.where)
        where = [[u, *self.where[u]] for u in held]
        return {
            "positions": np.asarray(where, dtype=np.int64).reshape(-1, 4),
            "bonds": self.bonds(),
            "org_uid": org_uids,
            "org_id": np.asarray([self._org_of[u] for u in org_uids.tolist()], dtype=np.int64),
            "next_org": int(self._next_org),
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Continue from ``state()`` output."""
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
        rows = np.asarray(state.get("positions", np.zeros((0, 4)))).reshape(-1, 4).tolist()
        self.where = {int(u): (int(k), int(c), int(e)) for u, k, c, e in rows}


__all__ = ["Organisms"]
