"""Organism analyses on small recorded runs: each checked against a direct computation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from neurosoup.analysis import open_run
from neurosoup.analysis import organism as ao
from neurosoup.analysis.robustness import LEVELS
from neurosoup.particles import ConfigError, OrganismType
from neurosoup.particles.datasets import load_digits_data
from neurosoup.scenarios.cli import main


def _record(path: Path, scenario: str, **overrides) -> Path:
    from neurosoup.chemistry.recorder import record
    from neurosoup.scenarios.registry import make

    record(make(scenario, **overrides), path, progress=False)
    return path


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    """Two addition runs (6 epochs: 18/18 PN_SR) and a digits run with a few PN_SR."""
    d = tmp_path_factory.mktemp("organism_runs")
    return {
        "add0": _record(d / "add0.h5", "organism/float-addition-v1", steps=6, seed=0),
        "add1": _record(d / "add1.h5", "organism/float-addition-v1", steps=6, seed=1),
        "digits": _record(
            d / "digits.h5", "organism/digits-v1", steps=6, seed=0, train_first=None
        ),
    }


def test_counts_and_curves_follow_the_observables(runs) -> None:
    with open_run(runs["digits"]) as run:
        counts = ao.organism_counts(run)
        obs = run.observables
        assert list(counts.columns) == ["divergent", "zero", "sr", "f"]
        assert counts.index.tolist() == [0, 3, 6]
        assert (counts.sum(axis=1) == 395).all()
        np.testing.assert_array_equal(counts["sr"], obs["count_sr"].to_numpy())
        # the last validation's counts are the stored types of the last snapshot
        codes = ao.run_types(run)
        assert counts["sr"].iloc[-1] == (codes == int(OrganismType.SR)).sum() > 0
        curves = ao.curves(run)
        assert list(curves.columns) == list(ao.CURVE_MEASURES)
        np.testing.assert_array_equal(curves["test_metric"], obs["test_metric"])


def test_curves_over_runs_is_mean_and_sd_per_epoch(runs) -> None:
    r0, r1 = open_run(runs["add0"]), open_run(runs["add1"])
    try:
        table = ao.curves_over_runs([r0, r1])
        c0, c1 = ao.curves(r0), ao.curves(r1)
        part = table[table["measure"] == "task_loss"].set_index("step")
        both = np.stack([c0["task_loss"], c1["task_loss"]])
        np.testing.assert_allclose(part["mean"], both.mean(axis=0), rtol=1e-12)
        np.testing.assert_allclose(part["sd"], both.std(axis=0, ddof=1), rtol=1e-12)
        assert (part["n"] == 2).all() and table.attrs["metric"] == "mae"
        single = ao.curves_over_runs([r0])
        assert (single["sd"] == 0).all()
        with open_run(runs["digits"]) as rd, pytest.raises(ConfigError, match="metrics"):
            ao.curves_over_runs([r0, rd])
    finally:
        r0.close()
        r1.close()


def test_pn_sr_robustness_uses_the_stored_pn_sr(runs) -> None:
    with open_run(runs["add0"]) as run:
        table = ao.pn_sr_robustness(run, clones=2, cap=1000)
        codes = ao.run_types(run)
    n_sr = int((codes == int(OrganismType.SR)).sum())
    assert n_sr == 18 and len(table) == n_sr * len(LEVELS) * 2
    assert (codes[table["row"]] == int(OrganismType.SR)).all()
    assert table["layer"].tolist() == [0 if r < 6 else 1 if r < 15 else 2 for r in table["row"]]
    assert (table["t_fix"] <= table["t_verge"]).all() and (table["t_verge"] >= 1).all()
    means = table.groupby("sigma")[["t_verge", "t_fix"]].mean()
    # science: at σ = 1 every clone loses SR at once; near-exact clones last longer
    assert means.loc[1.0, "t_fix"] == 0
    assert means.loc[1e-9, "t_verge"] > means.loc[1.0, "t_verge"]
    capped = ao.pn_sr_robustness(open_run(runs["add0"]), clones=1, cap=2)
    assert (capped["t_verge"] <= 2).all() and capped["censored"].any()


def test_resubstitution_goes_through_the_general_path(runs, tmp_path) -> None:
    with open_run(runs["add0"]) as run:
        row = ao.resubstitution(run).iloc[0]
    assert row["metric"] == "mae" and row["dtype"] == "float32" and row["n_random"] == 1000
    # float32: the general path differs from w̃ by rounding only (science doc tolerances)
    assert 0 < row["max_abs_diff"] <= 1e-4
    assert row["metric_diff"] <= 1e-6
    path = _record(tmp_path / "f64.h5", "organism/float-addition-v1", steps=3, dtype="float64")
    with open_run(path) as run:
        row = ao.resubstitution(run).iloc[0]
    assert row["dtype"] == "float64" and row["max_abs_diff"] <= 1e-12


def test_dropout_cli_csv_has_exactly_the_columns(runs, tmp_path, capsys) -> None:
    csv = tmp_path / "drop.csv"
    assert main(["analyse", str(runs["digits"]), "dropout", "--csv", str(csv)]) == 0
    out = capsys.readouterr().out
    assert "overlap of the l1 and zero_sr sets" in out
    table = pd.read_csv(csv)
    assert list(table.columns) == ["strategy", "n_removed", "metric", "delta"]
    assert table["strategy"].tolist() == ["none", "zero_sr", "zero_f", "l1"]
    with open_run(runs["digits"]) as run:
        net = ao.run_network(run)
    data = load_digits_data()
    direct = ao.dropout_table(net, (data.x_test, data.y_test))
    np.testing.assert_allclose(table["metric"], direct["metric"], rtol=0, atol=0)
    assert f"{direct.attrs['l1_overlap_sr']} of {table.loc[1, 'n_removed']} particles" in out
    # every PN_F zeroed: all outputs 0, argmax 0, accuracy = share of label 0 in the test set
    t = table.set_index("strategy")
    assert t.loc["zero_f", "metric"] == pytest.approx((data.y_test == 0).mean(), abs=1e-12)
    assert main(["analyse", str(runs["digits"]), "dropout"]) == 0
    assert "strategy" in capsys.readouterr().out
    assert main(["analyse", str(runs["digits"])]) == 0  # default: counts
    assert "sr" in capsys.readouterr().out


def test_pruning_curves_meet_the_dropout_table(runs) -> None:
    with open_run(runs["digits"]) as run:
        curve = ao.pruning_curves(run, points=11)
        drop = ao.run_dropout(run).set_index("strategy")
    n_sr = int(drop.loc["zero_sr", "n_removed"])
    assert curve.attrs["n_sr"] == n_sr and curve.attrs["n_particles"] == 395
    for strategy in ("l1", "zero_sr"):
        part = curve[curve["strategy"] == strategy].set_index("n_removed")
        assert len(part) == 12  # 11 fractions plus #PN_SR / N
        assert part.loc[0, "metric"] == drop.loc["none", "metric"]
        assert part.loc[n_sr, "metric"] == pytest.approx(drop.loc[strategy, "metric"], abs=1e-12)
        assert part.loc[395, "metric"] == pytest.approx(drop.loc["zero_f", "metric"], abs=1e-12)


def test_heatmap_connectivity_and_trajectories(runs) -> None:
    with open_run(runs["digits"]) as run:
        heat = ao.heatmap(run)
        codes = ao.run_types(run)
        net = ao.run_network(run)
        conn = ao.connectivity(run)
        traj = ao.layer_trajectories(run)
    sr0 = (codes[:320] == int(OrganismType.SR)).reshape(5, 64)
    assert heat["n_sr"].sum() == sr0.sum() and heat["n_sr"].tolist() == sr0.sum(axis=0).tolist()
    assert (heat.loc[heat["n_sr"] == 0, "sum_abs_w_sr"] == 0).all()
    np.testing.assert_allclose(heat["mean_image"], load_digits_data().x_test.mean(axis=0),
                               rtol=1e-6)  # fmt: skip
    assert heat.loc[10, "row"] == 1 and heat.loc[10, "col"] == 2
    seg = conn.set_index("name").loc["L1_C2_W3"]
    assert (seg["x0"], seg["y0"], seg["x1"], seg["y1"]) == (0.0, 0.75, 1.0, 0.5)
    assert conn.set_index("name").loc["L0_C4_W63", ["x0", "y0", "x1", "y1"]].tolist() == [
        -1.0, 1.0, 0.0, 1.0]  # fmt: skip
    assert (conn["type"] == "sr").sum() == (codes == int(OrganismType.SR)).sum()
    # 3 snapshots × 395 particles × (grouped, single)
    assert len(traj) == 3 * 395 * 2
    grouped = traj[(traj["mode"] == "grouped") & (traj["layer"] == 0)]
    assert grouped["pc1"].std(ddof=1) == pytest.approx(1.0, rel=1e-6)  # whitened
    single = traj[(traj["mode"] == "single") & (traj["row"] == 7)]
    assert single["pc1"].std(ddof=1) == pytest.approx(1.0, rel=1e-6)
    assert set(traj["final_type"]) <= {"sr", "f", "zero", "divergent"}
    with open_run(runs["add0"]) as run, pytest.raises(ConfigError, match="image task"):
        ao.heatmap(run)
    assert net.n_particles == 395


def test_plot_writes_the_organism_figures(runs, tmp_path, capsys) -> None:
    out = tmp_path / "figs"
    assert main(["plot", str(runs["digits"]), "--out", str(out), "--clones", "2"]) == 0
    names = {"counts", "curves", "robustness", "dropout", "pruning", "heatmap", "connectivity",
             "trajectories"}  # fmt: skip
    for name in names:
        assert (out / f"{name}.png").stat().st_size > 1000 and (out / f"{name}.csv").is_file()
    multi = tmp_path / "multi"
    assert main(["plot", str(runs["add0"]), str(runs["add1"]), "--out", str(multi),
                 "--clones", "1"]) == 0  # fmt: skip
    assert pd.read_csv(multi / "curves.csv")["n"].eq(2).all()
    assert not (multi / "heatmap.png").exists()  # addition has no pixels
    assert main(["plot", str(runs["add0"]), str(runs["digits"]), "--out", str(multi)]) == 2
    assert "different metrics" in capsys.readouterr().err


def test_analyses_refuse_other_kinds(tmp_path) -> None:
    from neurosoup.chemistry.recorder import record
    from tests.chemistry.toy_kind import Walk, WalkConfig

    path = tmp_path / "walk.h5"
    record(Walk(WalkConfig(steps=2), seed=0), path, progress=False)
    with open_run(path) as run, pytest.raises(ConfigError, match="organism run"):
        ao.organism_counts(run)
    assert torch.get_num_threads() >= 1
