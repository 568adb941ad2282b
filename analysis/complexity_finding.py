"""Does high-order entropy mark the rise of replicators? Complexity beside fixpoint counts.

Per run, two series over the ticks: ``high_order_entropy`` (H) and ``count_fixpoint`` (F).

* ``r_levels`` — Pearson correlation of H and F over the ticks (NaN when either is flat);
* ``r_changes`` and ``lag`` — the cross-correlation of the tick-to-tick changes ΔH(t + k) and
  ΔF(t) over k = −``max_lag`` … ``max_lag``; ``lag`` is the k of the largest |r|
  (positive: complexity moves k ticks *after* the fixpoints), ``r_changes`` its r;
* ``rise`` — H at the end minus H at tick 0; ``fix_end`` — F at the end.

``finding_table`` summarises runs per scenario (mean ± sd over seeds, lag as a median).
Changes rather than levels carry the lag: two series that both trend over a run correlate in
level whatever their causal order.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MAX_LAG = 20


def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    if len(x) < 3 or x.std() == 0 or y.std() == 0:
        return float("nan")
    return float(np.corrcoef(x, y)[0, 1])


def series_stats(hoe: np.ndarray, fix: np.ndarray, max_lag: int = MAX_LAG) -> dict[str, float]:
    """The statistics of one run (module docstring). hoe, fix: [T] per tick from tick 0."""
    hoe, fix = np.asarray(hoe, float), np.asarray(fix, float)
    dh, df = np.diff(hoe), np.diff(fix)
    best_k, best_r = 0, float("nan")
    for k in range(-max_lag, max_lag + 1):
        a, b = (dh[k:], df[: len(df) - k]) if k >= 0 else (dh[:k], df[-k:])
        r = _pearson(a, b)
        if np.isfinite(r) and (not np.isfinite(best_r) or abs(r) > abs(best_r)):
            best_k, best_r = k, r
    return {"r_levels": _pearson(hoe, fix), "r_changes": best_r,
            "lag": float(best_k) if np.isfinite(best_r) else float("nan"),
            "rise": float(hoe[-1] - hoe[0]), "hoe_end": float(hoe[-1]),
            "fix_end": float(fix[-1])}  # fmt: skip


def _mean_sd(x: pd.Series, digits: int = 2) -> str:
    x = x.dropna()
    if len(x) == 0:
        return "n/a"
    if len(x) == 1:
        return f"{x.iloc[0]:.{digits}f}"
    return f"{x.mean():.{digits}f} ± {x.std(ddof=1):.{digits}f}"


def finding_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Per scenario: seeds, fixpoints at the end, H rise, r of levels and changes, lag.

    runs: one row per run with ``scenario`` and the ``series_stats`` columns.
    """
    rows = []
    for scenario, g in runs.groupby("scenario", sort=False):
        lag = g["lag"].dropna()
        rows.append({
            "scenario": scenario, "seeds": len(g), "fixpoints_end": _mean_sd(g["fix_end"], 1),
            "hoe_end": _mean_sd(g["hoe_end"]), "hoe_rise": _mean_sd(g["rise"]),
            "r_levels": _mean_sd(g["r_levels"]), "r_changes": _mean_sd(g["r_changes"]),
            "lag_median": f"{lag.median():+.0f}" if len(lag) else "n/a",
            "runs_with_a_correlation": int(g["r_levels"].notna().sum()),
        })  # fmt: skip
    return pd.DataFrame(rows)


__all__ = ["MAX_LAG", "finding_table", "series_stats"]
