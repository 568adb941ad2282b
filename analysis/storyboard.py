"""One figure per recorded snapshot of a run file, for every kind (animations, replay page).

A ``Storyboard`` holds the steps of a run's snapshots and draws the figure of any one of them,
from the run file alone:

* soup: the particles on a 2-D PCA map, coloured by type, bonds drawn between bonded
  particles; the projection and the axes are fitted once per run, so points do not jump;
* organism: the PN_SR heatmap over the input pixels (image tasks) or, for other tasks, each
  layer's particles as a grid coloured by type;
* evolution: the Muller plot up to each generation (one frame per recorded generation);
* quine: SSE and R² per member at each weight snapshot.

Figures use the Agg canvas (``plots._figure``) and one fixed size per storyboard, so frames
stack into a GIF or an MP4 (``animate.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

from neurosoup.particles import TYPE_LABELS, ConfigError
from neurosoup.particles.organism import OrganismType
from neurosoup.particles.runformat import quine as quine_fmt
from neurosoup.particles.runformat.common import STEP

from . import plots
from .load import Run
from .soup import PCA, pca_fit, pca_project

#: snapshots read to fit a soup's projection (evenly spaced, first and last included)
FIT_FRAMES = 40
#: weights beyond this magnitude (diverging particles) are left out of the projection's fit
FIT_LIMIT = 1e3
ORGANISM_COLORS = {"divergent": "#d62728", "zero": "#7f7f7f", "sr": "#2ca02c", "f": "#1f77b4"}


@dataclass
class Storyboard:
    """The frames of one run: ``steps`` [S] and ``draw(i)`` → the ``Figure`` of frame i."""

    kind: str
    title: str
    steps: np.ndarray
    draw: Callable[[int], Figure]

    def __len__(self) -> int:
        return len(self.steps)


# ---- soup ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class SoupMap:
    """A projection fitted once per run and fixed axis limits ([2] low, [2] high)."""

    pca: PCA
    low: np.ndarray
    high: np.ndarray

    def scores(self, weights: np.ndarray) -> np.ndarray:
        """Scores [N, 2] of weights [N, P] (non-finite rows: NaN)."""
        w = np.asarray(weights, dtype=np.float64)
        ok = np.isfinite(w).all(axis=1)
        with np.errstate(all="ignore"):
            xy = pca_project(self.pca, np.where(ok[:, None], w, 0.0))
        xy[~ok | ~np.isfinite(xy).all(axis=1)] = np.nan
        return xy

    def project(self, weights: np.ndarray) -> np.ndarray:
        """Scores [N, 2] clipped into the map (diverging particles sit on its edge)."""
        return np.clip(self.scores(weights), self.low, self.high)

    def widened(self, xy: np.ndarray) -> SoupMap:
        """The map grown (never shrunk) to hold the central 98 % of points ``xy`` [N, 2]."""
        xy = xy[np.isfinite(xy).all(axis=1)]
        if len(xy) == 0:
            return self
        lo, hi = np.percentile(xy, 1, axis=0), np.percentile(xy, 99, axis=0)
        pad = np.maximum((hi - lo) * 0.05, 1e-3)
        low, high = np.minimum(self.low, lo - pad), np.maximum(self.high, hi + pad)
        if (low == self.low).all() and (high == self.high).all():
            return self
        return SoupMap(self.pca, low, high)


def fit_map(weights: np.ndarray) -> SoupMap:
    """Fit the map on weight rows [R, P] (diverging rows left out); 5 % margin around them."""
    w = np.asarray(weights, dtype=np.float64)
    ok = np.isfinite(w).all(axis=1) & (np.abs(np.nan_to_num(w)).max(axis=1) <= FIT_LIMIT)
    if ok.sum() < 2:
        w, ok = np.zeros((2, w.shape[1])), np.ones(2, dtype=bool)
    pca = pca_fit(w[ok])
    xy = pca_project(pca, w[ok])
    low, high = np.percentile(xy, 0.5, axis=0), np.percentile(xy, 99.5, axis=0)
    pad = np.maximum((high - low) * 0.05, 1e-3)
    return SoupMap(pca, low - pad, high + pad)


def soup_map(run: Run) -> SoupMap:
    """The run's projection, fitted on up to ``FIT_FRAMES`` evenly spaced snapshots."""
    n = len(run.snapshots)
    if n == 0:
        raise ConfigError(f"{run.path} holds no particle snapshots to draw")
    idx = np.unique(np.linspace(0, n - 1, min(n, FIT_FRAMES)).round().astype(int))
    rows = [run.snapshots.frame(int(run.snapshots.steps[i])).weights for i in idx]
    return fit_map(np.concatenate(rows))


