"""Shared helpers of the scenario tests."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import h5py
import numpy as np

from neurosoup.scenarios import spec


def tiny(scenario: str, **extra) -> dict:
    """Overrides that make a registered scenario tiny (a few particles, ticks, steps)."""
    cfg = spec(scenario).resolve()
    out = {"n_particles": 6, "steps": 5, "checkpoint_every": 2}
    train, learn = cfg.op("self_train"), cfg.op("learn_from")
    if train is not None and train["steps"] > 2:
        out["self_train.steps"] = 2
    second = cfg.op("second_order_train")
    if second is not None and second["steps"] > 2:
        out["second_order_train.steps"] = 2
    if learn is not None and learn["severity"] > 2:
        out["learn_from.severity"] = 2
    return {**out, **extra}


def checkpoint_step(path: Path) -> int:
    """The step of a run file's checkpoint (-1 while there is none or it is being replaced)."""
    try:
        with h5py.File(f"{path}.ckpt", "r") as f:
            return int(f.attrs["step"])
    except (OSError, KeyError):
        return -1


def kill_after_checkpoint(
    cmd: list[str], path: Path, step: int, timeout: float = 90, linger: float = 0.0
) -> int:
    """Start ``cmd`` (a run writing ``path``), SIGKILL it once its checkpoint reaches ``step``.

    ``linger`` seconds more let it get somewhere between two checkpoints. Returns the
    checkpoint step at the kill. The child runs with one intra-op thread.
    """
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    child = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + timeout
    try:
        while checkpoint_step(path) < step:
            assert child.poll() is None, child.stderr.read().decode()
            assert time.monotonic() < deadline, "the child run made no progress"
            time.sleep(0.02)
        time.sleep(linger)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
        child.stderr.close()
    assert child.returncode == -signal.SIGKILL, "the child ended before it was killed"
    return checkpoint_step(path)


def dump(path: Path) -> dict:
    """Every dataset and attribute of an HDF5 file, as numpy values."""
    out: dict = {}

    def visit(name, obj):
        for key, value in obj.attrs.items():
            out[f"{name}@{key}"] = value
        if isinstance(obj, h5py.Dataset):
            out[name] = obj[()]

    with h5py.File(path, "r") as f:
        for key, value in f.attrs.items():
            out[f"@{key}"] = value
        f.visititems(visit)
    return out


def assert_same_file(a: Path, b: Path) -> None:
    da, db = dump(a), dump(b)
    assert sorted(da) == sorted(db)
    for key in da:
        x, y = np.asarray(da[key]), np.asarray(db[key])
        assert x.shape == y.shape and x.dtype == y.dtype, key
        assert np.array_equal(x, y, equal_nan=x.dtype.kind == "f"), key
