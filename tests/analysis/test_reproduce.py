from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from neurosoup.scenarios.cli import main
from neurosoup.scenarios.reproduce import ROWS, SOUP_ROWS


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
    } <= rows
    assert set(ROWS) - {"self_train", "robustness"} <= rows
    assert not table["ours"].astype(str).str.startswith("not run").any()
    assert (table["scale"] != "").all() and table["seeds"].notna().all()
    assert (table["seconds"] >= 0).all()
    md = (tmp_path / "reproduce_soup.md").read_text()
    assert md.count("\n|") == len(table) + 2  # header, rule, rows
    for fig in ("self_train_fixpoints", "robustness", "journal_soup_fixpoints", "learn_from"):
        assert (tmp_path / f"{fig}.png").exists() and (tmp_path / f"{fig}.csv").exists()
    # science: the perfect fixpoint's mean time to vergence follows the anchor table
    perfect = table[
        (table["row"] == "robustness_perfect") & table["measure"].str.contains("t_verge")
    ]["ours"].iloc[0]
    anchor = [4.9, 6.1, 7.7, 9.0, 10.9, 12.7, 14.2, 15.7, 21.7, 25.1]
    np.testing.assert_allclose([float(v) for v in perfect.split(",")], anchor, atol=1.5)


@pytest.mark.slow
def test_reproduce_soup_paper_scale(tmp_path):
    assert main(["reproduce", "soup", "--scale", "paper", "--out", str(tmp_path)]) == 0
    table = pd.read_csv(tmp_path / "reproduce_soup.csv")
    assert len(table[table["row"] == "learn_from"]) == 11
    assert not table["ours"].astype(str).str.startswith("not run").any()


def test_reproduce_only_one_row_and_unknown_rows(tmp_path, capsys):
    assert main(["reproduce", "soup", "--only", "self_apply", "--out", str(tmp_path)]) == 0
    table = pd.read_csv(tmp_path / "reproduce_soup.csv")
    assert set(table["row"]) == {"self_apply"} and len(table) == 3
    assert "self_apply done" in capsys.readouterr().err
    assert main(["reproduce", "soup", "--only", "self_aply", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: unknown reproduce rows ['self_aply']") and "\n" not in err
