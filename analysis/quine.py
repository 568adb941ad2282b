"""Analyses and figures of quine run files (``kind = "quine"``, ``science/quine.md``).

Every table that shows SSE shows R² beside it, and a member whose SSE fell below its start
while R² ≤ 0.1 is flagged ``trivial``: guessing zero scores Σθ², so shrinking weights lowers
SSE with no copying (the zero-weight trap). Analyses (``neurosoup analyse FILE NAME``):

* ``members`` (the default) — one row per member: optimiser, λ, SSE at the start (in a quine
  soup: at the member's birth by overwrite), now and at its lowest, R² now and at its
  highest, margin, quotient, weight RMS, accuracy, class, ``trivial``;
* ``training`` — SSE and R² per epoch and member (long table; the figure: both over training,
  SSE on a log scale);
* ``regeneration`` — per regeneration: SSE and R² before and after it;
* ``tradeoff`` — accuracy and replication per member against its task weight λ (one run with
  per-member λ, or several runs: ``tradeoff_table([...])``);
* ``soup`` — the quine soup: per epoch, founders left, overwrites, median and upper R².

Readers only: nothing here imports ``neurosoup.chemistry`` or ``neurosoup.scenarios``.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure

from neurosoup.particles import ConfigError, trivial_mask
from neurosoup.particles.quine import QUINE_CLASSES, TRIVIAL_R2, classify_codes
from neurosoup.particles.runformat import quine as quine_fmt
from neurosoup.particles.runformat.common import ACTOR, APPLIED, CHANGED, EVENT_OPERATOR, EVENT_STEP

from . import plots
from .load import Run, open_run
from .report import Figures, register_analyses

F = quine_fmt
WEIGHTS = F.WEIGHTS
#: members drawn one line each; larger populations are drawn as a heatmap / quantile band
MAX_LINES = 12


def _check_quine(run: Run) -> None:
    if run.kind != F.KIND:
        raise ConfigError(f"{run.path} is a {run.kind} run; this analysis needs a quine run")


def member_values(run: Run, name: str) -> pd.DataFrame:
    """Observable ``name`` as a table: index ``step``, one column per member (0 … Q−1)."""
    _check_quine(run)
    step, value = run.observable(name)
    frame = pd.DataFrame(value.reshape(len(step), -1).astype(np.float64), index=step)
    frame.index.name, frame.columns.name = "step", "member"
    return frame


def population(run: Run) -> int:
    """Q, the number of members of a quine run."""
    return int(run.config.get("population", 1))


def _per_member(run: Run, key: str, default: object) -> list:
    value, q = run.config.get(key, default), population(run)
    return list(value) if isinstance(value, list) else [value] * q


def _now(run: Run) -> tuple[pd.Series, pd.Series, pd.Series, pd.Series]:
    """SSE and R² of the weights as they are after the last step (after its regeneration)."""
    sse, r2 = member_values(run, F.SSE), member_values(run, F.R2)
    sse_r, r2_r = member_values(run, F.SSE_REGEN), member_values(run, F.R2_REGEN)
    last_sse, last_r2 = sse.iloc[-1], r2.iloc[-1]
    regen = sse_r.iloc[-1].notna()
    return (last_sse.where(~regen, sse_r.iloc[-1]), last_r2.where(~regen, r2_r.iloc[-1]),
            sse, r2)  # fmt: skip


def classes(run: Run) -> tuple[int, list[str]]:
    """(step, class per member) of the last weight snapshot: divergent, zero or other."""
    step, w = run.series(WEIGHTS)
    codes = classify_codes(torch.tensor(np.asarray(w)).reshape(population(run), -1))
    return step, [QUINE_CLASSES[int(c)] for c in codes]


def members(run: Run) -> pd.DataFrame:
    """One row per member, SSE always beside R², with the ``trivial`` flag (the default).

    ``sse``, ``r2``, ``margin``, ``quotient``: the weights after the last step (after its
    regeneration where there is one); ``sse_min``/``r2_max`` over the run with their epochs;
    ``class`` from the last weight snapshot; ``trivial``: SSE fell below ``sse_start`` while
    R² ≤ 0.1 (or R² is NaN).
    """
    sse_now, r2_now, sse, r2 = _now(run)
    q = population(run)
    table = pd.DataFrame(index=pd.RangeIndex(q, name="member"))
    table["optimiser"] = _per_member(run, "optimiser", "adamax")
    table["sse_start"] = sse.iloc[0].to_numpy()
    born = births(run)
    if len(born):  # quine soup: an offspring's start is its birth (it replaced the member)
        last = born.groupby("member")["step"].max()
        table["born_at"] = 0
        table.loc[last.index, "born_at"] = last.to_numpy()
        table.loc[last.index, "sse_start"] = [sse.loc[t, m] for m, t in last.items()]
    table["sse"] = sse_now.to_numpy()
    table["r2"] = r2_now.to_numpy()
    table["sse_min"] = sse.min().to_numpy()
    table["epoch_sse_min"] = _arg(sse, np.nanargmin)
    table["r2_max"] = r2.max().to_numpy()
    table["epoch_r2_max"] = _arg(r2, np.nanargmax)
    weight_rms = member_values(run, F.WEIGHT_RMS).iloc[-1].to_numpy()
    n = _n_weights(run)
    table["margin"] = np.sqrt(table["sse"].to_numpy() / n)
    with np.errstate(divide="ignore", invalid="ignore"):
        table["quotient"] = np.log(n / table["sse"].to_numpy())
    table["weight_rms"] = weight_rms
    if run.config.get("network") == "auxiliary":
        table["task_weight"] = _per_member(run, "task_weight", 0.01)
        table["classification_only"] = _per_member(run, "classification_only", False)
        table["accuracy"] = member_values(run, F.ACCURACY).iloc[-1].to_numpy()
    if run.has_observable(F.ANCESTOR):
        table["ancestor"] = member_values(run, F.ANCESTOR).iloc[-1].to_numpy().astype(np.int64)
    table["class"] = classes(run)[1]
    col = {k: torch.tensor(table[k].to_numpy(dtype=np.float64)) for k in ("sse_start", "sse", "r2")}
    table["trivial"] = trivial_mask(col["sse_start"], col["sse"], col["r2"]).numpy()
    table.attrs["trivial_r2"] = TRIVIAL_R2
    return table


def births(run: Run) -> pd.DataFrame:
    """Offspring of the quine soup: step, member (overwritten), parent — winning overwrites."""
    ev = run.events
    if not len(ev) or EVENT_OPERATOR not in ev:
        return pd.DataFrame({"step": [], "member": [], "parent": []}, dtype=np.int64)
    ow = ev[(ev[EVENT_OPERATOR] == "overwrite") & ev[APPLIED].astype(bool)]
    return pd.DataFrame({"step": ow[EVENT_STEP].to_numpy(np.int64),
                         "member": ow[CHANGED].to_numpy(np.int64),
                         "parent": ow[ACTOR].to_numpy(np.int64)})  # fmt: skip


def _arg(frame: pd.DataFrame, fn: object) -> np.ndarray:
    """Step of each column's nanargmin/nanargmax (−1 where a column is all NaN)."""
    vals, steps = frame.to_numpy(), frame.index.to_numpy()
    out = np.full(vals.shape[1], -1, dtype=np.int64)
    ok = np.isfinite(vals).any(axis=0)
    if ok.any():
        out[ok] = steps[fn(np.where(np.isfinite(vals[:, ok]), vals[:, ok], np.nan), axis=0)]
    return out


