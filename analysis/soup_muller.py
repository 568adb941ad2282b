"""Muller plots of soups: the founders' lineages (by descent) over the snapshots.

Bands are **lineages by descent**, read from ``/lineage/births`` (each particle under its
first parent; melt offspring under the parent whose half it kept first), not clusters in
weight space: the soup records descent exactly, while weight-space clusters would lump
together unrelated particles that converged on similar fixpoints (fixpoints of a 4-2-1 net
form one family) and call them copies.

A *clone* is a particle whose descendants (itself included) reach ``threshold`` of the living
at some snapshot: a founder whose lineage spreads, or a later particle whose sub-lineage does.
Each living particle belongs to its nearest clone ancestor (itself included); particles with
none are the ``background``. The shares table and the nesting go to the evolution Muller code
(``evolution_genetics.muller_layers`` through ``evolution_plots.muller_figure``), so soups and
SeRANN runs draw alike. Soups without births (journal soup: attacks overwrite in place) have
one lineage per founder for the whole run.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from neurosoup.particles import ConfigError

from .evolution import muller_order
from .evolution_plots import muller_figure
from .load import Run

#: at most this many snapshots are read (evenly spaced) for a Muller plot
MAX_FRAMES = 400


def _parents(run: Run) -> dict[int, int]:
    """Uid → first parent uid (−1 for seeds and respawns)."""
    b = run.births
    return dict(zip(b["uid"].astype(int).tolist(), b["parent_uid"].astype(int).tolist(),
                    strict=True))  # fmt: skip


def _ancestors(uid: int, parent: dict[int, int], memo: dict[int, tuple[int, ...]]) -> tuple:
    """(uid, its parent, …, its founder), memoised per uid."""
    chain, u = [], uid
    while u >= 0 and u not in memo:
        chain.append(u)
        u = parent.get(u, -1)
    tail = memo.get(u, ()) if u >= 0 else ()
    for i in range(len(chain) - 1, -1, -1):
        tail = (chain[i], *tail)
        memo[chain[i]] = tail
    return memo.get(uid, (uid,))


def soup_muller(run: Run, threshold: float = 0.1) -> pd.DataFrame:
    """Per snapshot step (rows): each clone's share of the living (columns, depth-first).

    ``attrs["parent"]`` is the clone tree (clone → parent clone, −1 for none); columns are
    ``background`` and ``clone_<uid>``.
    """
    if not 0 < threshold <= 1:
        raise ConfigError(f"threshold must be in (0, 1], got {threshold}")
    snaps = run.snapshots
    if len(snaps) == 0:
        raise ConfigError(f"{run.path} has no snapshots; a Muller plot needs the living per tick")
    steps = snaps.steps
    if len(steps) > MAX_FRAMES:
        steps = steps[np.unique(np.linspace(0, len(steps) - 1, MAX_FRAMES).astype(int))]
    parent, memo = _parents(run), {}
    living = []
    for s in steps.tolist():
        uid = snaps.uids(int(s))
        living.append(uid[uid >= 0].tolist())
    counts = []  # per frame: ancestor uid → living descendants
    for uids in living:
        c: dict[int, int] = {}
        for u in uids:
            for a in _ancestors(u, parent, memo):
                c[a] = c.get(a, 0) + 1
        counts.append(c)
    clones = sorted({a for c, uids in zip(counts, living, strict=True) for a, n in c.items()
                     if uids and n / len(uids) >= threshold - 1e-12})  # fmt: skip
    is_clone = set(clones)
    tree = {}
    for c in clones:
        up = next((a for a in _ancestors(c, parent, memo)[1:] if a in is_clone), -1)
        tree[c] = up
    rows = []
    for uids in living:
        own = [next((a for a in _ancestors(u, parent, memo) if a in is_clone), -1) for u in uids]
        share = pd.Series(own, dtype=np.int64).value_counts(normalize=True) if own else \
            pd.Series(dtype=float)  # fmt: skip
        rows.append(share)
    order = [-1, *muller_order(tree)]
    table = pd.DataFrame(rows).reindex(columns=order).fillna(0.0)
    table.columns = ["background" if c < 0 else f"clone_{c}" for c in order]
    table.index = pd.Index(steps.astype(np.int64), name="tick")
    table.attrs["parent"] = tree
    return table


def soup_muller_figure(shares: pd.DataFrame, parent: dict[int, int]) -> Figure:
    """The evolution Muller figure, its axis relabelled in ticks and lineages."""
    fig = muller_figure(shares, parent)
    ax = fig.axes[0]
    ax.set_xlabel("tick")
    ax.set_title(f"Muller plot of the soup's lineages ({len(shares.columns) - 1} spreading "
                 "lineages; grey: the rest)")  # fmt: skip
    return fig


def muller_figures(run: Run) -> dict[str, tuple]:
    """``{"muller": …}`` when some lineage spreads (the figure is empty otherwise)."""
    if len(run.snapshots) == 0 or len(run.births) == 0:
        return {}
    table = soup_muller(run)
    if len(table.columns) <= 1:
        return {}
    return {"muller": (partial(soup_muller_figure, table, table.attrs["parent"]), table)}




def _register() -> None:
    from .report import register_analyses

    register_analyses("soup", {"muller": soup_muller})


_register()

__all__ = ["MAX_FRAMES", "muller_figures", "soup_muller", "soup_muller_figure"]
