"""The figures of evolution runs: each takes the table it plots and returns a ``Figure``.

Tables come from ``evolution.py``; ``plots.save_figure`` writes PNG + the same table as CSV.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from .plots import _figure


def _fitness_label(table: pd.DataFrame) -> str:
    """The fitness definition a table was computed with (its ``attrs["fitness"]``)."""
    return str(table.attrs.get("fitness", "W"))

#: tab20 without its two greys, so no clone looks like the grey background
CLONE_COLORS = [c for i, c in enumerate(colormaps["tab20"].colors) if i not in (14, 15)]
CLASS_COLORS = {"lethal": "#d62728", "deleterious": "#ff7f0e", "neutral": "#7f7f7f",
                "beneficial": "#2ca02c"}  # fmt: skip


def adaptation_figure(table: pd.DataFrame) -> Figure:
    """Four panels over generations: fitness/fertility/survival, mutation rate, α, robustness."""
    fig = _figure((10, 6.5))
    axes = fig.subplots(2, 2, sharex=True).ravel()
    g = table.index.to_numpy()
    panels = (
        (axes[0], tuple(c for c in ("mean_fitness", "mean_viability", "mean_fertility",
                                    "survival") if table[c].notna().any()),
         "value", "mean fitness, viability, fertility, survival"),
        (axes[1], ("mutation_rate",), "mutations per replication", "mutation rate"),
        (axes[2], ("mean_alpha",), "α", "mean α (task weight)"),
        (axes[3], ("robustness",), "1 − mean |ΔW|", "mutational robustness"),
    )  # fmt: skip
    for ax, cols, ylabel, title in panels:
        for i, col in enumerate(cols):
            color = f"C{i}"
            ax.plot(g, table[col], ".", color=color, alpha=0.35, ms=4)
            ax.plot(g, table[f"{col}_rolling"], "-", color=color, label=col)
        ax.set(ylabel=ylabel, title=title)
        if len(cols) > 1:
            ax.legend(fontsize=8)
    rate = table["mutation_rate"].to_numpy(float)
    if np.nanmin(rate, initial=np.inf) > 0 and np.nanmax(rate, initial=0) / np.nanmin(
            rate, initial=np.inf) > 10:  # fmt: skip
        axes[1].set_yscale("log")
    for ax in axes[2:]:
        ax.set_xlabel("generation")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    fig.suptitle(f"Adaptation (rolling mean over {table.attrs.get('window', 1)} generations)\n"
                 f"{_fitness_label(table)}", fontsize=10)
    return fig


def fitness_vs_mutation_figure(table: pd.DataFrame) -> Figure:
    """Mean fitness against mutation rate, one point per generation, coloured by generation."""
    fig = _figure((6, 4.5))
    ax = fig.subplots()
    sc = ax.scatter(table["mutation_rate"], table["mean_fitness"], c=table.index.to_numpy(),
                    cmap="viridis", s=18)  # fmt: skip
    fig.colorbar(sc, ax=ax, label="generation")
    ax.set(xlabel="mutation rate (mutations per replication)", ylabel="mean fitness",
           title=f"Fitness vs mutation rate\n{_fitness_label(table)}")  # fmt: skip
    ax.title.set_fontsize(9)
    return fig


def alleles_figure(freq: pd.DataFrame, min_freq: float) -> Figure:
    """Derived-allele frequency per site over generations (sites reaching ``min_freq``)."""
    fig = _figure((8, 4.5))
    ax = fig.subplots()
    for col in freq.columns:
        ax.plot(freq.index, freq[col], lw=1, label=col if freq.shape[1] <= 12 else None)
    ax.axhline(1.0, color="k", lw=0.5, ls=":")
    ax.set(xlabel="generation", ylabel="derived-allele frequency", ylim=(-0.02, 1.02),
           title=f"Derived alleles reaching {min_freq:g} ({freq.shape[1]} sites)")  # fmt: skip
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if freq.shape[1] <= 12:
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
    return fig


def muller_stack(shares: pd.DataFrame, parent: dict[int, int]) -> tuple[list[str], np.ndarray]:
    """Layers (labels, values [L, T]) nesting each clone inside its parent's band."""
    from .evolution import muller_layers

    layers = muller_layers(parent)
    seen: dict[int, int] = {c: layers.count(c) for c in set(layers)}
    labels, values = [], []
    for c in layers:
        col = "background" if c < 0 else f"clone_{c}"
        labels.append(col)
        values.append(shares[col].to_numpy(float) / seen[c])
    return labels, np.asarray(values)


