from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from neurosoup.scenarios.cli import main

from .runfiles import ALL_FIGURES, write_run


def _err_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err
    assert err.startswith("error: ")
    return err


def test_analyse_counts_prints_a_table(tree_run, capsys):
    assert main(["analyse", str(tree_run)]) == 0
    out = capsys.readouterr().out
    assert "fixpoint" in out and "second_order" in out


@pytest.mark.parametrize("name", ["counts", "trajectories", "lineage", "organisms"])
def test_analyse_writes_csv(tree_run, tmp_path, name):
    csv = tmp_path / f"{name}.csv"
    assert main(["analyse", str(tree_run), name, "--csv", str(csv)]) == 0
    assert len(pd.read_csv(csv)) > 0


def test_analyse_robustness_with_options(fixpoint_run, tmp_path):
    csv = tmp_path / "rob.csv"
    assert (
        main(
            [
                "analyse",
                str(fixpoint_run),
                "robustness",
                "--clones",
                "2",
                "--cap",
                "100",
                "--csv",
                str(csv),
            ]
        )
        == 0
    )
    table = pd.read_csv(csv)
    assert len(table) == (6 + 1) * 10 * 2 and table["t_verge"].max() <= 100


def test_unknown_analysis_is_one_line_exit_2(tree_run, capsys):
    assert main(["analyse", str(tree_run), "countz"]) == 2
    assert "did you mean 'counts'" in _err_line(capsys)


def test_bad_file_is_one_line_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.h5"
    bad.write_bytes(b"\x89HDF\r\n garbage")
    for cmd in (
        ["analyse", str(bad)],
        ["plot", str(bad), "--out", str(tmp_path)],
        ["report", str(bad), "--out", str(tmp_path)],
    ):
        assert main(cmd) == 2
        assert str(bad) in _err_line(capsys)


def test_basins_without_fixpoints_is_one_line(tmp_path, capsys):
    path = write_run(
        tmp_path / "nofix.h5",
        steps=np.arange(1),
        weights=np.ones((1, 2, 14)),
        uid=np.arange(2)[None],
        ptype=np.full((1, 2), 4),
    )
    assert main(["analyse", str(path), "basins"]) == 2
    assert "no ε-fixpoints" in _err_line(capsys)


def test_plot_writes_every_figure(fixpoint_run, tmp_path, capsys):
    assert (
        main(
            [
                "plot",
                str(fixpoint_run),
                "--out",
                str(tmp_path / "p"),
                "--clones",
                "2",
                "--basin-steps",
                "10",
            ]
        )
        == 0
    )
    pngs = sorted(p.name for p in (tmp_path / "p").glob("*.png"))
    assert pngs == sorted(f"{n}.png" for n in ALL_FIGURES)
    assert all((tmp_path / "p" / n.replace(".png", ".csv")).exists() for n in pngs)


def test_reproduce_unknown_target(tmp_path, capsys):
    assert main(["reproduce", "soop", "--out", str(tmp_path)]) == 2
    assert "did you mean 'soup'" in _err_line(capsys)


def test_analyse_robustness_prints_means(fixpoint_run, capsys):
    assert main(["analyse", str(fixpoint_run), "robustness", "--clones", "2", "--cap", "50"]) == 0
    out = capsys.readouterr().out
    assert "mean over clones" in out and "t_verge" in out and "perfect" in out


def test_report_command(tree_run, tmp_path, capsys):
    out = tmp_path / "r"
    assert (
        main(["report", str(tree_run), "--out", str(out), "--clones", "1", "--basin-steps", "5"])
        == 0
    )
    html = (out / "report.html").read_text()
    assert "Resolved scenario" in html and "<img" in html
    assert str(out / "report.html") in capsys.readouterr().out


def test_analyse_dispatches_on_the_kind_of_the_file(tmp_path, capsys) -> None:
    from neurosoup.chemistry.recorder import record
    from tests.chemistry.toy_kind import Walk, WalkConfig

    path = tmp_path / "walk.h5"
    record(Walk(WalkConfig(steps=3), seed=2), path, progress=False)
    assert main(["analyse", str(path)]) == 0  # the generic default: observables
    assert "spread_0" in capsys.readouterr().out
    assert main(["analyse", str(path), "counts"]) == 2  # a soup analysis, not a walk's
    assert "unknown analysis 'counts' for a walk run" in capsys.readouterr().err
    assert main(["plot", str(path), "--out", str(tmp_path / "figs")]) == 0
    assert (tmp_path / "figs" / "observables.png").is_file()


def test_an_option_the_analysis_does_not_take_is_one_line(tmp_path, capsys) -> None:
    path = tmp_path / "s.h5"
    assert main(["run", "soup/journal-v1", "--steps", "2", "--set", "n_particles=4",
                 "--out", str(path), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["analyse", str(path), "lineage", "--id", "3"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "takes no --id" in err
