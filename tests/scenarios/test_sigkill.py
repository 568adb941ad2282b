"""A run killed with SIGKILL leaves a readable file; resuming it ends like an unbroken run."""

from __future__ import annotations

import sys

import numpy as np

from neurosoup.chemistry.recorder import open_run_spec, record, resume
from neurosoup.scenarios import make
from tests.scenarios.helpers import assert_same_file, checkpoint_step, kill_after_checkpoint

SETS = {"steps": 5000, "checkpoint_every": 7, "n_particles": 20}




def test_sigkill_then_resume(tmp_path) -> None:
    path = tmp_path / "killed.h5"
    cmd = [sys.executable, "-m", "neurosoup.scenarios.cli", "run", "soup/journal-v1", "--seed",
           "9", "--out", str(path), "--quiet"]
    for key, value in SETS.items():
        cmd += ["--set", f"{key}={value}"]
    kill_after_checkpoint(cmd, path, 14, timeout=120, linger=0.1)

    file, meta = open_run_spec(path)  # readable after the kill
    with file:
        steps = file["observables/count_fixpoint/step"][:]
        assert np.array_equal(steps, np.arange(steps.shape[0])), "flushed ticks are contiguous"
        assert file["particles/all/weights/value"].shape[0] == steps.shape[0]
        assert meta["steps_planned"] == 5000
    tick = checkpoint_step(path)
    assert tick >= 14 and steps.shape[0] - 1 >= tick

    end = tick + 9
    soup = resume(path, end - tick, progress=False)
    whole = make("soup/journal-v1", seed=9, **SETS)
    record(whole, tmp_path / "whole.h5", end, progress=False)
    assert soup.steps == whole.steps == end
    assert np.array_equal(soup.store.weights.numpy(), whole.store.weights.numpy())
    assert_same_file(path, tmp_path / "whole.h5")