def soup_figure(
    xy: np.ndarray, types: np.ndarray, smap: SoupMap, step: int,
    bonds: np.ndarray | None = None, title: str = "Particles on the PCA map",
) -> Figure:
    """Scatter of particles ([N, 2] scores, [N] type codes) with bonds ([E, 2] row indices)."""
    fig = plots._figure((6.4, 4.8))
    ax = fig.subplots()
    if bonds is not None and len(bonds):
        segs = np.stack([xy[bonds[:, 0]], xy[bonds[:, 1]]], axis=1)
        ax.add_collection(LineCollection(segs, colors="#999999", linewidths=0.6, zorder=1))
    labels = np.asarray([*TYPE_LABELS, "unknown"], dtype=object)
    codes = np.where((types >= 0) & (types < len(TYPE_LABELS)), types, len(TYPE_LABELS))
    for code, label in enumerate(labels):
        sel = codes == code
        if sel.any():
            ax.scatter(xy[sel, 0], xy[sel, 1], s=14, color=plots.TYPE_COLORS[label], zorder=2,
                       label=f"{label} ({int(sel.sum())})", edgecolors="none")  # fmt: skip
    ax.set(xlim=(smap.low[0], smap.high[0]), ylim=(smap.low[1], smap.high[1]),
           xlabel="PC 1", ylabel="PC 2", title=f"{title}, step {step}")  # fmt: skip
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7, loc="upper right")
    return fig


def _soup(run: Run) -> Storyboard:
    smap = soup_map(run)
    steps = run.snapshots.steps

    def draw(i: int) -> Figure:
        frame = run.snapshots.frame(int(steps[i]))
        bonds = run.bonds(int(steps[i]))
        pos = {u: k for k, u in enumerate(frame.uid.tolist())}
        rows = np.asarray([(pos[a], pos[b]) for a, b in bonds.tolist() if a in pos and b in pos],
                          dtype=np.int64).reshape(-1, 2)  # fmt: skip
        return soup_figure(smap.project(frame.weights), frame.ptype, smap, int(steps[i]), rows)

    return Storyboard("soup", "particles on the PCA map", steps, draw)


# ---- organism ------------------------------------------------------------------------------
def layer_types_figure(codes: np.ndarray, layer_sizes: tuple[int, ...], step: int) -> Figure:
    """Each layer's particles [n_out, n_in] as a grid coloured by ``OrganismType``."""
    from matplotlib.colors import ListedColormap

    fig = plots._figure((9, 3.6))
    n = len(layer_sizes) - 1
    axes = np.atleast_1d(fig.subplots(1, n))
    cmap = ListedColormap([ORGANISM_COLORS[t.label] for t in OrganismType])
    start = 0
    for k, ax in enumerate(axes):
        n_in, n_out = layer_sizes[k], layer_sizes[k + 1]
        grid = codes[start : start + n_in * n_out].reshape(n_out, n_in)
        start += n_in * n_out
        ax.imshow(grid, cmap=cmap, vmin=-0.5, vmax=len(OrganismType) - 0.5,
                  interpolation="nearest", aspect="auto")  # fmt: skip
        ax.set(title=f"layer {k} ({n_in}→{n_out})", xticks=[], yticks=[])
    counts = np.bincount(codes.astype(np.int64), minlength=len(OrganismType))
    legend = ", ".join(f"{t.label} {int(c)}" for t, c in zip(OrganismType, counts, strict=True))
    fig.suptitle(f"Particle types per layer, epoch {step}: {legend}", fontsize=10)
    return fig


