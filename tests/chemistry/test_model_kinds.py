"""The run machinery is kind-agnostic: a test-only kind records, dies, resumes, is analysed."""

from __future__ import annotations

import json
import sys

import h5py
import numpy as np
import pytest

from neurosoup.analysis import open_run as analyse
from neurosoup.chemistry.model_kinds import get_kind
from neurosoup.chemistry.recorder import record, resume
from neurosoup.particles import ConfigError
from neurosoup.scenarios.cli import main
from tests.chemistry.toy_kind import Walk, WalkConfig
from tests.scenarios.helpers import assert_same_file, kill_after_checkpoint

CHILD = """
import sys
from tests.chemistry.toy_kind import Walk, WalkConfig
from neurosoup.chemistry.recorder import record
record(Walk(WalkConfig(steps=10_000, sleep=0.01), seed=4), sys.argv[1], progress=False)
"""




def test_toy_kind_record_sigkill_resume_analyse(tmp_path) -> None:
    path = tmp_path / "walk.h5"
    step = kill_after_checkpoint([sys.executable, "-c", CHILD, str(path)], path, 9, timeout=60)
    end = step + 7
    walk = resume(path, end - step, progress=False)  # the kind comes from the file
    assert isinstance(walk, Walk) and walk.steps == end
    whole = Walk(WalkConfig(steps=10_000, sleep=0.01), seed=4)
    record(whole, tmp_path / "whole.h5", end, progress=False)
    assert_same_file(path, tmp_path / "whole.h5")
    with analyse(path) as run:
        assert run.kind == "walk" and run.format_version == 2
        obs = run.observables
        assert list(obs.index) == list(range(end + 1))
        assert {"mean", "spread_0", "spread_2"} <= set(obs.columns)
        np.testing.assert_allclose(obs["mean"].iloc[-1], float(walk.x.mean()))


def test_unknown_kind_in_a_file_is_one_line_exit_2(tmp_path, capsys) -> None:
    path = tmp_path / "walk.h5"
    record(Walk(WalkConfig(steps=3), seed=1), path, progress=False)
    with h5py.File(path, "r+") as f:
        spec = json.loads(f["parameters/spec"][()])
        spec["kind"], spec["scenario"] = "wakl", "soup/journal-v1"
        del f["parameters/spec"]
        f["parameters/spec"] = json.dumps(spec)
        f.attrs["kind"] = "wakl"  # root and spec agree (else: a root/spec mismatch, "damaged")
    before = path.read_bytes()
    assert main(["resume", str(path), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown model kind 'wakl'. Did you mean `walk`?" in err
    assert path.read_bytes() == before, "nothing written"
    with pytest.raises(ConfigError, match=r"Known kinds: .*soup"):
        get_kind("organisn")


# every registered kind records, resumes and runs from the CLI: tests/test_every_kind.py


class _ShapedWalk(Walk):
    """The toy kind plus a table whose rows are a dict and one column is [R, 3]."""

    kind = "walk"

    def layout(self):
        from neurosoup.chemistry.model_kinds import Layout, Table

        base = super().layout()
        table = Table("walk/frames", (("step", np.int64), ("x", np.float64, (3,)),
                                      ("tag", h5py.string_dtype())), "step")  # fmt: skip
        return Layout(base.observables, base.series, (*base.tables, table))

    def step_records(self):
        rows = super().step_records()
        rows["walk/frames"] = {"step": np.array([self.steps]), "x": self.x.numpy()[None],
                               "tag": np.array([f"s{self.steps}"], dtype=object)}  # fmt: skip
        return rows


def test_table_columns_may_have_a_trailing_shape_and_resume(tmp_path) -> None:
    cfg = WalkConfig(steps=7, checkpoint_every=2)
    whole = _ShapedWalk(cfg, seed=2)
    record(whole, tmp_path / "whole.h5", progress=False)
    record(_ShapedWalk(cfg, seed=2), tmp_path / "part.h5", 3, progress=False)
    part = _ShapedWalk(cfg, seed=2)
    from neurosoup.chemistry.checkpoint import read_checkpoint
    from neurosoup.chemistry.recorder import Recorder, checkpoint_path

    part.restore(read_checkpoint(checkpoint_path(tmp_path / "part.h5")))
    rec = Recorder.reopen(tmp_path / "part.h5", part)
    part.run(4, progress=False)
    rec.close()
    assert_same_file(tmp_path / "whole.h5", tmp_path / "part.h5")
    with h5py.File(tmp_path / "whole.h5", "r") as f:
        x = f["walk/frames/x"]
        assert x.shape == (8, 3) and x.dtype == np.float64 and x.maxshape == (None, 3)
        np.testing.assert_array_equal(x[-1], whole.x.numpy())
        assert f["walk/frames/tag"].asstr()[:].tolist() == [f"s{i}" for i in range(8)]
        assert f["walk/crossings/walker"].ndim == 1  # 2-D rows of 1-D columns: as before


class _MisshapenWalk(Walk):
    """Declares walker frames of 5 values while its snapshot holds 3."""

    kind = "walk"

    def layout(self):
        from neurosoup.chemistry.model_kinds import Layout, Series

        base = super().layout()
        return Layout(base.observables, (Series("walk/x", np.float64, (5,)),), base.tables)


def test_a_series_declared_shape_is_checked(tmp_path) -> None:
    from neurosoup.particles import ShapeError

    with pytest.raises(ShapeError, match=r"series walk/x: a frame of shape \(1, 3\) does not "
                       r"match the declared shape \(5,\)"):  # fmt: skip
        record(_MisshapenWalk(WalkConfig(steps=2), seed=1), tmp_path / "w.h5", progress=False)