def muller_figure(shares: pd.DataFrame, parent: dict[int, int]) -> Figure:
    """Muller plot: the clones' shares stacked after a depth-first order of the clone tree."""
    fig = _figure((9, 4.5))
    ax = fig.subplots()
    labels, values = muller_stack(shares, parent)
    names = [c for c in shares.columns]
    colors = {c: ("#dddddd" if c == "background" else CLONE_COLORS[i % len(CLONE_COLORS)])
              for i, c in enumerate(names)}  # fmt: skip
    ax.stackplot(shares.index.to_numpy(), values, colors=[colors[lab] for lab in labels],
                 linewidth=0)  # fmt: skip
    ax.set(xlabel="generation", ylabel="share of the population", ylim=(0, 1),
           xlim=(shares.index.min(), max(shares.index.max(), shares.index.min() + 1)),
           title=f"Muller plot ({len(names) - 1} clones)")  # fmt: skip
    peak = shares.max()
    shown = set(peak.drop("background", errors="ignore").nlargest(15).index)  # the legend fits 16
    shown |= {"background"} & set(names)
    handles = [ax.fill_between([], [], color=colors[c], label=c) for c in names if c in shown]
    ax.legend(handles=handles, fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
    return fig


def dfe_figure(periods: pd.DataFrame, per_generation: pd.DataFrame) -> Figure:
    """Class shares of new mutations per period (stacked bars)."""
    fig = _figure((7, 4.5))
    ax = fig.subplots()
    x = np.arange(len(periods))
    bottom = np.zeros(len(periods))
    for c, color in CLASS_COLORS.items():
        v = periods[c].fillna(0).to_numpy()
        ax.bar(x, v, bottom=bottom, color=color, label=c)
        bottom += v
    ax.set_xticks(x, [f"g{a}-{b}\n(n={n})" for a, b, n in zip(
        periods["first_generation"], periods["last_generation"], periods["n_mutants"],
        strict=True)])  # fmt: skip
    ax.set(ylabel="share of mutant offspring", ylim=(0, 1),
           title="Distribution of fitness effects of new mutations by period\n"
                 f"{_fitness_label(periods)}")  # fmt: skip
    ax.title.set_fontsize(9)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    return fig


def dfe_time_figure(per_generation: pd.DataFrame) -> Figure:
    """Lethal and neutral shares of new mutations per generation (rolling mean)."""
    fig = _figure((7, 4))
    ax = fig.subplots()
    window = max(1, len(per_generation) // 10)
    for c in ("lethal", "neutral"):
        ax.plot(per_generation.index, per_generation[c], ".", color=CLASS_COLORS[c], alpha=0.4)
        ax.plot(per_generation.index, per_generation[c].rolling(window, min_periods=1).mean(),
                color=CLASS_COLORS[c], label=c)  # fmt: skip
    ax.set(xlabel="generation", ylabel="share of mutant offspring", ylim=(-0.02, 1.02),
           title=f"Lethal and neutral shares over time\n{_fitness_label(per_generation)}")
    ax.title.set_fontsize(9)
    ax.legend(fontsize=8)
    return fig


def neighbourhood_figure(table: pd.DataFrame) -> Figure:
    """Dead share of the commonest genotype's 1-bit and random 2-, 4-, 8-bit mutants."""
    fig = _figure((7, 4))
    ax = fig.subplots()
    for col in [c for c in table.columns if c.startswith("dead_")]:
        ax.plot(table.index, table[col], "o-", ms=3, label=f"{col.split('_')[1]}-bit mutants")
    ax.set(xlabel="generation", ylabel="dead share of mutants", ylim=(-0.02, 1.02),
           title="Neighbourhood of the commonest living genotype (decoded, not trained)")
    ax.title.set_fontsize(9)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(fontsize=8)
    return fig


def spectrum_figure(rates: pd.DataFrame, table: pd.DataFrame) -> Figure:
    """Per-site error rate of the copies made (heat map) and the hot spots' lethal share."""
    fig = _figure((9, 6))
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(2, 1))
    g = rates.index.to_numpy()
    image = top.imshow(rates.to_numpy(float).T, aspect="auto", origin="lower", cmap="magma",
                       extent=(g.min() - 0.5, g.max() + 0.5, -0.5, rates.shape[1] - 0.5),
                       vmin=0, vmax=max(float(np.nanmax(rates.to_numpy(float), initial=0)), 1e-9))
    fig.colorbar(image, ax=top, label="wrong copies / copies")
    top.set(ylabel="site", title="The copier's mutation spectrum")
    for col, color in (("hot_share", "C0"), ("hot_lethal_share", "C3")):
        bottom.plot(table.index, table[col], ".-", color=color, label=col)
    bottom.set(xlabel="generation", ylabel="share", ylim=(-0.02, 1.02))
    bottom.legend(fontsize=8)
    return fig


__all__ = [
    "adaptation_figure",
    "alleles_figure",
    "dfe_figure",
    "dfe_time_figure",
    "fitness_vs_mutation_figure",
    "muller_figure",
    "muller_stack",
    "neighbourhood_figure",
    "spectrum_figure",
]


def epistasis_figure(pairs: pd.DataFrame) -> Figure:
    """ε of every tested site pair as a matrix: sign epistasis ringed, undefined ε grey."""
    fig = _figure((6.5, 5.5))
    ax = fig.subplots()
    sites = sorted({*pairs["site_a"].astype(int), *pairs["site_b"].astype(int)})
    pos = {s: i for i, s in enumerate(sites)}
    grid = np.full((len(sites), len(sites)), np.nan)
    for _, row in pairs.iterrows():
        i, j = pos[int(row["site_a"])], pos[int(row["site_b"])]
        grid[i, j] = grid[j, i] = row["epsilon"]
    bound = max(float(np.nanmax(np.abs(grid), initial=0.0)), 0.05)  # tiny ε stays near white
    ax.set_facecolor("#dddddd")  # undefined ε (a dead mutant) and untested pairs
    image = ax.imshow(grid, cmap="RdBu_r", vmin=-bound, vmax=bound)
    fig.colorbar(image, ax=ax, label="ε = log(W_ab·W_0 / (W_a·W_b))")
    for _, row in pairs.iterrows():
        i, j = pos[int(row["site_a"])], pos[int(row["site_b"])]
        text = "n/a" if np.isnan(row["epsilon"]) else f"{row['epsilon']:+.2f}"
        text += "*" if bool(row["significant"]) else ""
        for y, x in ((i, j), (j, i)):
            ax.text(x, y, text, ha="center", va="center", fontsize=7)
        if bool(row["sign_epistasis"]):
            ax.plot([j, i], [i, j], "o", mfc="none", mec="k", ms=22)
    ax.set_xticks(range(len(sites)), [str(s) for s in sites])
    ax.set_yticks(range(len(sites)), [str(s) for s in sites])
    ax.set(xlabel="site", ylabel="site",
           title="pairwise epistasis (* beyond 2 se; ringed: sign epistasis)")
    return fig
