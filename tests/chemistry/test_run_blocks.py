"""The recorder writes blocks at the checkpoint cadence; the file is the same as step by step."""

from __future__ import annotations

import h5py
import numpy as np

from neurosoup.chemistry import recorder as rec_mod
from neurosoup.chemistry.recorder import Recorder, record
from neurosoup.scenarios import make
from tests.scenarios.helpers import dump

SETS = {"n_particles": 6, "self_train.steps": 2, "snapshot_every": 1}


def _rows(path) -> int:
    with h5py.File(path, "r") as f:
        return f["observables/n_alive/step"].shape[0]


def test_rows_reach_the_file_at_checkpoints_and_close(tmp_path) -> None:
    soup = make("soup/merge-v1", seed=3, steps=20, checkpoint_every=5, **SETS)
    rec = Recorder.create(tmp_path / "r.h5", soup)
    soup.run(7, progress=False)
    steps = rec.file["observables/n_alive/step"][:]
    assert steps.tolist() == list(range(6)), "written up to the checkpoint at step 5"
    assert rec.file["particles/all/weights/step"][:].tolist() == list(range(6))
    assert rec.block.first_step == 6
    rec.close()
    assert _rows(tmp_path / "r.h5") == 8


def test_block_size_and_cadence_leave_the_contents_unchanged(tmp_path, monkeypatch) -> None:
    """Checkpoints every step (a write per step), every 7, and a tiny byte cap: same data."""
    files = []
    for i, (every, cap) in enumerate([(1, 8 << 20), (7, 8 << 20), (100, 200)]):
        monkeypatch.setattr(rec_mod, "BLOCK_BYTES", cap)
        soup = make("soup/merge-v1", seed=4, steps=23, checkpoint_every=every, **SETS)
        record(soup, tmp_path / f"{i}.h5", progress=False)
        files.append(dump(tmp_path / f"{i}.h5"))
    keys = [k for k in files[0] if not k.startswith("parameters") and "@" not in k]
    assert any(k.startswith("bonds") or "organism" in k for k in keys)
    for other in files[1:]:
        assert sorted(keys) == sorted(k for k in other if k in keys)
        for k in keys:
            a, b = np.asarray(files[0][k]), np.asarray(other[k])
            assert a.dtype == b.dtype and np.array_equal(a, b, equal_nan=a.dtype.kind == "f"), k


def test_a_block_keeps_copies_of_the_arrays_it_is_given(tmp_path) -> None:
    soup = make("soup/journal-v1", seed=1, steps=4, checkpoint_every=10, **SETS)
    rec = Recorder.create(tmp_path / "r.h5", soup)
    frame = np.zeros((6, soup.spec.n_weights), dtype=np.float32)
    rec.block.add_frame("particles/all/weights", 99, frame)
    frame += 1.0  # a model reusing its buffer must not change what was kept
    assert float(rec.block.frames["particles/all/weights"][1][-1].sum()) == 0.0
    rec.block.clear()
    rec.close()
