"""``neurosoup reproduce serann --scale small``: every row from its files, reuse and resume."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from neurosoup.analysis import epistasis as ae
from neurosoup.analysis import evolution as ev
from neurosoup.analysis import open_run
from neurosoup.particles import ConfigError
from neurosoup.scenarios.cli import main
from neurosoup.scenarios.reproduce import TARGETS, reproduce_serann
from neurosoup.scenarios.reproduce import serann_rows as sr

COLUMNS = ["row", "experiment", "measure", "ours", "reference", "source", "scale", "seeds",
           "seconds"]  # fmt: skip


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    out = tmp_path_factory.mktemp("reproduce_serann")
    assert main(["reproduce", "serann", "--scale", "small", "--out", str(out)]) == 0
    return out, pd.read_csv(out / "reproduce_serann.csv")


def _cell(table: pd.DataFrame, row: str, measure: str) -> str:
    hit = table[(table["row"] == row) & table["measure"].str.startswith(measure)]
    assert len(hit) == 1, (row, measure)
    return str(hit["ours"].iloc[0])


def test_the_table_and_its_files(small) -> None:
    out, table = small
    assert TARGETS["serann"] is reproduce_serann
    assert list(table.columns) == COLUMNS
    assert list(dict.fromkeys(table["row"])) == list(sr.SERANN_ROWS)
    assert table["ours"].notna().all() and table["reference"].notna().all()
    assert table["scale"].str.startswith("small:").all() and (table["seconds"] >= 0).all()
    md = (out / "reproduce_serann.md").read_text()
    assert md.count("\n|") == len(table) + 2
    for fig in ("adaptation", "fitness_vs_mutation", "muller", "dfe"):
        assert (out / "serann_figures" / f"{fig}.png").is_file()
    assert "recorded serann_smoke-v1_seed0.h5" in _cell(table, "adaptation", "the run")


def test_the_numbers_are_the_analyses_of_the_run_file(small) -> None:
    out, table = small
    with open_run(out / "runs" / "serann_smoke-v1_seed0.h5") as run:
        pop = ev.population(run)
        adaptation = ev.adaptation(run)
        assert run.spec["config"]["population"] == 16 and len(pop.generations) == 13
    first, last = sr._windows(adaptation, "mean_fitness")
    assert _cell(table, "adaptation", "mean_fitness") == f"{first:.3f} → {last:.3f}"
    rate = adaptation["mutation_rate"].dropna().to_numpy()
    assert f"({rate[0]:.2f} → {rate[-1]:.2f})" in _cell(table, "adaptation", "mutation rate")
    dfe = ev.dfe(pop, periods=4).dropna(subset=["lethal"])
    shares = dfe[list(ev.CLASSES)].to_numpy()
    np.testing.assert_allclose(shares.sum(axis=1), 1.0)
    lethal = _cell(table, "dfe", "lethal share")
    assert lethal == f"{dfe['lethal'].iloc[0]:.2f} → {dfe['lethal'].iloc[-1]:.2f}"
    pairs = ae.epistasis(out / "runs" / "serann_small_seed0_evaluation.h5")
    assert len(pairs) == 3  # top 3 sites → 3 pairs
    counts = ae.summary(pairs)
    assert f"{counts['sign_epistasis']} of 3 pairs sign epistasis" in _cell(table, "epistasis", "")
    assert (out / "serann_epistasis.png").is_file()


def test_a_second_call_reuses_the_files(small, tmp_path) -> None:
    out, table = small
    again = reproduce_serann("small", out)
    assert "reused serann_smoke-v1_seed0.h5 (12 generations)" in _cell(again, "adaptation",
                                                                          "the run")  # fmt: skip
    keep = [c for c in COLUMNS if c != "seconds"]
    a, b = table[keep], again[keep].astype(str)
    changed = a.astype(str).ne(b).any(axis=1)
    assert list(a.loc[changed, "measure"]) == ["the run"]  # only the how-line differs


def test_an_interrupted_run_is_resumed_and_another_run_refused(tmp_path, monkeypatch) -> None:
    from neurosoup.chemistry.recorder import record

    monkeypatch.setitem(sr.PLAN, "small", ("serann/smoke-v1", {"population": 8, "steps": 3},
                                           (2, 2, 2)))  # fmt: skip
    path = sr._run_path("small", 0, tmp_path)
    path.parent.mkdir(parents=True)
    record(sr._model("small", 0), path, 1, progress=False)  # stopped after one of three generations
    got, how = sr.ensure_run("small", 0, tmp_path)
    assert got == path and how.startswith("resumed serann_smoke-v1_seed0.h5 at generation 1")
    whole = tmp_path / "whole.h5"
    record(sr._model("small", 0), whole, progress=False)
    with open_run(path) as a, open_run(whole) as b:
        for col, values in a.table("population").items():
            np.testing.assert_array_equal(values, b.table("population")[col])
    monkeypatch.setitem(sr.PLAN, "small", ("serann/smoke-v1", {"population": 9, "steps": 3},
                                           (2, 2, 2)))  # fmt: skip
    with pytest.raises(ConfigError, match="holds another run"):
        sr.ensure_run("small", 0, tmp_path)


@pytest.mark.slow
def test_reproduce_serann_paper(tmp_path) -> None:
    """serann/evolution-v1 (N 64, 200 generations, ≈ 45 min on 2 cores) and its evaluation.

    The paper's main claim at any length: anti-mutators win, so the mutation rate of the last
    tenth of the generations is below that of the first.
    """
    table = reproduce_serann("paper", tmp_path)
    assert list(dict.fromkeys(table["row"])) == list(sr.SERANN_ROWS)
    with open_run(tmp_path / "runs" / "serann_evolution-v1_seed0.h5") as run:
        first, last = sr._windows(ev.adaptation(run), "mutation_rate")
    assert last < first