def _organism(run: Run) -> Storyboard:
    from .organism import heatmap, image_shape, run_types

    steps = run.snapshots.steps
    shape = image_shape(run)
    sizes = tuple(int(s) for s in run.config["layer_sizes"])

    def draw(i: int) -> Figure:
        step = int(steps[i])
        if shape is None:
            return layer_types_figure(run_types(run, step), sizes, step)
        from .organism_plots import heatmap_figure

        title = f"PN_SR of the first layer over the input pixels, epoch {step}"
        return heatmap_figure(heatmap(run, step=step), shape, title)

    return Storyboard("organism", "PN_SR heatmap" if shape else "types per layer", steps, draw)


# ---- evolution -----------------------------------------------------------------------------
def _evolution(run: Run) -> Storyboard:
    from .evolution import muller
    from .evolution_plots import muller_figure

    shares = muller(run)
    parent = shares.attrs["parent"]
    steps = shares.index.to_numpy().astype(np.int64)
    first, last = int(steps[0]), max(int(steps[-1]), int(steps[0]) + 1)

    def draw(i: int) -> Figure:
        fig = muller_figure(shares.iloc[: i + 1], parent)
        fig.axes[0].set_xlim(first, last)
        fig.axes[0].set_title(f"Muller plot up to generation {int(steps[i])}")
        return fig

    return Storyboard("evolution", "Muller plot", steps, draw)


# ---- quine ---------------------------------------------------------------------------------
def quine_figure(sse: pd.Series, r2: pd.Series, step: int, sse_range: tuple[float, float]
                 ) -> Figure:  # fmt: skip
    """SSE (log scale) and R² (clipped to [−1, 1]) per member at one step."""
    fig = plots._figure((8, 3.6))
    ax_sse, ax_r2 = fig.subplots(1, 2)
    members = np.arange(len(sse))
    ax_sse.bar(members, sse.to_numpy(float), color="#1f77b4")
    ax_sse.set(yscale="log", ylim=sse_range, xlabel="member", ylabel="SSE", title="SSE")
    ax_r2.bar(members, np.clip(r2.to_numpy(float), -1, 1), color="#2ca02c")
    ax_r2.set(ylim=(-1.05, 1.05), xlabel="member", ylabel="R² (clipped)", title="R²")
    for ax in (ax_sse, ax_r2):
        ax.set_xticks(members if len(members) <= 16 else members[:: max(1, len(members) // 8)])
    fig.suptitle(f"Quines, epoch {step}")
    return fig


def _quine(run: Run) -> Storyboard:
    from .quine import member_values

    group = run._get(quine_fmt.WEIGHTS)
    steps = (group[STEP][()].astype(np.int64) if group is not None and STEP in group
             else np.zeros(0, np.int64))  # fmt: skip
    sse, r2 = member_values(run, quine_fmt.SSE), member_values(run, quine_fmt.R2)
    values = sse.to_numpy(float)
    pos = values[np.isfinite(values) & (values > 0)]
    lo, hi = (pos.min() / 2, pos.max() * 2) if len(pos) else (1e-3, 1.0)

    def draw(i: int) -> Figure:
        step = int(steps[i])
        at = sse.index[sse.index <= step]
        row = at[-1] if len(at) else sse.index[0]
        return quine_figure(sse.loc[row], r2.loc[row], step, (lo, hi))

    return Storyboard("quine", "SSE and R² per member", steps, draw)


STORYBOARDS: dict[str, Callable[[Run], Storyboard]] = {
    "soup": _soup, "organism": _organism, "evolution": _evolution, "quine": _quine,
}  # fmt: skip


def storyboard(run: Run) -> Storyboard:
    """The storyboard of a run file, chosen by its kind."""
    if run.kind not in STORYBOARDS:
        raise ConfigError(f"{run.path}: no frames are drawn for a {run.kind} run; kinds with "
                          f"frames: {', '.join(STORYBOARDS)}")  # fmt: skip
    return STORYBOARDS[run.kind](run)


__all__ = ["STORYBOARDS", "SoupMap", "Storyboard", "fit_map", "soup_figure", "storyboard"]
