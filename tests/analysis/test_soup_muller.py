"""Muller plots of soups: lineages by descent on a known tree, drawn by the evolution code."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from neurosoup.analysis import open_run
from neurosoup.analysis.report import run_figures
from neurosoup.analysis.soup_muller import soup_muller
from neurosoup.particles import ConfigError
from neurosoup.scenarios.cli import main


def test_shares_of_the_known_tree(tree_run) -> None:
    # living per tick: {0,1,2}, {0,1,3}, {0,4,3}, {5,4,3}; 3 = child of 0, 4 = child of 3
    with open_run(tree_run) as run:
        table = soup_muller(run, threshold=0.5)
    assert list(table.columns) == ["background", "clone_0", "clone_3"]
    assert table.attrs["parent"] == {0: -1, 3: 0}
    expected = np.array([[2, 1, 0], [1, 1, 1], [0, 1, 2], [1, 0, 2]]) / 3
    np.testing.assert_allclose(table.to_numpy(), expected)
    assert table.index.tolist() == [0, 1, 2, 3]
    with open_run(tree_run) as run, pytest.raises(ConfigError, match="threshold"):
        soup_muller(run, threshold=0)


def test_cli_and_figure(tree_run, tmp_path) -> None:
    csv = tmp_path / "m.csv"
    assert main(["analyse", str(tree_run), "muller", "--threshold", "0.5", "--csv", str(csv)]) == 0
    assert pd.read_csv(csv, index_col="tick").shape == (4, 3)
    with open_run(tree_run) as run:
        figs = run_figures(run, robustness_clones=1, basin_steps=5)
        assert "muller" in figs  # threshold 0.1: lineages 0 and 3 spread
        fig = figs["muller"][0]()
    assert fig.axes[0].get_xlabel() == "tick"
