from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

from neurosoup.analysis import SnapshotError, open_run
from neurosoup.particles import runformat

from .runfiles import write_run


def test_spec_observables_and_lazy_frames(line_run):
    path, _ = line_run
    with open_run(path) as run:
        assert run.spec["scenario"] == "soup/test-v1"
        assert run.particle_spec.n_weights == 14
        assert run.epsilon == 1e-5
        obs = run.observables
        assert list(obs.index) == [0, 10, 20, 30, 40]
        assert obs.index.name == "step"
        assert (obs["n_alive"] == 4).all()
        assert obs.loc[40, "count_fixpoint"] == 1
        assert list(run.snapshots.steps) == [0, 10, 20, 30, 40]
        frame = run.snapshots.frame(20)
        assert frame.step == 20 and frame.weights.shape == (4, 14)
        assert run.snapshots.types().tolist() == [2, 4, 4, 4]  # last snapshot by default
        with pytest.raises(SnapshotError, match="no snapshot at step 15"):
            run.snapshots.frame(15)


def test_trajectories_follow_uids_across_slot_reuse(tree_run):
    with open_run(tree_run) as run:
        steps, uids, w = run.snapshots.trajectories()
        assert uids.tolist() == [0, 1, 2, 3, 4, 5] and steps.tolist() == [0, 1, 2, 3]
        assert w.shape == (4, 6, 14)
        # uid 3 lives in slot 2 from tick 1 on; uid 2 only at tick 0
        np.testing.assert_array_equal(w[1:, 3], run.snapshots._group["weights/value"][1:, 2])
        assert np.isnan(w[1:, 2]).all() and np.isfinite(w[0, 2]).all()


def test_events_lineage_organisms(tree_run):
    with open_run(tree_run) as run:
        ev = run.events
        assert ev["operator"].tolist() == ["attack", "melt", "melt"]
        assert ev["applied"].tolist() == [False, True, True]
        g = run.lineage
        assert set(g.edges) == {(0, 3), (1, 3), (3, 4)}
        assert g.edges[1, 3]["role"] == "co_parent"
        assert g.nodes[2]["died_at"] == 1 and g.nodes[2]["death_cause"] == "replaced"
        assert g.nodes[5]["cause"] == "respawn"
        assert run.organisms(3) == [[3, 4]]
        assert run.organisms(0) == []


def test_lineage_rebuilt_from_snapshots_without_tables(tmp_path):
    uid = np.array([[0, 1], [0, 2]])
    parent = np.array([[-1, -1], [-1, 0]])
    path = write_run(
        tmp_path / "r.h5",
        steps=np.arange(2),
        weights=np.zeros((2, 2, 14)),
        uid=uid,
        ptype=np.full((2, 2), 1),
        parent_uid=parent,
    )
    with open_run(path) as run:
        assert set(run.lineage.edges) == {(0, 2)}
        assert run.births["cause"].tolist() == ["seed", "seed", "offspring"]


def _one_line(exc: pytest.ExceptionInfo, path: Path) -> str:
    msg = str(exc.value)
    assert "\n" not in msg and str(path) in msg
    return msg


def test_not_hdf5(tmp_path):
    path = tmp_path / "notes.h5"
    path.write_text("hello")
    with pytest.raises(SnapshotError) as exc:
        open_run(path)
    assert "not an HDF5 file" in _one_line(exc, path)


def test_missing_file(tmp_path):
    with pytest.raises(SnapshotError, match="no such file"):
        open_run(tmp_path / "nope.h5")


def test_hdf5_but_not_a_run(tmp_path):
    path = tmp_path / "other.h5"
    with h5py.File(path, "w") as f:
        f["x"] = 1
    with pytest.raises(SnapshotError) as exc:
        open_run(path)
    assert "not a neurosoup run" in _one_line(exc, path)


def test_newer_format_version(line_run, tmp_path):
    path = write_run(
        tmp_path / "new.h5",
        steps=np.arange(1),
        weights=np.zeros((1, 1, 14)),
        uid=np.zeros((1, 1)),
        ptype=np.ones((1, 1)),
        format_version=runformat.FORMAT_VERSION + 1,
    )
    with pytest.raises(SnapshotError) as exc:
        open_run(path)
    assert "upgrade neurosoup" in _one_line(exc, path)


def test_damaged_groups(line_run):
    path, _ = line_run
    with h5py.File(path, "a") as f:
        del f["parameters/spec"]
        f["parameters/spec"] = "{not json"
    with pytest.raises(SnapshotError) as exc:
        open_run(path)
    assert "/parameters/spec" in _one_line(exc, path)
    with h5py.File(path, "a") as f:
        del f["parameters/spec"]
        f["parameters/spec"] = json.dumps({"config": {}})
        del f["particles/all/ptype/value"]
        f["particles/all/ptype/value"] = np.zeros((3, 4), np.int8)  # 3 frames, 5 steps
    with pytest.raises(SnapshotError) as exc:
        open_run(path)
    assert "/particles/all/ptype" in _one_line(exc, path)


def test_truncated_file(line_run, tmp_path):
    path, _ = line_run
    cut = tmp_path / "cut.h5"
    data = path.read_bytes()
    cut.write_bytes(data[: len(data) // 3])
    with pytest.raises(SnapshotError) as exc:
        open_run(cut)
    _one_line(exc, cut)


def test_observable_length_mismatch(line_run):
    path, _ = line_run
    with h5py.File(path, "a") as f:
        del f["observables/n_alive/value"]
        f["observables/n_alive/value"] = np.zeros(2)
    with open_run(path) as run, pytest.raises(SnapshotError, match="/observables/n_alive"):
        run.observables  # noqa: B018


def test_file_locked_by_a_writer(line_run):
    import subprocess
    import sys

    path, _ = line_run
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import h5py, sys, time\n"
            f"f = h5py.File({str(path)!r}, 'a'); print('open', flush=True); time.sleep(30)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "open"
        with pytest.raises(SnapshotError) as exc:
            open_run(path)
        assert "locked by another process" in _one_line(exc, path)
    finally:
        holder.kill()
        holder.wait()


def test_truncated_damaged_locked_and_foreign_files_are_told_apart(line_run, tmp_path):
    """Found as a new user: a truncated file was reported as "locked" ("sblock" in HDF5's text)."""
    good, _ = line_run
    data = good.read_bytes()
    cut = tmp_path / "cut.h5"
    cut.write_bytes(data[: len(data) // 2])
    broken = tmp_path / "broken.h5"
    raw = bytearray(data)
    raw[100:400] = bytes(300)  # wipe the root group's object header
    broken.write_bytes(bytes(raw))
    foreign = tmp_path / "foreign.h5"
    with h5py.File(foreign, "w") as f:
        f["x"] = [1, 2, 3]
    messages = {}
    for path in (cut, broken, foreign):
        with pytest.raises(SnapshotError) as exc:
            open_run(path)
        messages[path.name] = _one_line(exc, path).split(f"{path}: ", 1)[1]
    assert "truncated" in messages["cut.h5"] and "another process" not in messages["cut.h5"]
    assert "damaged" in messages["broken.h5"] and "truncated" not in messages["broken.h5"]
    assert "not a neurosoup run" in messages["foreign.h5"]
    holder = subprocess.Popen(
        [sys.executable, "-c", "import h5py, sys, time; f = h5py.File(sys.argv[1], 'a'); "
         "print('open', flush=True); time.sleep(30)", str(good)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "open"
        with pytest.raises(SnapshotError) as exc:
            open_run(good)
        assert "locked by another process" in _one_line(exc, good)
    finally:
        holder.kill()
        holder.wait()
