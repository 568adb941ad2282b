"""Soup analyses of a stored run: type counts, PCA trajectories, lineages, organisms, distances.

Every function takes a ``Run`` (or plain arrays) and returns a pandas table or numpy array;
figures live in ``plots.py``. Definitions follow ``science/soup.md`` §5–6 and
``science/particles.md`` §6.
"""

from __future__ import annotations

from typing import NamedTuple

import networkx as nx
import numpy as np
import pandas as pd

from neurosoup.particles import TYPE_LABELS, ConfigError
from neurosoup.particles.runformat import soup as soup_fmt

from .load import Run

METRICS = ("mae", "mse", "mim")
# an axis whose spread is below this fraction of PC1's is float32 rounding noise: not whitened
DEGENERATE = 1e-6


def counts_from_snapshots(run: Run) -> pd.DataFrame:
    """Particles per type in every snapshot, from the stored ``ptype`` codes.

    Returns: [S rows] × one column per type label, indexed by ``step``.
    """
    codes = run.snapshots.all_types()  # [S, C]
    counts = (codes[:, :, None] == np.arange(len(TYPE_LABELS))).sum(axis=1)  # [S, 5]
    return pd.DataFrame(
        counts, index=pd.Index(run.snapshots.steps, name="step"), columns=list(TYPE_LABELS)
    )


def type_counts(run: Run) -> pd.DataFrame:
    """Particles per type over time: the ``count_<type>`` observables (every tick).

    Falls back to the snapshots when the observables are missing.
    Returns: [T rows] × one int column per type label, indexed by ``step``.
    """
    obs = run.observables
    cols = list(soup_fmt.TYPE_OBSERVABLES)
    if all(c in obs.columns for c in cols):
        frame = obs[cols].dropna().astype(np.int64)
        frame.columns = list(TYPE_LABELS)
        return frame
    return counts_from_snapshots(run)


def final_counts(run: Run) -> pd.Series:
    """Particles per type at the last recorded step (index: type label)."""
    counts = type_counts(run)
    if counts.empty:
        return pd.Series(0, index=list(TYPE_LABELS), name="count")
    last = counts.iloc[-1].rename("count")
    last.index.name = "type"
    return last


class PCA(NamedTuple):
    """A 2-component whitened PCA: ``scores = (x − mean) @ components.T / scale``.

    Attributes:
        mean: [P] mean of the fitted rows.
        components: [2, P] unit principal axes (sign: largest loading positive).
        scale: [2] standard deviation along each axis (1 where it is below ``DEGENERATE``
            times PC1's, i.e. rounding noise of float32 weights, which is not blown up).
        explained: [2] share of the total variance along each axis.
    """

    mean: np.ndarray
    components: np.ndarray
    scale: np.ndarray
    explained: np.ndarray


def pca_fit(x: np.ndarray, n_components: int = 2) -> PCA:
    """Fit a whitened PCA by SVD on the finite rows of ``x`` [N, P]."""
    x = np.asarray(x, dtype=np.float64)
    rows = x[np.isfinite(x).all(axis=1)]
    if len(rows) < 2:
        raise ConfigError(f"PCA needs at least 2 finite weight vectors, got {len(rows)}")
    mean = rows.mean(axis=0)
    _, s, vt = np.linalg.svd(rows - mean, full_matrices=False)
    k = min(n_components, vt.shape[0])
    comps = np.zeros((n_components, x.shape[1]))
    comps[:k] = vt[:k]
    sd = np.zeros(n_components)
    sd[:k] = s[:k] / np.sqrt(len(rows) - 1)
    flip = np.sign(comps[np.arange(n_components), np.abs(comps).argmax(axis=1)])
    comps *= np.where(flip == 0, 1.0, flip)[:, None]
    total = (s**2).sum()
    explained = np.zeros(n_components)
    explained[:k] = s[:k] ** 2 / total if total > 0 else 0.0
    tiny = sd <= DEGENERATE * max(sd[0], 1e-300)
    return PCA(mean, comps, np.where(tiny, 1.0, sd), explained)


def pca_project(pca: PCA, x: np.ndarray) -> np.ndarray:
    """Whitened scores of ``x`` [..., P] → [..., 2] (NaN rows stay NaN)."""
    return ((np.asarray(x, dtype=np.float64) - pca.mean) @ pca.components.T) / pca.scale


def pca_trajectories(run: Run, every: int = 1, fit_limit: float = 1e3) -> pd.DataFrame:
    """PCA weight trajectories, fitted jointly over all particles and snapshots.

    Rows with a non-finite weight or any |w| > ``fit_limit`` (diverging particles) are left
    out of the fit and get NaN scores. Returns a long table: step, uid, pc1, pc2, final_type
    (the particle's type at its last snapshot).
    """
    steps, uids, w = run.snapshots.trajectories(every)  # [S, U, P]
    flat = w.reshape(-1, w.shape[2])
    ok = np.isfinite(flat).all(axis=1) & (np.abs(np.nan_to_num(flat)).max(axis=1) <= fit_limit)
    pca = pca_fit(np.where(ok[:, None], flat, np.nan))
    scores = np.where(ok[:, None], pca_project(pca, np.where(ok[:, None], flat, 0.0)), np.nan)
    frame = pd.DataFrame(
        {
            "step": np.repeat(steps, len(uids)),
            "uid": np.tile(uids, len(steps)),
            "pc1": scores[:, 0],
            "pc2": scores[:, 1],
        }
    )
    frame["final_type"] = frame["uid"].map(_final_types(run, uids))
    present = ~np.isnan(w).all(axis=2).reshape(-1)
    return frame[present].reset_index(drop=True)


