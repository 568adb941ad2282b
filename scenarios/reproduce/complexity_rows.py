"""``reproduce soup`` row ``complexity`` (beyond the papers): does H mark replicators?

Does high-order entropy mark the rise of replicators?

Per seed, ``soup/journal-v1``, ``soup/learn-from-v1`` and ``soup/melting-v1`` run at their
registered size (N = 20, 10, 20; 100 ticks) and record ``high_order_entropy`` (H,
``particles/complexity.py``) and ``count_fixpoint`` (F) every tick. Per scenario: F at the end,
H's rise over the run, the correlation of H and F over the ticks, and the lag of the
cross-correlation of their tick-to-tick changes (``analysis/complexity_finding.py``). Small
scale: 2 seeds × 40 ticks; paper scale: 10 seeds × 100 ticks (the table in ``docs/complexity.md``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from neurosoup.analysis import plots
from neurosoup.analysis.complexity_finding import finding_table, series_stats
from neurosoup.analysis.robustness import one_thread
from neurosoup.particles import runformat

from .common import Result, seeds_label

SCENARIOS = ("soup/journal-v1", "soup/learn-from-v1", "soup/melting-v1")
#: scale → (seeds, ticks; None = the scenario's 100)
PLAN: dict[str, tuple[int, int | None]] = {"small": (2, 40), "paper": (10, None)}
H, F = runformat.soup.HIGH_ORDER_ENTROPY, runformat.soup.count_observable("fixpoint")


def complexity_series(scenario: str, seed: int, ticks: int | None = None) -> pd.DataFrame:
    """H and F per tick (0 … ``ticks``, default the scenario's) of one registered soup."""
    from neurosoup.scenarios.registry import make

    soup = make(scenario, seed=seed)
    with one_thread():
        soup.run(ticks or soup.config.steps, progress=False)
    frame = soup.datacollector.get_model_vars_dataframe()
    return pd.DataFrame({"tick": np.arange(len(frame)), H: frame[H].to_numpy(float),
                         F: frame[F].to_numpy(float)})  # fmt: skip


def row_complexity(scale: str, seed: int, out: Path) -> list[Result]:
    """The finding over the plan's seeds (module docstring)."""
    n, ticks = PLAN[scale]
    stats, curves = [], []
    for scenario in SCENARIOS:
        for s in range(seed, seed + n):
            series = complexity_series(scenario, s, ticks)
            stats.append({"scenario": scenario, "seed": s, **series_stats(series[H], series[F])})
            curves.append(series.assign(scenario=scenario, seed=s))
    runs = pd.DataFrame(stats)
    runs.to_csv(out / "soup_complexity_runs.csv", index=False)
    table = finding_table(runs)
    table.to_csv(out / "soup_complexity.csv", index=False)
    mean = pd.concat(curves).groupby(["scenario", "tick"])[[H, F]].mean().reset_index()
    fig = Figure(figsize=(10, 3.5))
    axes = fig.subplots(1, len(SCENARIOS))
    for ax, scenario in zip(axes, SCENARIOS, strict=True):
        part = mean[mean["scenario"] == scenario]
        ax.plot(part["tick"], part[H], color="tab:purple")
        ax.set(title=f"{scenario.split('/')[1]} (mean of {n})", xlabel="tick")
        ax.twinx().plot(part["tick"], part[F], color="tab:green", alpha=0.7)
    axes[0].set_ylabel("high-order entropy (purple)")
    axes[-1].text(1.12, 0.5, "fixpoints (green)", rotation=90, transform=axes[-1].transAxes,
                  va="center")  # fmt: skip
    fig.tight_layout()
    plots.save_figure(fig, mean, out, "soup_complexity")
    common = dict(source="beyond the papers (docs/complexity.md): no reference",
                  scale=f"{n} seeds × 3 soups at their registered size, {ticks or 100} ticks",
                  seeds=seeds_label(seed, n))  # fmt: skip
    exp = "beyond the papers: high-order entropy beside the fixpoint count"
    res = []
    for row in table.itertuples(index=False):
        name = row.scenario.split("/")[1]
        res += [
            Result("complexity", exp, f"{name}: fixpoints at the end / H rise (bits per byte)",
                   f"{row.fixpoints_end} / {row.hoe_rise}", "— (beyond the papers)", **common),
            Result("complexity", exp, f"{name}: r(H, fixpoints) over ticks / r of changes at "
                   "the best lag / median lag (ticks; + = H after)",
                   f"{row.r_levels} / {row.r_changes} / {row.lag_median}",
                   "— (beyond the papers); a null result is a result", **common),
        ]  # fmt: skip
    return res


COMPLEXITY_ROWS = {"complexity": row_complexity}

__all__ = ["COMPLEXITY_ROWS", "PLAN", "SCENARIOS", "complexity_series", "row_complexity"]
