"""Fork: a run started from a parent's checkpoint history at a past step (issue 25)."""

from __future__ import annotations

import json

import h5py
import numpy as np
import pytest

from neurosoup.chemistry.checkpoint_history import history_steps
from neurosoup.chemistry.fork import fork
from neurosoup.chemistry.recorder import record, resume
from neurosoup.scenarios import make
from neurosoup.scenarios.cli import main
from tests.chemistry.toy_kind import Walk, WalkConfig
from tests.scenarios.helpers import assert_same_file, dump

#: one tiny registered scenario per kind: (id, overrides, planned steps, fork step)
KINDS = {
    "soup": ("soup/journal-v1", {"n_particles": 8, "checkpoint_every": 2,
                                 "self_train.steps": 2}, 6, 2),
    "organism": ("organism/float-addition-v1", {"n_batches": 3, "checkpoint_every": 2}, 4, 2),
    "quine": ("quine/works-v1", {"hidden": 8, "checkpoint_every": 2, "snapshot_every": 1}, 4, 2),
    "evolution": ("serann/smoke-v1", {"checkpoint_every": 1, }, 2, 1),
}  # fmt: skip


def _datasets_equal(a, b) -> None:
    """Every dataset and attribute equal, except the spec (the fork records its parent)."""
    da, db = dump(a), dump(b)
    da.pop("parameters/spec"), db.pop("parameters/spec")
    assert sorted(da) == sorted(db)
    for key in da:
        x, y = np.asarray(da[key]), np.asarray(db[key])
        assert x.shape == y.shape and x.dtype == y.dtype, key
        assert np.array_equal(x, y, equal_nan=x.dtype.kind == "f"), key


def _spec(path) -> dict:
    with h5py.File(path, "r") as f:
        return json.loads(f["parameters/spec"][()])


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_fork_without_change_continues_as_the_parent(kind, tmp_path) -> None:
    scenario, sets, steps, at = KINDS[kind]
    parent = tmp_path / "parent.h5"
    first = make(scenario, seed=0, steps=steps, **sets)
    record(first, parent, progress=False)
    assert first.steps == steps, "the parent ran to its end (no extinction)"
    assert at in history_steps(parent) and steps in history_steps(parent)
    model = fork(parent, at, tmp_path / "fork.h5", progress=False)
    assert model.steps == steps and model.kind == kind
    _datasets_equal(parent, tmp_path / "fork.h5")
    info = _spec(tmp_path / "fork.h5")["fork"]
    assert info == {"parent": str(parent), "step": at, "changes": {}, "reseed": None}


def test_a_changed_fork_keeps_the_past_and_records_its_changes(tmp_path) -> None:
    parent, child = tmp_path / "p.h5", tmp_path / "c.h5"
    sets = {"n_particles": 6, "checkpoint_every": 2, "self_train.steps": 2}
    record(make("soup/journal-v1", seed=1, steps=6, **sets), parent, progress=False)
    fork(parent, 2, child, sets={"lr": 0.3}, progress=False)
    spec = _spec(child)
    assert spec["fork"]["changes"] == {"lr": 0.3} and spec["config"]["lr"] == 0.3
    weights = "particles/all/weights"
    with h5py.File(parent, "r") as p, h5py.File(child, "r") as c:
        a, b = p[weights], c[weights]
        steps = a["step"][:]
        assert list(steps) == list(b["step"][:]) == list(range(7))
        same = steps <= 2
        np.testing.assert_array_equal(a["value"][:][same], b["value"][:][same])
        assert not np.array_equal(a["value"][:][~same], b["value"][:][~same])
    # the fork resumes like any run: a fork run in two parts equals one in one go
    fork(parent, 2, tmp_path / "c2.h5", sets={"lr": 0.3}, steps=2, progress=False)
    resume(tmp_path / "c2.h5", progress=False)
    _datasets_equal(child, tmp_path / "c2.h5")


def test_reseed_changes_the_continuation_only(tmp_path) -> None:
    parent = tmp_path / "p.h5"
    record(Walk(WalkConfig(steps=6, checkpoint_every=3), seed=1), parent, progress=False)
    fork(parent, 3, tmp_path / "r.h5", reseed=9, progress=False)
    assert _spec(tmp_path / "r.h5")["fork"]["reseed"] == 9
    with h5py.File(parent, "r") as p, h5py.File(tmp_path / "r.h5", "r") as r:
        a, b = p["observables/mean/value"][:], r["observables/mean/value"][:]
    np.testing.assert_array_equal(a[:4], b[:4])
    assert not np.array_equal(a[4:], b[4:])


def test_history_is_capped_and_leaves_the_run_file_unchanged(tmp_path) -> None:
    def run(name: str, keep: int | None):
        record(make("soup/journal-v1", seed=3, steps=6, n_particles=6, checkpoint_every=1),
               tmp_path / name, progress=False, keep_checkpoints=keep)  # fmt: skip
        return tmp_path / name

    default, capped, none = run("d.h5", None), run("c.h5", 3), run("n.h5", 0)
    assert history_steps(default) == list(range(7))
    assert history_steps(capped) == [4, 5, 6] and history_steps(none) == []
    assert_same_file(default, capped)
    assert_same_file(default, none)


def _one_line(argv, capsys) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
    return err


def test_fork_refuses_bad_input_in_one_line(tmp_path, capsys) -> None:
    parent = tmp_path / "p.h5"
    record(make("soup/journal-v1", seed=3, steps=6, n_particles=6, checkpoint_every=3),
           parent, progress=False, keep_checkpoints=1)  # fmt: skip
    out = str(tmp_path / "f.h5")
    err = _one_line(["fork", str(parent), "--at", "4", "--out", out], capsys)
    assert "no stored state at step 4; the nearest are 6" in err
    record(make("soup/journal-v1", seed=3, steps=6, n_particles=6, checkpoint_every=3),
           parent, progress=False, overwrite=True)  # fmt: skip
    err = _one_line(["fork", str(parent), "--at", "4", "--out", out], capsys)
    assert "the nearest are 3 and 6 (stored: 0, 3, 6)" in err
    err = _one_line(["fork", str(parent), "--at", "3", "--set", "atack.rate=1", "--out", out],
                    capsys)  # fmt: skip
    assert "unknown" in err and "attack" in err
    err = _one_line(["fork", str(parent), "--at", "3", "--set", "noequals", "--out", out], capsys)
    assert "--set expects key=value" in err
    err = _one_line(["fork", str(parent), "--at", "3", "--out", str(parent)], capsys)
    assert "refusing to overwrite existing run file" in err  # every command's output check
    err = _one_line(["fork", str(parent), "--at", "3", "--out", str(parent), "--overwrite"],
                    capsys)  # fmt: skip
    assert "is the parent file" in err
    err = _one_line(["fork", str(parent), "--at", "3", "--set", "merge.rate=0.1", "--out", out],
                    capsys)  # fmt: skip
    assert "changes what the run records" in err and "neurosoup run" in err
    assert not (tmp_path / "f.h5").exists()
    assert main(["fork", str(parent), "--at", "3", "--out", out, "--quiet",
                 "--set", "attack.rate=0.5"]) == 0  # fmt: skip
    out_text = capsys.readouterr().out
    assert "fork of" in out_text and "attack.rate=0.5" in out_text
