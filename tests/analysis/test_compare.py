"""``neurosoup compare``: runs of one kind aligned on steps; forks from their branch point."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from neurosoup.chemistry.fork import fork
from neurosoup.chemistry.recorder import record
from neurosoup.scenarios import make
from neurosoup.scenarios.cli import main
from tests.chemistry.toy_kind import Walk, WalkConfig


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    d = tmp_path_factory.mktemp("cmp")
    sets = {"n_particles": 6, "checkpoint_every": 2, "self_train.steps": 2}
    record(make("soup/journal-v1", seed=1, steps=6, **sets), d / "a.h5", progress=False)
    record(make("soup/journal-v1", seed=2, steps=4, **sets), d / "b.h5", progress=False)
    fork(d / "a.h5", 2, d / "f.h5", sets={"lr": 0.3}, progress=False)
    record(Walk(WalkConfig(steps=3), seed=1), d / "w.h5", progress=False)
    return d


def test_compare_aligns_runs_and_draws_forks_from_their_branch_point(runs, tmp_path,
                                                                     capsys) -> None:  # fmt: skip
    files = [runs / n for n in ("a.h5", "b.h5", "f.h5")]
    before = [f.read_bytes() for f in files]
    out = tmp_path / "fig"
    assert main(["compare", *map(str, files), "--observable", "loss_mean", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "soup runs" in text and "loss_mean" in text
    assert (out / "compare_loss_mean.png").stat().st_size > 0
    table = pd.read_csv(out / "compare_loss_mean.csv", index_col="step")
    assert list(table.columns) == ["loss_mean:a", "loss_mean:b", "loss_mean:f"]
    assert list(table.index) == list(range(7))
    assert table["loss_mean:b"].notna().sum() == 5  # b is shorter: aligned, blank after 4
    f = table["loss_mean:f"]
    assert f.loc[:1].isna().all() and f.loc[2:].notna().all()  # drawn from step 2 on
    assert f.loc[2] == table["loss_mean:a"].loc[2]  # the branch point is the parent's
    assert not np.allclose(f.loc[3:], table["loss_mean:a"].loc[3:])
    assert [f.read_bytes() for f in files] == before, "compare reads files only"


def test_compare_without_observable_draws_every_shared_one(runs, tmp_path, capsys) -> None:
    assert main(["compare", str(runs / "a.h5"), str(runs / "b.h5"), "--out", str(tmp_path)]) == 0
    table = pd.read_csv(tmp_path / "compare.csv", index_col="step")
    assert {"count_fixpoint:a", "n_alive:b", "loss_mean:a"} <= set(table.columns)
    assert (tmp_path / "compare.png").exists()


@pytest.mark.parametrize(("names", "extra", "message"), [
    (["a.h5", "b.h5"], ["--observable", "loss_men"],
     "unknown observable 'loss_men' for these soup runs. Did you mean `loss_mean`?"),
    (["a.h5", "w.h5"], [], "compare takes runs of one kind, got"),
    (["a.h5", "nothere.h5"], [], "nothere.h5"),
])  # fmt: skip
def test_compare_bad_input_is_one_line(runs, names, extra, message, tmp_path, capsys) -> None:
    argv = ["compare", *[str(runs / n) for n in names], *extra, "--out", str(tmp_path / "x")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and message in err
    assert not (tmp_path / "x").exists()
