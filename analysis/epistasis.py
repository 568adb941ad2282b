"""Pairwise epistasis from re-evaluated single and double mutants (``science/serann.md``).

``neurosoup evaluate RUN --pairs A:B …`` (or ``--top-k K``) re-trains a background genotype
W_0, its single mutants W_a, W_b (bit a, bit b flipped) and the double mutants W_ab, each R
times from fresh inits. A mutant's fitness is its mean fertility over those trainings (0 for a
dead program), with the standard error of that mean. Per pair:

* ε = log(W_ab·W_0 / (W_a·W_b)) — 0 when the two effects multiply; undefined (NaN) when a
  fitness is 0; its standard error by the delta method, se(ε)² = Σ_x (se_x / W_x)²;
  ``significant`` when |ε| > z·se(ε);
* the sign of each mutation's effect in each background (a on 0: W_a − W_0, a on b: W_ab − W_b;
  +1 / −1 beyond z standard errors of the difference, else 0); ``sign_epistasis`` when one
  mutation's effect changes sign with the other present, ``reciprocal`` when both do;
* ``synthetic_lethal``: both singles live, the double mutant's program is dead.

Readers only: the trainings come from ``neurosoup evaluate`` files (``read_evaluation``).
"""

from __future__ import annotations

from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd

from neurosoup.particles import ConfigError

from .evolution import Evaluation, read_evaluation

NO_SITE = -1
TINY = 1e-9  # smaller differences are rounding, not effects (noise-free planted values)
KINDS = ("undefined", "none", "positive", "negative", "sign", "reciprocal sign",
         "synthetic lethal")  # fmt: skip


#: what ε can be computed on: W = V·F (evaluate format 2), fertility, the mutation rate
MEASURES = ("fitness", "fertility", "mutations")


def measures_of(ev: Evaluation) -> list[str]:
    """The measures a file's mutant trainings hold: W and the mutation rate, or fertility only."""
    cols = set(ev.mutant_trainings.columns) if ev.mutant_trainings is not None else set()
    return [m for m in ("fitness", "mutations") if m in cols] or ["fertility"]


def mutant_fitness(mutants: pd.DataFrame, trainings: pd.DataFrame,
                   measure: str = "fertility") -> pd.DataFrame:  # fmt: skip
    """Per mutant: the mean of ``measure`` over its trainings (0 if dead) and its standard error.

    mutants: one row per mutant (``mutant``, ``site_a``, ``site_b``, ``alive``); trainings: one
    row per (mutant, training) with the ``measure`` column (dead mutants have none).
    ``measure``: ``fitness`` (W = V·F), ``fertility`` or ``mutations`` (mutations per copy; a
    dead mutant makes no copies: NaN, so ε is undefined).
    """
    if measure not in MEASURES:
        raise ConfigError(f"measure must be one of {', '.join(MEASURES)}, got {measure!r}")
    if measure not in trainings.columns:
        raise ConfigError(f"this evaluation has no {measure!r} per mutant training (written by an "
                          "older `neurosoup evaluate`); evaluate the run again")  # fmt: skip
    grouped = trainings.groupby("mutant")[measure]
    out = mutants.set_index("mutant")[["site_a", "site_b", "alive"]].copy()
    n = grouped.count().reindex(out.index, fill_value=0)
    mean = grouped.mean().reindex(out.index)
    sd = grouped.std(ddof=1).reindex(out.index)
    alive = out["alive"].astype(bool)
    out["n_trainings"] = n
    dead_value = np.nan if measure == "mutations" else 0.0
    out["w"] = np.where(alive, mean.fillna(dead_value), dead_value)
    out["w_se"] = np.where(alive & (n > 1), sd / np.sqrt(n.clip(lower=1)), 0.0)
    return out


def _sign(delta: np.ndarray, se: np.ndarray, z: float) -> np.ndarray:
    """+1 / −1 beyond z standard errors (and rounding), else 0."""
    bound = np.maximum(z * se, TINY)
    return np.where(delta > bound, 1, np.where(delta < -bound, -1, 0))