def _final_types(run: Run, uids: np.ndarray) -> dict[int, str]:
    """Type label of each uid at the last snapshot in which it is alive."""
    codes = run.snapshots.all_types()  # [S, C]
    uid = run.snapshots.all_uids()
    s_idx, c_idx = np.nonzero(uid >= 0)
    order = np.argsort(s_idx, kind="stable")
    last = dict(
        zip(uid[s_idx, c_idx][order].tolist(), codes[s_idx, c_idx][order].tolist(), strict=True)
    )
    return {int(u): TYPE_LABELS[last[int(u)]] if last[int(u)] >= 0 else "unknown" for u in uids}


def lineage_table(run: Run) -> pd.DataFrame:
    """One row per uid ever born: parent, root, depth, born_at, cause, children, alive, type.

    ``depth`` counts parent edges up to the root (seeds and respawns have depth 0);
    ``alive`` and ``final_type`` refer to the last snapshot.
    """
    g = run.lineage
    parents = nx.DiGraph((u, v) for u, v, r in g.edges(data="role") if r == "parent")
    parents.add_nodes_from(g.nodes)
    depth: dict[int, int] = {}
    root: dict[int, int] = {}
    parent: dict[int, int] = {}
    for node in nx.topological_sort(parents):
        pred = next(iter(parents.predecessors(node)), None)
        parent[node] = -1 if pred is None else pred
        depth[node] = 0 if pred is None else depth[pred] + 1
        root[node] = node if pred is None else root[pred]
    nodes = np.asarray(sorted(g.nodes), dtype=np.int64)
    last = run.snapshots.frame() if len(run.snapshots) else None
    alive = np.isin(nodes, last.uid) if last is not None else np.zeros(len(nodes), bool)
    types = {} if last is None else dict(zip(last.uid.tolist(), last.ptype.tolist(), strict=True))
    return pd.DataFrame(
        {
            "uid": nodes,
            "parent": [parent[n] for n in nodes],
            "root": [root[n] for n in nodes],
            "depth": [depth[n] for n in nodes],
            "born_at": [g.nodes[n].get("born_at", -1) for n in nodes],
            "cause": [g.nodes[n].get("cause", "unknown") for n in nodes],
            "children": [parents.out_degree(n) for n in nodes],
            "alive": alive,
            "final_type": [TYPE_LABELS[types[n]] if n in types else "" for n in nodes],
        }
    )


def lineage_summary(run: Run) -> dict[str, int]:
    """Depth and survival of the lineages of a run.

    Returns: particles ever born, roots, maximum depth, surviving lineages (roots with a
    descendant alive at the end) and alive fixpoints at the end.
    """
    t = lineage_table(run)
    return {
        "particles_born": len(t),
        "roots": int((t["depth"] == 0).sum()),
        "max_depth": int(t["depth"].max()) if len(t) else 0,
        "surviving_lineages": int(t.loc[t["alive"], "root"].nunique()),
        "alive_fixpoints": int(((t["final_type"] == "fixpoint") & t["alive"]).sum()),
    }


def fixpoint_ancestors(run: Run) -> pd.DataFrame:
    """Founding ancestor (and depth) of every fixpoint alive at the last snapshot."""
    t = lineage_table(run)
    sel = t[t["alive"] & (t["final_type"] == "fixpoint")]
    return sel[["uid", "root", "depth"]].reset_index(drop=True)


def organism_sizes(run: Run) -> pd.DataFrame:
    """Organism size distribution per snapshot: long table step, size, count.

    Organisms are bond components with ≥ 2 members (``science/soup.md`` §2, merge).
    """
    rows = []
    for step in run.snapshots.steps:
        sizes = np.asarray([len(o) for o in run.organisms(int(step))], dtype=np.int64)
        values, counts = np.unique(sizes, return_counts=True)
        rows += [(int(step), int(v), int(c)) for v, c in zip(values, counts, strict=True)]
    return pd.DataFrame(rows, columns=["step", "size", "count"])


def _check_metric(metric: str) -> None:
    if metric not in METRICS:
        raise ConfigError(f"unknown distance {metric!r}; expected one of {', '.join(METRICS)}")


def distances(x: np.ndarray, y: np.ndarray, metric: str = "mae") -> np.ndarray:
    """Row-wise distance between ``x`` and ``y`` ([N, P] or broadcastable) → [N].

    ``mae``: mean |x − y|; ``mse``: mean (x − y)²; ``mim``: MAE of the sorted vectors
    (blind to permuted weights).
    """
    _check_metric(metric)
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if metric == "mim":
        x, y = np.sort(x, axis=-1), np.sort(y, axis=-1)
    d = x - y
    return (d * d).mean(axis=-1) if metric == "mse" else np.abs(d).mean(axis=-1)


def distance_matrix(x: np.ndarray, metric: str = "mae") -> np.ndarray:
    """All-to-all distances between the rows of ``x`` [N, P] → [N, N] (memory N²·P)."""
    x = np.asarray(x, dtype=np.float64)
    return distances(x[:, None, :], x[None, :, :], metric)


def distance_table(x: np.ndarray, uids: np.ndarray, metric: str = "mae") -> pd.DataFrame:
    """Distance matrix as a labelled table (rows and columns: uids)."""
    return pd.DataFrame(
        distance_matrix(x, metric), index=pd.Index(uids, name="uid"), columns=[int(u) for u in uids]
    )


__all__ = [
    "METRICS",
    "PCA",
    "counts_from_snapshots",
    "distance_matrix",
    "distance_table",
    "distances",
    "final_counts",
    "fixpoint_ancestors",
    "lineage_summary",
    "lineage_table",
    "organism_sizes",
    "pca_fit",
    "pca_project",
    "pca_trajectories",
    "type_counts",
]
