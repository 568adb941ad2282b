"""Quine analyses and figures on small recorded runs; ``reproduce quine --scale small``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from neurosoup.analysis import open_run
from neurosoup.analysis.quine import (
    members,
    regeneration,
    soup,
    tradeoff_table,
    training,
)
from neurosoup.analysis.report import analysis, run_figures, write_figures
from neurosoup.chemistry.quine_training import QuineConfig, QuineTraining
from neurosoup.chemistry.recorder import record
from neurosoup.particles import ConfigError
from neurosoup.scenarios.cli import main
from neurosoup.scenarios.reproduce import QUINE_ROWS

REGEN = QuineConfig(hidden=8, population=3, optimiser=["adamax", "sgd", "adam"],
                    regeneration=True, epochs_per_generation=2, steps=6)  # fmt: skip
AUX = QuineConfig(network="auxiliary", hidden=8, population=4, steps=3, shared_init=True,
                  task_weight=[0.0, 0.01, 1.0, 0.01],
                  classification_only=[False, False, False, True])  # fmt: skip
SOUP = QuineConfig(hidden=8, population=6, steps=8, snapshot_every=4,
                   operators=[{"name": "overwrite", "rate": 0.3},
                              {"name": "learn_from", "rate": 0.2}])  # fmt: skip


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    out = tmp_path_factory.mktemp("quine_runs")
    models, paths = {}, {}
    for name, cfg in (("regen", REGEN), ("aux", AUX), ("soup", SOUP)):
        model = QuineTraining(cfg, seed=2, device="cpu")
        paths[name] = out / f"{name}.h5"
        record(model, paths[name], progress=False)
        models[name] = model
    return models, paths


def test_members_match_the_model(runs) -> None:
    models, paths = runs
    for name in ("regen", "aux", "soup"):
        model = models[name]
        with open_run(paths[name]) as run:
            table = analysis(None, "quine")(run)  # the default of `neurosoup analyse FILE`
            assert analysis(None, "quine") is members
        last = model._last
        np.testing.assert_allclose(table["sse"], last["sse"].double().numpy(), rtol=1e-6)
        np.testing.assert_allclose(table["r2"], last["r2"].double().numpy(), rtol=1e-5,
                                   atol=1e-7)  # fmt: skip
        assert table["trivial"].tolist() == model.trivial().tolist()
        assert table["class"].tolist() == model.classes()
        cols = list(table.columns)
        assert cols.index("r2") == cols.index("sse") + 1  # R² always beside SSE
    with open_run(paths["aux"]) as run:
        assert members(run)["task_weight"].tolist() == [0.0, 0.01, 1.0, 0.01]


def test_trivial_flag_on_a_planted_shrinking_quine(tmp_path) -> None:
    """Weights scaled down by 10 each epoch: SSE falls, R² stays ≈ 0 → flagged trivial."""
    class Shrinking(QuineTraining):
        def step(self) -> None:
            w = self.pop.weights.clone()
            w[0] *= 0.1  # member 0 shrinks; member 1 is blown up (SSE rises): not trivial
            w[1] *= 3.0
            self.pop.weights = w
            self._observe(self._measure(), None)

    model = Shrinking(QuineConfig(hidden=8, population=2, steps=3), seed=0, device="cpu")
    path = tmp_path / "shrink.h5"
    record(model, path, progress=False)
    with open_run(path) as run:
        table = members(run)
    assert table["sse"][0] < table["sse_start"][0] and table["r2"][0] <= 0.1
    assert table["trivial"].tolist() == [True, False]


def test_training_and_regeneration_tables(runs) -> None:
    _, paths = runs
    with open_run(paths["regen"]) as run:
        t = training(run)
        r = regeneration(run)
        obs = run.observable("sse_regen")[1]
    assert len(t) == (REGEN.steps + 1) * REGEN.population
    assert {"step", "member", "sse", "r2", "sse_regen", "r2_regen"} <= set(t.columns)
    assert len(r) == (REGEN.steps // 2) * REGEN.population  # a regeneration every 2nd epoch
    assert r["generation"].max() == 3
    np.testing.assert_array_equal(np.sort(r["sse_after"]), np.sort(obs[np.isfinite(obs)]))


def test_tradeoff_over_runs(runs, tmp_path) -> None:
    _, paths = runs
    table = tradeoff_table([paths["aux"], paths["aux"]])
    assert len(table) == 8 and table["task_weight"].is_monotonic_increasing
    assert table["classification_only"].sum() == 2
    assert table["accuracy"].between(0, 1).all()
    with pytest.raises(ConfigError, match="auxiliary"):
        tradeoff_table([paths["regen"]])


def test_soup_table_counts_events(runs) -> None:
    models, paths = runs
    with open_run(paths["soup"]) as run:
        s = soup(run)
        ev = run.events
    assert len(s) == SOUP.steps + 1
    assert s["founders"].iloc[0] == SOUP.population
    assert s["founders"].is_monotonic_decreasing  # founders only ever die out
    applied = ev[(ev["operator"] == "overwrite") & ev["applied"].astype(bool)]
    assert s["overwrites"].iloc[-1] == len(applied) > 0
    assert (s["largest_lineage"] >= 1).all()
    with open_run(paths["soup"]) as run:
        last = run.observable("ancestor")[1][-1].astype(int)
    assert last.tolist() == models["soup"].ancestor.tolist()
    assert s["founders"].iloc[-1] == len(set(last.tolist()))


def test_figures(runs, tmp_path) -> None:
    _, paths = runs
    with open_run(paths["regen"]) as run:
        assert set(run_figures(run)) == {"training", "regeneration", "r2_members", "complexity"}
        pngs = write_figures(run, tmp_path / "regen")
    assert all(p.exists() and p.with_suffix(".csv").exists() for p in pngs)
    with open_run(paths["aux"]) as run:
        assert "tradeoff" in run_figures(run)
        write_figures(run, tmp_path / "aux")
    with open_run(paths["soup"]) as run:
        write_figures(run, tmp_path / "soup")
    assert (tmp_path / "soup" / "r2_members.png").exists()
    data = pd.read_csv(tmp_path / "regen" / "training.csv")
    assert len(data) == (REGEN.steps + 1) * REGEN.population


def test_cli_analyse_flags_trivial(runs, capsys) -> None:
    _, paths = runs
    assert main(["analyse", str(paths["regen"])]) == 0
    out = capsys.readouterr().out
    assert "trivial" in out and "sse" in out and "r2" in out
    assert main(["analyse", str(paths["soup"]), "soup"]) == 0
    assert "founders" in capsys.readouterr().out


def test_reproduce_quine_small(tmp_path) -> None:
    torch.manual_seed(0)
    assert main(["reproduce", "quine", "--scale", "small", "--out", str(tmp_path)]) == 0
    table = pd.read_csv(tmp_path / "reproduce_quine.csv")
    assert set(table["row"]) == set(QUINE_ROWS)
    assert (table["scale"].str.startswith("small") | table["scale"].str.startswith("H = 100")).all()
    assert table["seeds"].notna().all() and (table["seconds"] >= 0).all()
    start = table[(table["row"] == "start_sse") & (table["measure"] == "SSE")]["ours"].iloc[0]
    assert 70 < float(start.split("±")[0]) < 100  # paper 90.16, reimplementation 86.7 ± 5.8
    for fig in ("quine_adamax", "quine_regeneration", "quine_works"):
        assert (tmp_path / f"{fig}.png").exists() and (tmp_path / f"{fig}.csv").exists()
    works = pd.read_csv(tmp_path / "quine_works.csv")
    assert works["r2"].iloc[-1] > 0.2  # the works preset copies (R² well above 0)