def _n_weights(run: Run) -> int:
    _, w = run.series(WEIGHTS)
    return int(np.asarray(w).reshape(population(run), -1).shape[1])


def training(run: Run) -> pd.DataFrame:
    """Long table step, member, sse, r2, sse_regen, r2_regen, weight_rms (every epoch)."""
    parts = {k: member_values(run, k) for k in (F.SSE, F.R2, F.SSE_REGEN, F.R2_REGEN,
                                                F.WEIGHT_RMS)}  # fmt: skip
    long = pd.concat({k: v.stack() for k, v in parts.items()}, axis=1)
    return long.reset_index()


def regeneration(run: Run) -> pd.DataFrame:
    """One row per regeneration and member: SSE and R² right before and right after it.

    ``sse_ratio`` = after / before (< 1: regeneration lowered SSE). Empty without
    regeneration.
    """
    t = training(run)
    t = t[t["sse_regen"].notna()].rename(columns={"sse": "sse_before", "r2": "r2_before",
                                                  "sse_regen": "sse_after",
                                                  "r2_regen": "r2_after"})  # fmt: skip
    t["sse_ratio"] = t["sse_after"] / t["sse_before"]
    t.insert(1, "generation", t.groupby("member").cumcount() + 1)
    return t[["step", "generation", "member", "sse_before", "sse_after", "sse_ratio",
              "r2_before", "r2_after"]].reset_index(drop=True)  # fmt: skip


