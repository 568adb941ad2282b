"""A sweep folder (``neurosoup sweep``): its index, mean ± sd per grid point, one figure each.

Reads ``DIR/index.csv`` (one row per replicate: grid values, point, replicate, seed, file,
status, seconds, then the final figures of each run) and ``DIR/sweep.json`` (which columns
are grid keys). Only finished replicates (``status == done``) enter the summary.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from neurosoup.particles import ConfigError

INDEX_FILE, PLAN_FILE = "index.csv", "sweep.json"
FIXED_COLUMNS = ("point", "replicate", "seed", "file", "status", "seconds")


def is_sweep(path: str | Path) -> bool:
    """A folder holding a sweep's ``index.csv``."""
    return Path(path).is_dir() and (Path(path) / INDEX_FILE).is_file()


@dataclass(frozen=True)
class Sweep:
    """A sweep folder read: its plan (JSON), grid keys, figure names and index table."""

    path: Path
    plan: dict[str, Any]
    grid: tuple[str, ...]
    figures: tuple[str, ...]
    index: pd.DataFrame

    @property
    def done(self) -> pd.DataFrame:
        """The rows of finished replicates."""
        return self.index[self.index["status"] == "done"]

    def files(self) -> list[Path]:
        """The run files of the finished replicates (open them with ``open_run``)."""
        return [self.path / f for f in self.done["file"]]


def open_sweep(path: str | Path) -> Sweep:
    """Read a sweep folder; a folder without ``index.csv`` raises ``ConfigError``."""
    path = Path(path)
    if not is_sweep(path):
        raise ConfigError(
            f"{path} holds no {INDEX_FILE}; pass a run file (.h5) or a folder written by "
            "`neurosoup sweep`"
        )
    try:
        index = pd.read_csv(path / INDEX_FILE)
        plan = json.loads((path / PLAN_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise ConfigError(f"cannot read the sweep in {path} ({exc}); rerun the sweep") from None
    grid = tuple(plan.get("grid") or {}) if isinstance(plan, dict) else ()
    missing = [c for c in (*grid, *FIXED_COLUMNS) if c not in index.columns]
    if missing:
        raise ConfigError(f"{path / INDEX_FILE} lacks the columns {missing}; rerun the sweep")
    figures = tuple(c for c in index.columns if c not in grid and c not in FIXED_COLUMNS)
    return Sweep(path, plan, grid, figures, index)


def sweep_summary(sweep: Sweep) -> pd.DataFrame:
    """Mean, sd (sample) and n of every final figure per grid point (finished replicates).

    Columns: the grid keys, ``n``, then ``<figure>_mean`` and ``<figure>_sd`` per figure.
    """
    done = sweep.done
    keys = ["point", *sweep.grid]
    rows = []
    for _, group in done.groupby("point", sort=True):
        row = {k: group[k].iloc[0] for k in keys}
        row["n"] = len(group)
        for name in sweep.figures:
            values = pd.to_numeric(group[name], errors="coerce")
            row[f"{name}_mean"] = values.mean()
            row[f"{name}_sd"] = values.std(ddof=1) if len(values) > 1 else 0.0
        rows.append(row)
    columns = [*keys, "n", *(f"{n}_{s}" for n in sweep.figures for s in ("mean", "sd"))]
    return pd.DataFrame(rows, columns=columns).set_index("point")


def _label(row: pd.Series, keys: list[str]) -> str:
    return ", ".join(f"{k}={row[k]}" for k in keys) or "all"


def sweep_figure(summary: pd.DataFrame, grid: tuple[str, ...], name: str) -> Figure:
    """Mean ± sd of one final figure per grid point.

    The x axis is the first grid key (numeric values on a numeric axis); the other keys'
    combinations are separate lines.
    """
    fig = Figure(figsize=(6, 4))
    ax = fig.add_subplot()
    first, rest = (grid[0], list(grid[1:])) if grid else (None, [])
    groups = summary.groupby(rest, sort=False) if rest else [((), summary)]
    for _, part in groups:
        if first is None:
            x: Any = np.zeros(len(part))
        else:
            numeric = pd.to_numeric(part[first], errors="coerce")
            x = numeric.to_numpy() if numeric.notna().all() else part[first].astype(str)
        label = _label(part.iloc[0], rest) if rest else None
        ax.errorbar(x, part[f"{name}_mean"], yerr=part[f"{name}_sd"], marker="o", capsize=3,
                    label=label)  # fmt: skip
    ax.set_xlabel(first or "")
    ax.set_ylabel(f"{name} (mean ± sd)")
    n = summary["n"]
    ax.set_title(f"{name}: {int(n.min())}–{int(n.max())} replicates per point"
                 if n.min() != n.max() else f"{name}: {int(n.min())} replicates per point")
    if rest:
        ax.legend(fontsize="small")
    fig.tight_layout()
    return fig


def sweep_figures(sweep: Sweep) -> dict[str, tuple[Figure, pd.DataFrame]]:
    """One figure per final figure name: name → (figure, its table)."""
    summary = sweep_summary(sweep)
    if summary.empty:
        return {}
    out = {}
    for name in sweep.figures:
        table = summary[[*sweep.grid, "n", f"{name}_mean", f"{name}_sd"]]
        out[f"sweep_{name}"] = (sweep_figure(summary, sweep.grid, name), table)
    return out


__all__ = ["Sweep", "is_sweep", "open_sweep", "sweep_figure", "sweep_figures", "sweep_summary"]
