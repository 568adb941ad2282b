from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from neurosoup.scenarios.cli import main
from neurosoup.scenarios.reproduce import BASIN_ROWS, ROWS, SOUP_ROWS


def test_reproduce_soup_small_has_every_row(tmp_path, capsys):
    assert main(["reproduce", "soup", "--scale", "small", "--out", str(tmp_path)]) == 0
    table = pd.read_csv(tmp_path / "reproduce_soup.csv")
    rows = set(table["row"])
    assert {
        "self_apply",
        "self_train_journal",
        "self_train_default",
        "self_train_2019",
        "robustness_perfect",
        "robustness_natural",
        *SOUP_ROWS,
        *BASIN_ROWS,
    } <= rows
    assert set(ROWS) - {"self_train", "robustness"} <= rows
    assert not table["ours"].astype(str).str.startswith("not run").any()
    assert (table["scale"] != "").all() and table["seeds"].notna().all()
    assert (table["seconds"] >= 0).all()
    md = (tmp_path / "reproduce_soup.md").read_text()
    assert md.count("\n|") == len(table) + 2  # header, rule, rows
    figs = ("self_train_fixpoints", "robustness", "journal_soup_fixpoints", "learn_from")
    for fig in (*figs, "mixed_soup", "soup_basins"):
        assert (tmp_path / f"{fig}.png").exists() and (tmp_path / f"{fig}.csv").exists()
    # science: the perfect fixpoint's mean time to vergence follows the anchor table
    perfect = table[
        (table["row"] == "robustness_perfect") & table["measure"].str.contains("t_verge")
    ]["ours"].iloc[0]
    anchor = [4.9, 6.1, 7.7, 9.0, 10.9, 12.7, 14.2, 15.7, 21.7, 25.1]
    np.testing.assert_allclose([float(v) for v in perfect.split(",")], anchor, atol=1.5)
    _check_mixed_soup(table[table["row"] == "mixed_soup"], tmp_path)
    _check_soup_basins(table[table["row"] == "soup_basins"], tmp_path)


def _mean(cell: str) -> float:
    return float(str(cell).split("±")[0])


def _check_mixed_soup(part: pd.DataFrame, out) -> None:
    """k = 0, 50, 100 at small scale: counts within the population, more training more fixpoints."""
    fix = part[part["measure"].str.startswith("non-zero fixpoints")]
    assert len(fix) == 3 and len(part) == 4
    means = [_mean(v) for v in fix["ours"]]
    assert all(0 <= m <= 10 for m in means)
    assert means[0] == 0 and means[2] > means[0]  # no training: no fixpoint in 5 ticks
    assert fix["reference"].astype(float).tolist() == [0, 4.3, 8.8]
    zero = part[part["measure"].str.startswith("zero")]["ours"].iloc[0]
    assert 0 <= _mean(zero) <= 10
    figure = pd.read_csv(out / "mixed_soup.csv")
    assert figure["k"].tolist() == [0, 50, 100]
    assert (figure["ours_mean"] + figure["zero_mean"] <= 10).all()


def _check_soup_basins(part: pd.DataFrame, out) -> None:
    """Per σ: direction counts sum to the clones; clones end near but not at the parent."""
    dirs = part[part["measure"].str.startswith("clones approaching")]
    assert len(dirs) == 3
    for measure, ours in zip(dirs["measure"], dirs["ours"], strict=True):
        n = int(measure.split(" of ")[1].split()[0])
        total, fixed = ours.rstrip(")").split(" (")
        assert sum(int(c) for c in total.split("/")) == n == 30
        assert 0 <= sum(int(c) for c in fixed.split("/")) <= n
    mae = part[part["measure"].str.startswith("median MAE")]
    assert len(mae) == 3
    for ours, sigma in zip(mae["ours"], (1e-2, 1e-3, 1e-4), strict=True):
        pre, post = (float(v) for v in ours.split(" (")[0].split("→"))
        assert 0.2 * sigma < pre < sigma  # uniform_sign noise: MAE ≈ σ/2
        assert 0 < post < 10 * pre
    clones = pd.read_csv(out / "soup_basins.csv")
    assert len(clones) == 2 * 3 * 15
    assert set(clones["direction"]) <= {"approaching", "distancing", "stationary", "diverged"}
    assert (clones.groupby(["seed", "sigma"]).size() == 15).all()


@pytest.mark.slow
def test_reproduce_soup_paper_scale(tmp_path):
    assert main(["reproduce", "soup", "--scale", "paper", "--out", str(tmp_path)]) == 0
    table = pd.read_csv(tmp_path / "reproduce_soup.csv")
    assert len(table[table["row"] == "learn_from"]) == 11
    assert len(table[table["row"] == "mixed_soup"]) == 12
    assert not table["ours"].astype(str).str.startswith("not run").any()


def test_reproduce_only_one_row_and_unknown_rows(tmp_path, capsys):
    assert main(["reproduce", "soup", "--only", "self_apply", "--out", str(tmp_path)]) == 0
    table = pd.read_csv(tmp_path / "reproduce_soup.csv")
    assert set(table["row"]) == {"self_apply"} and len(table) == 3
    assert "self_apply done" in capsys.readouterr().err
    assert main(["reproduce", "soup", "--only", "self_aply", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: unknown reproduce rows ['self_aply']") and "\n" not in err
