"""Several runs of one kind side by side: observables aligned on steps, one figure, one table.

A fork (a run file whose spec has ``fork = {parent, step, …}``) holds its parent's rows before
its branch point; it is drawn, and tabled, from the branch point on, with the branch point
marked, so the curves split where the runs split. Reads run files only.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from neurosoup.particles import ConfigError

from .load import open_run
from .plots import _figure


@dataclass(frozen=True)
class Compared:
    """One run of a comparison: its label, kind, branch step (forks) and observables."""

    label: str
    kind: str
    branch: int | None
    observables: pd.DataFrame  # [steps, names], index ``step``


def _labels(paths: list[Path]) -> list[str]:
    """File stems, or fuller paths where stems collide."""
    stems = [p.stem for p in paths]
    if len(set(stems)) == len(stems):
        return stems
    return [str(p) for p in paths]


def load_runs(paths: list[str | Path]) -> list[Compared]:
    """Open each run file; refuse mixed kinds in one line."""
    paths = [Path(p) for p in paths]
    out = []
    for path, label in zip(paths, _labels(paths), strict=True):
        with open_run(path) as run:
            fork = run.spec.get("fork")
            branch = int(fork["step"]) if isinstance(fork, dict) and "step" in fork else None
            obs = run.observables
            if branch is not None:  # the parent's rows: drawn by the parent, not the fork
                obs = obs.copy()
                obs.loc[obs.index < branch, :] = np.nan
            out.append(Compared(label, run.kind, branch, obs))
    kinds = sorted({c.kind for c in out})
    if len(kinds) > 1:
        which = ", ".join(f"{p} is {c.kind}" for p, c in zip(paths, out, strict=True))
        raise ConfigError(f"compare takes runs of one kind, got {which}; compare each kind apart")
    return out


def scalar_names(runs: list[Compared]) -> list[str]:
    """Observables every run records (array observables count as their ``name_j`` columns)."""
    common = set(runs[0].observables.columns)
    for r in runs[1:]:
        common &= set(r.observables.columns)
    return sorted(common)


def choose(runs: list[Compared], names: list[str] | None) -> list[str]:
    """The observables to compare: ``names`` (checked), or every common one."""
    known = scalar_names(runs)
    if not names:
        if not known:
            raise ConfigError("these runs share no observable; nothing to compare")
        return known
    for name in names:
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1, cutoff=0.5)
            hint = f" Did you mean `{close[0]}`?" if close else ""
            raise ConfigError(
                f"unknown observable {name!r} for these {runs[0].kind} runs.{hint} Known: "
                f"{', '.join(known)}"
            )
    return list(names)


def compare_table(runs: list[Compared], names: list[str]) -> pd.DataFrame:
    """``[steps, observables × runs]``: columns ``<observable>:<run>``, outer-joined on step."""
    cols = {
        f"{name}:{r.label}": r.observables[name] for name in names for r in runs
    }
    frame = pd.concat(cols, axis=1).sort_index()
    frame.index.name = "step"
    return frame


def final_values(runs: list[Compared], names: list[str]) -> pd.DataFrame:
    """The last recorded value of each observable per run: ``[observables, runs]``."""
    data = {}
    for r in runs:
        data[r.label] = [r.observables[n].dropna().iloc[-1] if r.observables[n].notna().any()
                         else np.nan for n in names]  # fmt: skip
    return pd.DataFrame(data, index=pd.Index(names, name="observable"))


def compare_figure(runs: list[Compared], names: list[str]) -> Figure:
    """One panel per observable, one line per run; a dot where each fork branches off."""
    n = len(names)
    ncols = min(n, 3)
    nrows = math.ceil(n / ncols)
    fig = _figure((4.2 * ncols, 3.0 * nrows))
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    colors = [f"C{i % 10}" for i in range(len(runs))]
    for ax, name in zip(axes, names, strict=False):
        for r, color in zip(runs, colors, strict=True):
            s = r.observables[name].dropna()
            label = r.label if r.branch is None else f"{r.label} (fork at {r.branch})"
            ax.plot(s.index, s.to_numpy(), color=color, lw=1.2, label=label)
            if r.branch is not None and r.branch in s.index:
                ax.plot([r.branch], [s.loc[r.branch]], "o", color=color, ms=4)
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("step")
    for ax in axes[n:]:
        ax.set_visible(False)
    axes[0].legend(fontsize=7)
    return fig


__all__ = [
    "Compared",
    "choose",
    "compare_figure",
    "compare_table",
    "final_values",
    "load_runs",
    "scalar_names",
]
