"""Figures of organism runs (``science/organism.md``, *Analyses*); tables from ``organism.py``.

Each function takes the table it plots and returns a matplotlib ``Figure`` drawn by the Agg
canvas outside pyplot, like ``plots.py``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from .plots import _figure, _require

ORGANISM_COLORS = {"divergent": "#d62728", "zero": "#7f7f7f", "sr": "#2ca02c", "f": "#1f77b4"}
ORGANISM_NAMES = {"divergent": "divergent", "zero": "zero", "sr": "PN_SR", "f": "PN_F"}
STRATEGY_COLORS = {
    "none": "0.4",
    "zero_sr": "#2ca02c",
    "zero_f": "#1f77b4",
    "zero_zero": "#7f7f7f",
    "zero_divergent": "#d62728",
    "l1": "#ff7f0e",
}
TRAJECTORY_LINES = 150  # particles drawn per panel at most (the CSV holds all)


def counts_figure(counts: pd.DataFrame, title: str = "Particle types of the organism") -> Figure:
    """Stack plot of particles per type at each validation epoch (paper Figs. 2, 9)."""
    fig = _figure((7, 4))
    ax = fig.subplots()
    labels = [t for t in ORGANISM_COLORS if t in counts.columns]
    ax.stackplot(
        counts.index.to_numpy(),
        counts[labels].to_numpy().T,
        labels=[ORGANISM_NAMES[t] for t in labels],
        colors=[ORGANISM_COLORS[t] for t in labels],
        alpha=0.85,
    )
    ax.set(xlabel="epoch", ylabel="particles", title=title)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlim(counts.index.min(), max(counts.index.max(), counts.index.min() + 1))
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), title="type")
    return fig


def curves_figure(table: pd.DataFrame, title: str | None = None) -> Figure:
    """SR loss and task loss (log) and train/test metric per epoch, mean ± sd over runs.

    table: ``organism.curves_over_runs`` (step, measure, mean, sd, n).
    """
    _require(table, ("step", "measure", "mean", "sd"), "curves_figure")
    metric = table.attrs.get("metric", "metric")
    runs = table.attrs.get("runs", int(table["n"].max()) if "n" in table and len(table) else 1)
    fig = _figure((12, 3.8))
    axes = fig.subplots(1, 3)
    panels = (
        (axes[0], ("sr_loss",), "self-replication loss (mean MSE)", True),
        (axes[1], ("task_loss",), "task loss", True),
        (axes[2], ("train_metric", "test_metric"), metric, metric == "mae"),
    )
    for ax, measures, ylabel, log in panels:
        for i, m in enumerate(measures):
            part = table[table["measure"] == m].sort_values("step")
            if part.empty:
                continue
            x, mu, sd = part["step"].to_numpy(), part["mean"].to_numpy(), part["sd"].to_numpy()
            ax.plot(x, mu, color=f"C{i}", label=m.replace("_", " "))
            lo = np.maximum(mu - sd, mu * 1e-3) if log else mu - sd
            ax.fill_between(x, lo, mu + sd, color=f"C{i}", alpha=0.25, lw=0)
        if log:
            ax.set_yscale("log")
        ax.set(xlabel="epoch", ylabel=ylabel)
        if len(measures) > 1:
            ax.legend(loc="best")
    fig.suptitle(title or f"Training curves, mean ± sd over {runs} run{'s' * (runs != 1)}")
    return fig


def dropout_figure(
    table: pd.DataFrame,
    counts: pd.Series | None = None,
    title: str = "Specialist dropout vs l1 pruning",
) -> Figure:
    """Bar plot of the test metric per strategy beside a pie chart of the type counts."""
    _require(table, ("strategy", "n_removed", "metric"), "dropout_figure")
    fig = _figure((10, 4))
    ax, pie = fig.subplots(1, 2, width_ratios=[1.6, 1])
    names = table["strategy"].tolist()
    bars = ax.bar(names, table["metric"], color=[STRATEGY_COLORS.get(s, "C0") for s in names])
    ax.bar_label(
        bars,
        labels=[
            f"{m:.3g}\n({k} removed)"
            for m, k in zip(table["metric"], table["n_removed"], strict=True)
        ],
        fontsize=8,
    )
    ax.set(xlabel="strategy", ylabel=f"test {table.attrs.get('metric', 'metric')}", title=title)
    ax.margins(y=0.2)
    if counts is not None:
        counts = counts[counts > 0]
        pie.pie(
            counts.to_numpy(),
            labels=[f"{ORGANISM_NAMES.get(t, t)} {int(v)}" for t, v in counts.items()],
            colors=[ORGANISM_COLORS.get(t, "C0") for t in counts.index],
        )
        pie.set_title("particles per type (final)")
    else:
        pie.set_axis_off()
    return fig


def pruning_figure(table: pd.DataFrame, title: str = "Metric vs fraction pruned") -> Figure:
    """Test metric against the fraction of particles removed, one line per strategy."""
    _require(table, ("strategy", "fraction", "metric"), "pruning_figure")
    fig = _figure((7, 4.5))
    ax = fig.subplots()
    labels = {"l1": "l1 magnitude pruning (|w̃|)", "zero_sr": "PN_SR first, then |w̃|"}
    for strategy, part in table.groupby("strategy", sort=True):
        part = part.sort_values("fraction")
        ax.plot(
            part["fraction"],
            part["metric"],
            marker=".",
            label=labels.get(strategy, strategy),
            color=STRATEGY_COLORS.get(strategy),
        )
    n_sr, n = table.attrs.get("n_sr"), table.attrs.get("n_particles")
    if n_sr and n:
        ax.axvline(n_sr / n, color="0.5", ls="--", lw=1, label=f"all {n_sr} PN_SR removed")
    ax.set(
        xlabel="fraction of particles removed",
        ylabel=f"test {table.attrs.get('metric', '')}",
        title=title,
    )
    ax.legend(loc="best")
    return fig


def heatmap_figure(
    table: pd.DataFrame,
    shape: tuple[int, int],
    title: str = "PN_SR of the first layer over the input pixels",
) -> Figure:
    """Three panels: #cells with a PN_SR per pixel, Σ |w̃| of those, the mean test image."""
    _require(table, ("pixel", "n_sr", "sum_abs_w_sr", "mean_image"), "heatmap_figure")
    fig = _figure((12, 4))
    axes = fig.subplots(1, 3)
    panels = (
        ("n_sr", "cells with a PN_SR here", "Greens"),
        ("sum_abs_w_sr", "Σ |w̃| of those PN_SR", "Greens"),
        ("mean_image", "mean test image", "gray"),
    )
    for ax, (col, label, cmap) in zip(axes, panels, strict=True):
        img = ax.imshow(
            table.sort_values("pixel")[col].to_numpy().reshape(shape),
            cmap=cmap,
            interpolation="nearest",
        )
        ax.set_title(label, fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
        fig.colorbar(img, ax=ax, shrink=0.8)
    fig.suptitle(title)
    return fig


def connectivity_figure(table: pd.DataFrame, title: str = "Connectivity per type") -> Figure:
    """One panel per particle type: a segment per particle from its source to its cell."""
    _require(table, ("type", "x0", "y0", "x1", "y1"), "connectivity_figure")
    types = [t for t in ORGANISM_COLORS if t in set(table["type"])]
    fig = _figure((4 * max(1, len(types)), 4))
    axes = np.atleast_1d(fig.subplots(1, max(1, len(types)), sharey=True))
    for ax, t in zip(axes, types, strict=False):
        part = table[table["type"] == t]
        segs = np.stack([part[["x0", "y0"]].to_numpy(), part[["x1", "y1"]].to_numpy()], axis=1)
        alpha = float(np.clip(30 / max(len(part), 1), 0.05, 0.8))
        ax.add_collection(LineCollection(segs, colors=ORGANISM_COLORS[t], alpha=alpha, lw=0.8))
        ax.set_xlim(table["x0"].min() - 0.1, table["x1"].max() + 0.1)
        ax.set_ylim(-0.05, 1.05)
        ax.set_title(f"{ORGANISM_NAMES[t]} ({len(part)})")
        ax.set_xlabel("neuron layer − 1 (−1 = input)")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes[0].set_ylabel("position in layer (normalised)")
    fig.suptitle(title)
    return fig


def trajectories_figure(table: pd.DataFrame, title: str = "PCA trajectories per layer") -> Figure:
    """3-D (pc1, pc2, epoch) per weight layer (columns) and PCA mode (rows), by final type."""
    _require(
        table, ("mode", "layer", "row", "step", "pc1", "pc2", "final_type"), "trajectories_figure"
    )
    layers = sorted(table["layer"].unique())
    modes = [m for m in ("grouped", "single") if m in set(table["mode"])]
    fig = _figure((4.2 * len(layers), 4 * len(modes)))
    rng = np.random.default_rng(0)
    for i, mode in enumerate(modes):
        for j, layer in enumerate(layers):
            ax = fig.add_subplot(len(modes), len(layers), i * len(layers) + j + 1, projection="3d")
            part = table[(table["mode"] == mode) & (table["layer"] == layer)]
            rows = part["row"].unique()
            if len(rows) > TRAJECTORY_LINES:
                rows = np.sort(rng.choice(rows, TRAJECTORY_LINES, replace=False))
            for _, p in part[part["row"].isin(rows)].groupby("row", sort=True):
                p = p.sort_values("step")
                color = ORGANISM_COLORS.get(str(p["final_type"].iloc[0]), "C0")
                ax.plot(p["pc1"], p["pc2"], p["step"], color=color, lw=0.6, alpha=0.6)
            ax.set_title(f"layer {layer}, {mode} PCA", fontsize=9)
            ax.set(xlabel="pc1", ylabel="pc2", zlabel="epoch")
    fig.suptitle(title + " (colour: type at the end; green PN_SR, blue PN_F)")
    return fig


__all__ = [
    "ORGANISM_COLORS",
    "connectivity_figure",
    "counts_figure",
    "curves_figure",
    "dropout_figure",
    "heatmap_figure",
    "pruning_figure",
    "trajectories_figure",
]