def pair_effects(w: pd.DataFrame, z: float = 2.0) -> pd.DataFrame:
    """ε, its standard error and the sign-epistasis flags of every double mutant in ``w``.

    w: ``mutant_fitness`` output (indexed by mutant; the background has both sites −1, a single
    mutant ``site_b`` −1). One row per double mutant whose singles and background are present.
    """
    if not z >= 0:
        raise ConfigError(f"z must be >= 0, got {z}")
    key = {(int(a), int(b)): m for m, a, b in zip(w.index, w["site_a"], w["site_b"], strict=True)}
    if (NO_SITE, NO_SITE) not in key:
        raise ConfigError("the mutant table has no background (a row with both sites -1)")
    bg = w.loc[key[(NO_SITE, NO_SITE)]]
    rows = []
    for (a, b), m in key.items():
        if a == NO_SITE or b == NO_SITE or (a, NO_SITE) not in key or (b, NO_SITE) not in key:
            continue
        wa, wb, wab = w.loc[key[(a, NO_SITE)]], w.loc[key[(b, NO_SITE)]], w.loc[m]
        rows.append({"site_a": a, "site_b": b, "w0": bg["w"], "wa": wa["w"], "wb": wb["w"],
                     "wab": wab["w"], "se0": bg["w_se"], "se_a": wa["w_se"], "se_b": wb["w_se"],
                     "se_ab": wab["w_se"], "alive_a": bool(wa["alive"]),
                     "alive_b": bool(wb["alive"]), "alive_ab": bool(wab["alive"])})  # fmt: skip
    cols = ["site_a", "site_b", "w0", "wa", "wb", "wab", "epsilon", "se_epsilon", "significant",
            "sign_a", "sign_a_given_b", "sign_b", "sign_b_given_a", "sign_epistasis",
            "reciprocal", "synthetic_lethal", "kind"]  # fmt: skip
    if not rows:
        return pd.DataFrame(columns=cols)
    t = pd.DataFrame(rows)
    ws = t[["w0", "wa", "wb", "wab"]].to_numpy(float)
    ses = t[["se0", "se_a", "se_b", "se_ab"]].to_numpy(float)
    defined = (ws > 0).all(axis=1)
    safe = np.where(ws > 0, ws, 1.0)
    logs = np.log(safe)
    t["epsilon"] = np.where(defined, logs[:, 3] + logs[:, 0] - logs[:, 1] - logs[:, 2], np.nan)
    t["se_epsilon"] = np.where(defined, np.sqrt(((ses / safe) ** 2).sum(axis=1)), np.nan)
    bound = np.maximum(z * t["se_epsilon"].fillna(0), TINY)
    t["significant"] = defined & (np.abs(t["epsilon"].fillna(0)) > bound)
    w0, wa, wb, wab = ws.T
    s0, sa, sb, sab = ses.T
    t["sign_a"] = _sign(wa - w0, np.hypot(sa, s0), z)
    t["sign_a_given_b"] = _sign(wab - wb, np.hypot(sab, sb), z)
    t["sign_b"] = _sign(wb - w0, np.hypot(sb, s0), z)
    t["sign_b_given_a"] = _sign(wab - wa, np.hypot(sab, sa), z)
    flip_a = t["sign_a"] * t["sign_a_given_b"] == -1
    flip_b = t["sign_b"] * t["sign_b_given_a"] == -1
    t["sign_epistasis"] = flip_a | flip_b
    t["reciprocal"] = flip_a & flip_b
    t["synthetic_lethal"] = t["alive_a"] & t["alive_b"] & ~t["alive_ab"]
    kind = np.where(t["significant"], np.where(t["epsilon"] > 0, "positive", "negative"), "none")
    kind = np.where(~defined, "undefined", kind)
    kind = np.where(t["sign_epistasis"], "sign", kind)
    kind = np.where(t["reciprocal"], "reciprocal sign", kind)
    kind = np.where(t["synthetic_lethal"], "synthetic lethal", kind)
    t["kind"] = kind
    return t[cols]


def epistasis(data: str | Path | Evaluation, z: float = 2.0,
              measure: str | None = None) -> pd.DataFrame:  # fmt: skip
    """The pair table of a ``neurosoup evaluate --pairs/--top-k`` file (see ``pair_effects``).

    ``measure``: ``fitness`` (W = V·F; the default where the file has it), ``fertility`` (the
    default of format-1 files) or ``mutations`` (ε on the mutation rate).
    """
    ev = data if isinstance(data, Evaluation) else read_evaluation(data)
    if ev.mutants is None or ev.mutant_trainings is None:
        raise ConfigError(f"{ev.meta.get('source', 'this file')}: the evaluation holds no "
                          "mutants; run `neurosoup evaluate RUN --pairs A:B` or `--top-k K`")
    measure = measure or measures_of(ev)[0]
    return pair_effects(mutant_fitness(ev.mutants, ev.mutant_trainings, measure), z)


def top_sites(freq: pd.DataFrame, k: int, keep: np.ndarray | None = None) -> list[int]:
    """The k sites whose derived-allele frequency changed most (max − min over generations).

    freq: ``analysis.evolution.allele_frequencies`` (generations × sites). Sites that never
    changed, and sites where ``keep`` [100] bool is False, are left out; ties go to the lower
    site.
    """
    if not (isinstance(k, int) and k >= 2):
        raise ConfigError(f"--top-k must be an int >= 2 (sites to pair), got {k!r}")
    change = (freq.max() - freq.min()).to_numpy(float)
    moved = change > 0
    allowed = moved if keep is None else moved & np.asarray(keep, bool)
    order = [int(s) for s in np.lexsort((np.arange(len(change)), -change)) if allowed[s]]
    if len(order) < 2:
        why = ("" if keep is None else
               f" whose single mutant lives ({int(moved.sum())} changed, {len(order)} viable)")
        raise ConfigError(f"fewer than two sites changed frequency in this run{why}; name the "
                          "site pairs with --pairs A:B")  # fmt: skip
    return sorted(order[:k])


def all_pairs(sites: list[int]) -> list[tuple[int, int]]:
    """Every unordered pair of ``sites``."""
    return [(a, b) for a, b in combinations(sorted(sites), 2)]


def summary(pairs: pd.DataFrame) -> dict[str, float]:
    """Counts of the pair table: pairs, defined, significant, sign, reciprocal, lethal."""
    n = len(pairs)
    defined = int(pairs["epsilon"].notna().sum()) if n else 0
    return {
        "pairs": n, "defined": defined,
        "significant": int(pairs["significant"].sum()) if n else 0,
        "sign_epistasis": int(pairs["sign_epistasis"].sum()) if n else 0,
        "reciprocal": int(pairs["reciprocal"].sum()) if n else 0,
        "synthetic_lethal": int(pairs["synthetic_lethal"].sum()) if n else 0,
        "mean_abs_epsilon": float(pairs["epsilon"].abs().mean()) if defined else float("nan"),
    }  # fmt: skip


__all__ = ["KINDS", "MEASURES", "NO_SITE", "all_pairs", "epistasis", "measures_of",
           "mutant_fitness", "pair_effects", "summary", "top_sites"]  # fmt: skip