def tradeoff_table(runs: Iterable[Run | str | Path]) -> pd.DataFrame:
    """Accuracy vs replication per member over auxiliary runs: the λ sweep.

    ``runs``: open runs or paths (each with per-member or one λ). Columns: run, member,
    task_weight, classification_only, accuracy, sse, r2, trivial.
    """
    rows = []
    for item in runs:
        run = item if isinstance(item, Run) else open_run(item)
        try:
            if run.config.get("network") != "auxiliary":
                raise ConfigError(
                    f"{run.path} is a vanilla quine run; the trade-off needs auxiliary quines "
                    "(network = 'auxiliary')"
                )
            m = members(run).reset_index()
            m.insert(0, "run", run.path.name)
            rows.append(m[["run", "member", "task_weight", "classification_only", "accuracy",
                           "sse", "r2", "trivial"]])  # fmt: skip
        finally:
            if not isinstance(item, Run):
                run.close()
    if not rows:
        raise ConfigError("tradeoff_table needs at least one auxiliary quine run")
    return pd.concat(rows, ignore_index=True).sort_values(["task_weight", "run", "member"],
                                                          ignore_index=True)  # fmt: skip


def tradeoff(run: Run) -> pd.DataFrame:
    """``tradeoff_table`` of one run (a population with per-member λ)."""
    return tradeoff_table([run])


def soup(run: Run) -> pd.DataFrame:
    """The quine soup per epoch: founders left, overwrites so far, R² median / 90th pct.

    Columns: step, founders (distinct ``ancestor``), largest_lineage, overwrites (cumulative
    applied), learn_from (cumulative), r2_median, r2_q90, r2_max, copiers (members with
    R² > 0.5), trivial_like (R² ≤ 0.1). Empty for runs without operators.
    """
    if not run.has_observable(F.ANCESTOR):
        return pd.DataFrame(columns=["step", "founders", "largest_lineage", "overwrites",
                                     "learn_from", "r2_median", "r2_q90", "r2_max", "copiers",
                                     "trivial_like"])  # fmt: skip
    anc = member_values(run, F.ANCESTOR).to_numpy().astype(np.int64)
    r2 = member_values(run, F.R2)
    out = pd.DataFrame(index=r2.index)
    out["founders"] = [len(np.unique(a)) for a in anc]
    out["largest_lineage"] = [int(np.bincount(a).max()) for a in anc]
    for op, col in (("overwrite", "overwrites"), ("learn_from", "learn_from")):
        if run.has_observable(F.applied(op)):
            step, v = run.observable(F.applied(op))
            out[col] = pd.Series(np.cumsum(v.reshape(-1)), index=step)
        else:
            out[col] = 0.0
    vals = r2.to_numpy()
    finite = np.where(np.isfinite(vals), vals, -np.inf)
    with np.errstate(invalid="ignore"):
        out["r2_median"] = np.median(finite, axis=1)
        out["r2_q90"] = np.quantile(finite, 0.9, axis=1)
    out["r2_max"] = finite.max(axis=1)
    out["copiers"] = (finite > 0.5).sum(axis=1)
    out["trivial_like"] = (finite <= TRIVIAL_R2).sum(axis=1)
    return out.reset_index()


