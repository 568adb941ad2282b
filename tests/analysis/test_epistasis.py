"""Epistasis from planted single- and double-mutant fitnesses (answers known by construction)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from neurosoup.analysis.epistasis import (
    all_pairs,
    mutant_fitness,
    pair_effects,
    summary,
    top_sites,
)
from neurosoup.particles import ConfigError


def _table(w: dict[tuple[int, int], list[float] | None]) -> pd.DataFrame:
    """mutant_fitness of planted trainings: key (site_a, site_b) → fertilities (None: dead)."""
    mutants, trainings = [], []
    for m, ((a, b), values) in enumerate(w.items()):
        mutants.append({"mutant": m, "site_a": a, "site_b": b, "alive": values is not None})
        for r, f in enumerate(values or []):
            trainings.append({"mutant": m, "training": r, "fertility": f})
    return mutant_fitness(pd.DataFrame(mutants), pd.DataFrame(trainings))


def _exact(w0: float, wa: float, wb: float, wab: float) -> pd.DataFrame:
    """Noise-free planted values (every training equal: standard errors 0)."""
    return _table({(-1, -1): [w0] * 3, (1, -1): [wa] * 3, (2, -1): [wb] * 3, (1, 2): [wab] * 3})


def test_multiplicative_effects_have_no_epistasis() -> None:
    rng = np.random.default_rng(0)
    for _ in range(20):
        w0 = rng.uniform(0.2, 1.0)
        fa, fb = rng.uniform(0.5, 1.5, 2)
        row = pair_effects(_exact(w0, w0 * fa, w0 * fb, w0 * fa * fb)).iloc[0]
        assert abs(row["epsilon"]) < 1e-12
        assert row["kind"] == "none" and not row["sign_epistasis"]


def test_epsilon_is_the_log_ratio_and_its_sign() -> None:
    row = pair_effects(_exact(0.8, 0.6, 0.7, 0.3)).iloc[0]
    assert row["epsilon"] == pytest.approx(np.log(0.3 * 0.8 / (0.6 * 0.7)))
    assert row["kind"] == "negative" and row["significant"]
    row = pair_effects(_exact(0.8, 0.7, 0.6, 0.58)).iloc[0]  # each hurts less beside the other
    assert row["epsilon"] == pytest.approx(np.log(0.58 * 0.8 / (0.7 * 0.6)))
    assert row["kind"] == "positive" and not row["sign_epistasis"]


def test_planted_sign_epistasis() -> None:
    # a hurts alone (0.9 → 0.6) and helps beside b (0.5 → 0.8); b hurts alone, and beside a
    # it helps too (0.6 → 0.8): reciprocal sign epistasis
    row = pair_effects(_exact(0.9, 0.6, 0.5, 0.8)).iloc[0]
    assert row["sign_a"] == -1 and row["sign_a_given_b"] == 1
    assert row["sign_b"] == -1 and row["sign_b_given_a"] == 1
    assert row["sign_epistasis"] and row["reciprocal"] and row["kind"] == "reciprocal sign"
    # only a flips: b hurts in both backgrounds
    row = pair_effects(_exact(0.9, 0.6, 0.5, 0.55)).iloc[0]
    assert row["sign_epistasis"] and not row["reciprocal"] and row["kind"] == "sign"


def test_noise_decides_significance() -> None:
    """Within two standard errors nothing is flagged; the same means without noise are."""
    noisy = _table({(-1, -1): [0.7, 0.9], (1, -1): [0.6, 0.9], (2, -1): [0.7, 0.8],
                    (1, 2): [0.75, 0.95]})  # fmt: skip
    row = pair_effects(noisy).iloc[0]
    assert row["se_epsilon"] > 0 and not row["significant"] and row["kind"] == "none"
    means = {k: noisy.loc[noisy.index[i], "w"] for i, k in enumerate(["w0", "wa", "wb", "wab"])}
    exact = pair_effects(_exact(**means)).iloc[0]
    assert exact["epsilon"] == pytest.approx(row["epsilon"]) and exact["significant"]
    # delta method: se(ε)² = Σ (se_x / W_x)²
    se = noisy["w_se"].to_numpy() / noisy["w"].to_numpy()
    assert row["se_epsilon"] == pytest.approx(np.sqrt((se**2).sum()))


def test_dead_mutants() -> None:
    # both singles live, the double is dead: synthetic lethal, ε undefined
    t = _table({(-1, -1): [0.9] * 2, (1, -1): [0.85] * 2, (2, -1): [0.88] * 2, (1, 2): None})
    row = pair_effects(t).iloc[0]
    assert t.loc[3, "w"] == 0.0 and np.isnan(row["epsilon"])
    assert row["synthetic_lethal"] and row["kind"] == "synthetic lethal"
    # a lethal single rescued by the second mutation: a's effect flips sign (sign epistasis)
    t = _table({(-1, -1): [0.9] * 2, (1, -1): None, (2, -1): [0.5] * 2, (1, 2): [0.8] * 2})
    row = pair_effects(t).iloc[0]
    assert np.isnan(row["epsilon"]) and row["sign_epistasis"] and not row["synthetic_lethal"]


def test_summary_and_pairs() -> None:
    t = _table({(-1, -1): [0.9] * 2, (1, -1): [0.6] * 2, (2, -1): [0.5] * 2, (3, -1): None,
                (1, 2): [0.8] * 2, (1, 3): None, (2, 3): [0.3] * 2})  # fmt: skip
    pairs = pair_effects(t)
    assert pairs[["site_a", "site_b"]].values.tolist() == [[1, 2], [1, 3], [2, 3]]
    counts = summary(pairs)
    assert counts["pairs"] == 3 and counts["defined"] == 1 and counts["reciprocal"] == 1
    assert counts["synthetic_lethal"] == 0  # site 3 alone is dead already
    assert all_pairs([5, 1, 3]) == [(1, 3), (1, 5), (3, 5)]


def test_top_sites_by_frequency_change() -> None:
    freq = pd.DataFrame(np.zeros((4, 100)))
    freq[7] = [0, 0.2, 0.9, 1.0]
    freq[3] = [0, 0.5, 0.1, 0.0]
    freq[50] = [0, 0.1, 0.1, 0.1]
    assert top_sites(freq, 2) == [3, 7]
    assert top_sites(freq, 5) == [3, 7, 50]  # only sites that changed
    keep = np.ones(100, bool)
    keep[7] = False  # its single mutant is dead
    assert top_sites(freq, 2, keep=keep) == [3, 50]
    keep[50] = False
    with pytest.raises(ConfigError, match="3 changed, 1 viable"):
        top_sites(freq, 2, keep=keep)
    with pytest.raises(ConfigError, match="--top-k"):
        top_sites(freq, 1)
    with pytest.raises(ConfigError, match="--pairs"):
        top_sites(pd.DataFrame(np.zeros((3, 100))), 3)


def test_no_background_is_an_error() -> None:
    t = _table({(1, -1): [0.5] * 2, (2, -1): [0.5] * 2, (1, 2): [0.5] * 2})
    with pytest.raises(ConfigError, match="background"):
        pair_effects(t)


def test_the_figure_renders_and_its_csv_is_the_pair_table(tmp_path) -> None:
    from neurosoup.analysis import plots
    from neurosoup.analysis.evolution_plots import epistasis_figure

    t = _table({(-1, -1): [0.9] * 2, (1, -1): [0.6] * 2, (2, -1): [0.5] * 2, (3, -1): None,
                (1, 2): [0.8] * 2, (1, 3): None, (2, 3): [0.3] * 2})  # fmt: skip
    pairs = pair_effects(t)
    fig = epistasis_figure(pairs)
    texts = sorted(x.get_text() for x in fig.axes[0].texts)
    assert texts.count("n/a") == 4 and f"{pairs['epsilon'].iloc[0]:+.2f}*" in texts
    png, csv = plots.save_figure(fig, pairs, tmp_path, "epistasis")
    assert png.stat().st_size > 0
    back = pd.read_csv(csv)
    np.testing.assert_allclose(back["epsilon"], pairs["epsilon"].astype(float))
    assert list(back["kind"]) == list(pairs["kind"])
