"""One function per figure; each takes the table it plots and returns a matplotlib ``Figure``.

The tables come from ``soup.py`` and ``robustness.py``; ``save_figure`` writes the PNG and the
same table as CSV beside it, so every saved figure can be re-plotted or checked from its data.
Figures are drawn by matplotlib's Agg canvas without pyplot: no display, no global backend
switch at import, and no pyplot figure registry to leak memory in long reports.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import MaxNLocator

from neurosoup.particles import TYPE_LABELS, ConfigError

TYPE_COLORS = {
    "divergent": "#d62728",
    "zero": "#7f7f7f",
    "fixpoint": "#2ca02c",
    "second_order": "#9467bd",
    "other": "#1f77b4",
    "unknown": "#000000",
}


def _figure(figsize: tuple[float, float]) -> Figure:
    """A figure drawn by the Agg canvas, outside pyplot (no global backend, no figure registry)."""
    fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _require(frame: pd.DataFrame, columns: tuple[str, ...], figure: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ConfigError(f"{figure} needs columns {missing}; got {list(frame.columns)}")


def counts_figure(counts: pd.DataFrame, title: str = "Particle types over time") -> Figure:
    """Stacked area of particles per type. counts: [T rows] × type columns, index = step."""
    fig = _figure((7, 4))
    ax = fig.subplots()
    labels = [t for t in TYPE_LABELS if t in counts.columns]
    ax.stackplot(
        counts.index.to_numpy(),
        counts[labels].to_numpy().T,
        labels=labels,
        colors=[TYPE_COLORS[t] for t in labels],
        alpha=0.85,
    )
    ax.set(xlabel="tick", ylabel="particles", title=title)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlim(counts.index.min(), max(counts.index.max(), counts.index.min() + 1))
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), title="type")
    return fig


def final_counts_figure(final: pd.Series, title: str = "Particle types at the end") -> Figure:
    """Bar chart of particles per type (index: type label)."""
    fig = _figure((6, 4))
    ax = fig.subplots()
    labels = list(final.index)
    bars = ax.bar(labels, final.to_numpy(), color=[TYPE_COLORS.get(t, "C0") for t in labels])
    ax.bar_label(bars)
    ax.set(xlabel="type", ylabel="particles", title=title)
    return fig


def trajectories_figure(traj: pd.DataFrame, title: str = "PCA weight trajectories") -> Figure:
    """3-D trajectories: x, y = whitened PC1, PC2, z = tick; coloured by final type.

    traj: long table step, uid, pc1, pc2, final_type (``soup.pca_trajectories``).
    Start markers are circles, end markers crosses.
    """
    _require(traj, ("step", "uid", "pc1", "pc2", "final_type"), "trajectories_figure")
    fig = _figure((7, 6))
    ax = fig.add_subplot(projection="3d")
    seen: set[str] = set()
    for _, part in traj.dropna(subset=["pc1"]).groupby("uid", sort=True):
        part = part.sort_values("step")
        kind = str(part["final_type"].iloc[0])
        color = TYPE_COLORS.get(kind, "C0")
        label = kind if kind not in seen else None
        seen.add(kind)
        ax.plot(part["pc1"], part["pc2"], part["step"], color=color, lw=0.8, alpha=0.7, label=label)
        ax.scatter(*part[["pc1", "pc2", "step"]].iloc[0], color=color, marker="o", s=12)
        ax.scatter(*part[["pc1", "pc2", "step"]].iloc[-1], color=color, marker="x", s=30)
    ax.set(xlabel="PC1 (whitened)", ylabel="PC2 (whitened)", zlabel="tick", title=title)
    if seen:
        ax.legend(title="final type", loc="upper left")
    return fig


def robustness_figure(table: pd.DataFrame, title: str = "Robustness to noise") -> Figure:
    """Box plots of time to vergence and time as fixpoint per noise level (and source).

    table: one row per clone with sigma, t_verge, t_fix and optionally source.
    """
    _require(table, ("sigma", "t_verge", "t_fix"), "robustness_figure")
    sources = sorted(table["source"].unique()) if "source" in table.columns else [None]
    levels = np.sort(table["sigma"].unique())[::-1]
    fig = _figure((8, 6.5))
    axes = fig.subplots(2, 1, sharex=True)
    width = 0.8 / len(sources)
    for i, src in enumerate(sources):
        part = table if src is None else table[table["source"] == src]
        pos = np.arange(len(levels)) + (i - (len(sources) - 1) / 2) * width
        for ax, col in zip(axes, ("t_verge", "t_fix"), strict=True):
            data = [part.loc[part["sigma"] == s, col].to_numpy() for s in levels]
            box = ax.boxplot(
                data,
                positions=pos,
                widths=width * 0.9,
                patch_artist=True,
                showfliers=False,
                manage_ticks=False,
                medianprops={"color": "black"},
            )
            for patch in box["boxes"]:
                patch.set_facecolor(f"C{i}")
                patch.set_alpha(0.6)
            if i == 0:
                ax.set_ylabel({"t_verge": "time to vergence", "t_fix": "time as fixpoint"}[col])
    axes[1].set_xticks(np.arange(len(levels)), [f"{s:.0e}" for s in levels])
    axes[1].set_xlabel("noise level σ")
    axes[0].set_title(title)
    if sources != [None]:
        handles = [Rectangle((0, 0), 1, 1, color=f"C{i}", alpha=0.6) for i in range(len(sources))]
        axes[0].legend(handles, sources, title="particles", loc="upper left")
    return fig


def basin_figure(
    table: pd.DataFrame,
    x: str = "mae_pre",
    y: str = "mae_post",
    hue: str = "direction",
    title: str = "Clones: distance to parent",
) -> Figure:
    """Scatter of distance before vs after training with the x = y line, coloured by ``hue``."""
    _require(table, (x, y), "basin_figure")
    fig = _figure((6, 5))
    ax = fig.subplots()
    groups = table.groupby(hue, sort=True) if hue in table.columns else [("clones", table)]
    for i, (name, part) in enumerate(groups):
        ax.scatter(part[x], part[y], s=18, color=f"C{i}", label=str(name), alpha=0.8)
    vals = table[[x, y]].to_numpy(dtype=float)
    vals = vals[np.isfinite(vals) & (vals > 0)] if "norm" not in x else vals[np.isfinite(vals)]
    if len(vals):
        lo, hi = vals.min(), vals.max()
        ax.plot([lo, hi], [lo, hi], "k--", lw=1, label="x = y")
    if "norm" not in x and len(vals):
        ax.set(xscale="log", yscale="log")
    ax.set(xlabel=x.replace("_", " "), ylabel=y.replace("_", " "), title=title)
    ax.legend(loc="best")
    return fig


def distance_figure(table: pd.DataFrame, metric: str = "mim") -> Figure:
    """Heatmap of an all-to-all distance table (``soup.distance_table``; rows, columns: uids)."""
    fig = _figure((6, 5))
    ax = fig.subplots()
    vals = table.to_numpy(dtype=float).copy()
    np.fill_diagonal(vals, np.nan)  # self-distances (0) would swamp the colour scale
    with np.errstate(divide="ignore"):
        image = ax.imshow(np.log10(vals), cmap="viridis", interpolation="nearest")
    ticks = np.arange(0, len(table), max(1, len(table) // 10))
    ax.set_xticks(ticks, [str(table.columns[i]) for i in ticks])
    ax.set_yticks(ticks, [str(table.index[i]) for i in ticks])
    ax.set(xlabel="particle uid", ylabel="particle uid", title=f"{metric.upper()} distances")
    fig.colorbar(image, ax=ax, label=f"log10 {metric.upper()} distance")
    return fig


def organism_sizes_figure(sizes: pd.DataFrame, title: str = "Organism sizes") -> Figure:
    """Organisms per size over time: marker area ∝ count; line = largest organism.

    sizes: long table step, size, count (``soup.organism_sizes``).
    """
    _require(sizes, ("step", "size", "count"), "organism_sizes_figure")
    fig = _figure((7, 4))
    ax = fig.subplots()
    ax.scatter(
        sizes["step"],
        sizes["size"],
        s=10 + 10 * sizes["count"],
        alpha=0.6,
        label="organisms of this size (area ∝ count)",
    )
    if len(sizes):
        largest = sizes.groupby("step")["size"].max()
        ax.plot(largest.index, largest.to_numpy(), "k-", lw=1, label="largest organism")
    ax.set(xlabel="tick", ylabel="organism size (particles)", title=title)
    ax.set_ylim(0, max(3, int(sizes["size"].max()) + 1) if len(sizes) else 3)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(loc="lower right")
    return fig


def lineage_figure(table: pd.DataFrame, title: str = "Lineage tree") -> Figure:
    """Lineage tree of a small soup: x = birth tick, one row per uid, parent → child lines.

    table: ``soup.lineage_table`` (uid, parent, born_at, final_type, alive).
    """
    _require(table, ("uid", "parent", "born_at", "final_type"), "lineage_figure")
    fig = _figure((7, max(3.0, 0.12 * len(table) + 1)))
    ax = fig.subplots()
    row = {int(u): i for i, u in enumerate(table["uid"])}
    born = dict(zip(table["uid"].astype(int), table["born_at"], strict=True))
    for u, p in zip(table["uid"].astype(int), table["parent"].astype(int), strict=True):
        if p in row:
            ax.plot([born[p], born[u], born[u]], [row[p], row[p], row[u]], color="0.6", lw=0.8)
    for kind, part in table.groupby("final_type", sort=True):
        label = kind if kind else "dead"
        ax.scatter(
            part["born_at"],
            [row[int(u)] for u in part["uid"]],
            s=16,
            label=label,
            facecolors=TYPE_COLORS.get(kind, "none"),  # dead particles: hollow circles
            edgecolors=TYPE_COLORS.get(kind, "black"),
        )
    ax.set(xlabel="birth tick", ylabel="particle (uid order)", title=title)
    lo, hi = float(table["born_at"].min()), float(table["born_at"].max())
    ax.set_xlim(lo - 0.5 - 0.05 * (hi - lo), hi + 0.5 + 0.05 * (hi - lo))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(title="type at end", loc="upper left", bbox_to_anchor=(1.01, 1))
    return fig


def versus_figure(
    frame: pd.DataFrame,
    x: str,
    xlabel: str,
    ylabel: str,
    reference: str = "reference",
    ours: str = "mean over seeds",
) -> Figure:
    """Ours (column ``ours_mean``) beside the reference (column ``reference``) against ``x``."""
    _require(frame, (x, "ours_mean", "reference"), "versus_figure")
    fig = _figure((6, 4))
    ax = fig.subplots()
    ax.plot(frame[x], frame["ours_mean"], "o-", label=f"ours ({ours})")
    ax.plot(frame[x], frame["reference"], "s--", label=f"reference: {reference}")
    ax.set(xlabel=xlabel, ylabel=ylabel, title=f"{ylabel} vs {xlabel}")
    ax.legend(loc="best")
    return fig


def observables_figure(obs: pd.DataFrame, title: str = "Observables") -> Figure:
    """Every observable over the recorded steps, one small panel each (any model kind)."""
    cols = [c for c in obs.columns if obs[c].notna().any()][:12]
    rows = max(1, -(-len(cols) // 3))
    fig = _figure((10, 2.4 * rows))
    for i, col in enumerate(cols):
        ax = fig.add_subplot(rows, 3, i + 1)
        series = obs[col].dropna()
        ax.plot(series.index, series.to_numpy(), marker="." if len(series) < 30 else None)
        ax.set_title(col, fontsize=9)
        ax.set_xlabel("step", fontsize=8)
    fig.suptitle(title)
    return fig


def save_figure(
    fig: Figure, data: pd.DataFrame | pd.Series, out_dir: str | Path, name: str
) -> tuple[Path, Path]:
    """Write ``name.png`` and ``name.csv`` (the plotted table) into ``out_dir``; close ``fig``.

    Returns: (png path, csv path).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    png, csv = out / f"{name}.png", out / f"{name}.csv"
    fig.savefig(png, dpi=120)
    frame = data.to_frame() if isinstance(data, pd.Series) else data
    keep_index = frame.index.name is not None
    frame.to_csv(csv, index=keep_index)
    return png, csv


__all__ = [
    "TYPE_COLORS",
    "basin_figure",
    "counts_figure",
    "distance_figure",
    "final_counts_figure",
    "lineage_figure",
    "organism_sizes_figure",
    "robustness_figure",
    "save_figure",
    "trajectories_figure",
    "versus_figure",
]