# ---- figures -------------------------------------------------------------------------------
def training_figure(table: pd.DataFrame, title: str = "Quine training: SSE and R²") -> Figure:
    """SSE (log scale) and R² over epochs on one figure, one line per member (or a band)."""
    fig = plots._figure((8, 6))
    ax_sse, ax_r2 = fig.subplots(2, 1, sharex=True)
    q = int(table["member"].max()) + 1
    for name, ax in (("sse", ax_sse), ("r2", ax_r2)):
        wide = table.pivot(index="step", columns="member", values=name)
        if q <= MAX_LINES:
            for m in wide.columns:
                ax.plot(wide.index, wide[m], lw=1.2, label=f"member {m}")
        else:
            lo, mid, hi = (wide.quantile(x, axis=1) for x in (0.1, 0.5, 0.9))
            ax.fill_between(wide.index, lo, hi, alpha=0.3, label="10–90 %")
            ax.plot(wide.index, mid, lw=1.5, label="median")
    ax_sse.set_yscale("log")
    ax_sse.set(ylabel="SSE (log)", title=title)
    ax_r2.axhline(TRIVIAL_R2, color="grey", ls=":", lw=1, label=f"R² = {TRIVIAL_R2} (trivial)")
    ax_r2.set(xlabel="epoch", ylabel="R²_rep")
    r2 = table["r2"].to_numpy()
    r2 = r2[np.isfinite(r2)]
    if len(r2):
        ax_r2.set_ylim(max(float(r2.min()), -1.5) - 0.05, min(float(r2.max()), 1.0) + 0.05)
    ax_r2.legend(loc="best", fontsize="small", ncol=2 if q > 4 else 1)
    return fig


def regeneration_figure(table: pd.DataFrame, title: str = "Effect of regeneration") -> Figure:
    """SSE (log) and R² right before and right after each regeneration, per generation."""
    fig = plots._figure((8, 6))
    ax_sse, ax_r2 = fig.subplots(2, 1, sharex=True)
    for m, part in table.groupby("member"):
        if m >= MAX_LINES:
            break
        c = f"C{int(m) % 10}"
        g = part["generation"]
        ax_sse.plot(g, part["sse_before"], "o-", color=c, label=f"{m}: after epochs")
        ax_sse.plot(g, part["sse_after"], "s--", color=c, label=f"{m}: after regen")
        ax_r2.plot(part["generation"], part["r2_before"], "o-", color=c)
        ax_r2.plot(part["generation"], part["r2_after"], "s--", color=c)
    ax_sse.set_yscale("log")
    ax_sse.set(ylabel="SSE (log)", title=title)
    ax_sse.legend(fontsize="small")
    ax_r2.axhline(TRIVIAL_R2, color="grey", ls=":", lw=1)
    ax_r2.set(xlabel="generation", ylabel="R²_rep")
    return fig


