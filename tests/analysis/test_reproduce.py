from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from neurosoup.scenarios.cli import main
from neurosoup.scenarios.reproduce import BASIN_ROWS, KIND_ROWS, ROWS, SOUP_ROWS


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
        *KIND_ROWS,
    } <= rows
    assert set(ROWS) - {"self_train", "robustness"} <= rows
    assert not table["ours"].astype(str).str.startswith("not run").any()
    assert (table["scale"] != "").all() and table["seeds"].notna().all()
    assert (table["seconds"] >= 0).all()
    md = (tmp_path / "reproduce_soup.md").read_text()
    assert md.count("\n|") == len(table) + 2  # header, rule, rows
    figs = ("self_train_fixpoints", "robustness", "journal_soup_fixpoints", "learn_from")
    for fig in (*figs, "mixed_soup", "soup_basins", "kinds_mixed"):
        assert (tmp_path / f"{fig}.png").exists() and (tmp_path / f"{fig}.csv").exists()
    # science: the perfect fixpoint's mean time to vergence follows the anchor table
    perfect = table[
        (table["row"] == "robustness_perfect") & table["measure"].str.contains("t_verge")
    ]["ours"].iloc[0]
    anchor = [4.9, 6.1, 7.7, 9.0, 10.9, 12.7, 14.2, 15.7, 21.7, 25.1]
    np.testing.assert_allclose([float(v) for v in perfect.split(",")], anchor, atol=1.5)
    _check_mixed_soup(table[table["row"] == "mixed_soup"], tmp_path)
    _check_soup_basins(table[table["row"] == "soup_basins"], tmp_path)
    _check_kind_rows(table)


def _types(cell: str) -> dict[str, float]:
    """``fixpoint 13.0 ± 1.4, other 7.0`` → {type: mean}."""
    out = {}
    for part in str(cell).split(", "):
        label, value = part.split(" ", 1)
        out[label] = _mean(value)
    return out


def _check_kind_rows(table: pd.DataFrame) -> None:
    """The 2019 kinds, second-order and melting rows at small scale: science, not numbers."""
    kinds = ("weightwise", "aggregating", "recurrent")
    for row, n in (("kinds_train", 20), ("kinds_self_apply", 50)):
        part = table[table["row"] == row]
        assert [m.split(":")[0] for m in part["measure"]] == list(kinds)
        for cell in part["ours"]:
            assert sum(_types(cell).values()) == pytest.approx(n)
    for cell in table[table["row"] == "kinds_self_apply"]["ours"]:
        assert set(_types(cell)) <= {"divergent", "zero"}  # random nets collapse (2019)
    mixed = table[table["row"] == "kinds_mixed"]
    both = mixed["measure"].str.contains("fixpoints + zero", regex=False)
    assert len(mixed) == 6 and both.sum() == 3
    for cell in mixed["ours"]:
        assert all(0 <= float(v) <= 1 for v in cell.split(", "))
    density = table[table["row"] == "kinds_density"]
    assert len(density) == 3 and (density["ours"].astype(float) == 0).all()  # 0 expected
    second = table[table["row"] == "second_order"]
    after = {m.split("after ")[1]: _types(c) for m, c in zip(second["measure"], second["ours"],
                                                               strict=True)}  # fmt: skip
    # journal: 14-16 of 20 after 1,000 steps; 2-cycles only grow with more training
    assert after["1,000 steps"].get("second_order", 0) >= 8
    assert after["3,000 steps"]["second_order"] >= after["1,000 steps"]["second_order"]
    melting = table[table["row"] == "melting_soup"]
    assert sum(_types(melting["ours"].iloc[0]).values()) == pytest.approx(20)
    assert _mean(melting["ours"].iloc[2]) > 0  # offspring were born


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
    assert len(table[table["row"] == "kinds_mixed"]) == 6
    assert len(table[table["row"] == "second_order"]) == 4
    assert not table["ours"].astype(str).str.startswith("not run").any()


def test_reproduce_only_one_row_and_unknown_rows(tmp_path, capsys):
    assert main(["reproduce", "soup", "--only", "self_apply", "--out", str(tmp_path)]) == 0
    table = pd.read_csv(tmp_path / "reproduce_soup.csv")
    assert set(table["row"]) == {"self_apply"} and len(table) == 3
    assert "self_apply done" in capsys.readouterr().err
    assert main(["reproduce", "soup", "--only", "self_aply", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: unknown reproduce rows ['self_aply']") and "\n" not in err
