"""High-order entropy of every kind of run (``particles/complexity.py`` defines the measure).

* ``soup`` — the observable ``high_order_entropy`` recorded every tick; files written before
  it existed get it computed from their weight snapshots;
* ``organism`` — per snapshot, from the stored particle weights;
* ``quine`` — per snapshot, from the members' weights (``quines/weights``);
* ``evolution`` — per generation, from the packed genotypes (13 bytes each).

``complexity(run)`` is the analysis (``neurosoup analyse FILE complexity``) and
``complexity_figures`` the figure ``neurosoup plot`` adds for every kind: the measure over
time, with the number of fixpoints beside it for soups (do replicators raise it?).
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from neurosoup.particles import runformat
from neurosoup.particles.complexity import high_order_entropy, high_order_entropy_of_bytes

from .load import Run

NAME = runformat.soup.HIGH_ORDER_ENTROPY  # the soup observable; every kind's column name


def _from_snapshots(run: Run) -> pd.DataFrame:
    snaps = run.snapshots
    steps = snaps.steps.tolist()
    values = [high_order_entropy(snaps.weights(int(s))) for s in steps]
    return pd.DataFrame({"step": steps, NAME: values})


def _quine(run: Run) -> pd.DataFrame:
    group = run._get(runformat.quine.WEIGHTS)
    if group is None:
        return pd.DataFrame({"step": [], NAME: []})
    steps = group["step"][()].astype(np.int64)
    values = [high_order_entropy(group["value"][i]) for i in range(len(steps))]
    return pd.DataFrame({"step": steps, NAME: values})


def _evolution(run: Run) -> pd.DataFrame:
    from .evolution import population

    pop = population(run)
    gen = pop.frame["generation"].to_numpy()
    packed = np.packbits(pop.bits, axis=1)
    rows = [(int(g), high_order_entropy_of_bytes(packed[gen == g])) for g in np.unique(gen)]
    return pd.DataFrame(rows, columns=["step", NAME])


def complexity(run: Run) -> pd.DataFrame:
    """High-order entropy (bits per byte) per recorded step; soups add ``count_fixpoint``."""
    if run.kind == "evolution":
        return _evolution(run)
    if run.kind == "quine":
        return _quine(run)
    if run.kind == "soup" and run.has_observable(NAME):
        step, value = run.observable(NAME)
        table = pd.DataFrame({"step": step, NAME: value.reshape(-1)})
    else:
        table = _from_snapshots(run)
    if run.kind == "soup" and run.has_observable("count_fixpoint"):
        step, value = run.observable("count_fixpoint")
        fix = pd.Series(value.reshape(-1), index=step)
        table["count_fixpoint"] = fix.reindex(table["step"]).to_numpy()
    return table


def complexity_figure(table: pd.DataFrame, unit: str = "step") -> Figure:
    """High-order entropy over time (left axis); fixpoints on a right axis when present."""
    fig = Figure(figsize=(7, 3.6))
    ax = fig.add_subplot()
    ax.plot(table["step"], table[NAME], color="tab:purple", label="high-order entropy")
    ax.set_xlabel(unit)
    ax.set_ylabel("high-order entropy (bits / byte)")
    if "count_fixpoint" in table:
        right = ax.twinx()
        right.plot(table["step"], table["count_fixpoint"], color="tab:green", alpha=0.7,
                   label="fixpoints")  # fmt: skip
        right.set_ylabel("fixpoints")
        fig.legend(loc="upper left", fontsize=8)
    ax.set_title("Complexity: H0 − zlib bits per byte of the population")
    fig.tight_layout()
    return fig


UNITS = {"soup": "tick", "organism": "epoch", "quine": "epoch", "evolution": "generation"}


def complexity_figures(run: Run) -> dict[str, tuple]:
    """``{"complexity": (builder, table)}`` when the run has a value of the measure."""
    if run.kind not in UNITS:
        return {}
    table = complexity(run)
    if table.empty or not np.isfinite(table[NAME].to_numpy(float)).any():
        return {}
    return {"complexity": (partial(complexity_figure, table, UNITS[run.kind]), table)}


def _register() -> None:
    from .report import register_analyses

    for kind in UNITS:
        register_analyses(kind, {"complexity": complexity})


_register()

__all__ = ["NAME", "complexity", "complexity_figure", "complexity_figures"]