def tradeoff_figure(table: pd.DataFrame, title: str = "Accuracy vs replication over λ") -> Figure:
    """Accuracy and R² against λ (symlog), classification-only controls as dashed lines."""
    fig = plots._figure((8, 6))
    ax_acc, ax_r2 = fig.subplots(2, 1, sharex=True)
    quines = table[~table["classification_only"].astype(bool)]
    control = table[table["classification_only"].astype(bool)]
    for ax, col, label in ((ax_acc, "accuracy", "test accuracy"), (ax_r2, "r2", "R²_rep")):
        g = quines.groupby("task_weight")[col]
        ax.plot(quines["task_weight"], quines[col], "o", alpha=0.5, color="C0")
        ax.plot(g.mean().index, g.mean().to_numpy(), "-", color="C0", label="quines (mean)")
        if col == "accuracy" and len(control):
            ax.axhline(float(control[col].mean()), color="C3", ls="--",
                       label="classification only")  # fmt: skip
        ax.set_ylabel(label)
        ax.legend(fontsize="small")
    ax_r2.axhline(TRIVIAL_R2, color="grey", ls=":", lw=1)
    lam = quines["task_weight"].to_numpy()
    positive = lam[lam > 0]
    ax_r2.set_xscale("symlog", linthresh=float(positive.min()) if len(positive) else 1e-3)
    ax_r2.set_xlabel("task weight λ")
    ax_acc.set_title(title)
    return fig


def r2_members_figure(
    r2: pd.DataFrame, soup_table: pd.DataFrame | None = None,
    title: str = "R² per member over time",
) -> Figure:
    """Heatmap of R² per member (rows) and epoch (columns), clipped to [−1, 1].

    r2: ``member_values(run, F.R2)``; soup_table: ``soup(run)`` (founders left, quantiles).
    """
    fig = plots._figure((9, 6))
    ax_map, ax_line = fig.subplots(2, 1, sharex=True, height_ratios=(3, 1.3))
    vals = np.clip(r2.to_numpy().T, -1, 1)
    steps = r2.index.to_numpy()
    im = ax_map.imshow(np.where(np.isfinite(vals), vals, -1), aspect="auto", cmap="RdBu",
                       vmin=-1, vmax=1, origin="lower", interpolation="nearest",
                       extent=(steps[0] - 0.5, steps[-1] + 0.5, -0.5, vals.shape[0] - 0.5))
    fig.colorbar(im, ax=ax_map, label="R²_rep (clipped to [−1, 1])")  # fmt: skip
    ax_map.set(ylabel="member", title=title)
    s = soup_table
    if s is not None and len(s):
        ax_line.plot(s["step"], s["r2_median"].clip(lower=-1), label="median R²")
        ax_line.plot(s["step"], s["r2_q90"].clip(lower=-1), label="90th pct R²")
        ax2 = ax_line.twinx()
        ax2.plot(s["step"], s["founders"], color="C3", ls="--", label="founders left")
        ax2.set_ylabel("founders left", color="C3")
    else:
        ax_line.plot(steps, np.clip(np.nanmedian(r2.to_numpy(), axis=1), -1, None),
                     label="median R²")  # fmt: skip
    ax_line.set(xlabel="epoch", ylabel="R²")
    ax_line.legend(loc="upper left", fontsize="small")
    return fig


def quine_figures(run: Run, **_: int) -> Figures:
    """Every figure that fits a quine run."""
    out: Figures = {}
    t = training(run)
    out["training"] = (partial(training_figure, t), t)
    reg = regeneration(run)
    if len(reg):
        out["regeneration"] = (partial(regeneration_figure, reg), reg)
    if run.config.get("network") == "auxiliary":
        tr = tradeoff(run)
        if tr["task_weight"].nunique() > 1:
            out["tradeoff"] = (partial(tradeoff_figure, tr), tr)
    if population(run) > 1:
        data = member_values(run, F.R2)
        out["r2_members"] = (partial(r2_members_figure, data, soup(run)), data)
    return out


register_analyses(
    "quine",
    {"members": members, "training": training, "regeneration": regeneration,
     "tradeoff": tradeoff, "soup": soup},
    figures=quine_figures,
    default="members",
)  # fmt: skip

__all__ = [
    "births",
    "classes",
    "member_values",
    "members",
    "quine_figures",
    "r2_members_figure",
    "regeneration",
    "regeneration_figure",
    "soup",
    "tradeoff",
    "tradeoff_figure",
    "tradeoff_table",
    "training",
    "training_figure",
]
