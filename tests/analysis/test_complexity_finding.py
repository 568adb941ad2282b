"""Lag and correlation of complexity beside fixpoints, on series with planted answers."""

from __future__ import annotations

import numpy as np
import pandas as pd

from neurosoup.analysis.complexity_finding import finding_table, series_stats
from neurosoup.scenarios.reproduce import COMPLEXITY_ROWS


def _steps(t_fix: int, t_hoe: int, ticks: int = 101) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    t = np.arange(ticks)
    fix = (t >= t_fix) * 10.0 + (t >= t_fix + 20) * 5.0
    hoe = (t >= t_hoe) * 1.0 + (t >= t_hoe + 20) * 0.5 + rng.normal(scale=1e-3, size=ticks)
    return hoe, fix


def test_a_planted_lag_is_found() -> None:
    hoe, fix = _steps(t_fix=30, t_hoe=36)
    s = series_stats(hoe, fix)
    assert s["lag"] == 6 and s["r_changes"] > 0.9  # H moves 6 ticks after the fixpoints
    assert s["r_levels"] > 0.8 and s["fix_end"] == 15 and abs(s["rise"] - 1.5) < 0.01
    s = series_stats(*_steps(t_fix=40, t_hoe=31))
    assert s["lag"] == -9


def test_flat_series_give_no_correlation_and_the_table_says_so() -> None:
    flat = series_stats(np.zeros(50), np.arange(50.0))
    assert np.isnan(flat["r_levels"]) and np.isnan(flat["lag"])
    hoe, fix = _steps(30, 33)
    runs = pd.DataFrame([{"scenario": "a", **series_stats(hoe, fix)},
                         {"scenario": "a", **series_stats(hoe, fix)},
                         {"scenario": "b", **flat}])  # fmt: skip
    table = finding_table(runs).set_index("scenario")
    assert table.loc["a", "seeds"] == 2 and table.loc["a", "lag_median"] == "+3"
    assert table.loc["b", "r_levels"] == "n/a" and table.loc["b", "runs_with_a_correlation"] == 0


def test_the_reproduce_row_is_registered() -> None:
    assert "complexity" in COMPLEXITY_ROWS
