"""Hand-built run files whose analyses are known by construction."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from neurosoup.particles import ParticleSpec, self_train_step

from .runfiles import write_run

P = ParticleSpec().n_weights  # 14


@pytest.fixture
def line_run(tmp_path: Path) -> tuple[Path, np.ndarray]:
    """4 particles × 5 snapshots whose weights all lie on one line a + t·d.

    Returns the path and t [S, C]. Types: slot 0 ends fixpoint, the rest other.
    """
    rng = np.random.default_rng(0)
    s, c = 5, 4
    a, d = rng.normal(size=P), rng.normal(size=P)
    t = rng.normal(size=(s, c))
    w = a + t[:, :, None] * d
    uid = np.tile(np.arange(c), (s, 1))
    ptype = np.full((s, c), 4)
    ptype[-1, 0] = 2
    path = write_run(tmp_path / "line.h5", steps=np.arange(s) * 10, weights=w, uid=uid, ptype=ptype)
    return path, t


@pytest.fixture
def tree_run(tmp_path: Path) -> Path:
    """A soup of 3 slots whose lineage is a known tree (slots reused after deaths).

    uids 0, 1, 2 are seeds (tick 0). Tick 1: uid 3, child of 0 (co-parent 1), replaces 2.
    Tick 2: uid 4, child of 3, replaces 1. Tick 3: uid 5, respawn (no parent), replaces 0.
    Final alive: 5, 4, 3, types fixpoint, fixpoint, other. Bonds at tick 3: {3, 4}.
    """
    steps = np.arange(4)
    uid = np.array([[0, 1, 2], [0, 1, 3], [0, 4, 3], [5, 4, 3]])
    parent = np.array([[-1, -1, -1], [-1, -1, 0], [-1, 3, 0], [-1, 3, 0]])
    born = np.array([[0, 0, 0], [0, 0, 1], [0, 2, 1], [3, 2, 1]])
    ptype = np.array([[4, 4, 4], [4, 4, 4], [4, 2, 4], [2, 2, 4]])
    spec = ParticleSpec()
    w = spec.init(12, torch.Generator().manual_seed(1)).numpy().reshape(4, 3, P)
    births = {
        "uid": np.arange(6),
        "parent_uid": [-1, -1, -1, 0, 3, -1],
        "co_parent_uid": [-1, -1, -1, 1, -1, -1],
        "born_at": [0, 0, 0, 1, 2, 3],
        "cause": np.array([0, 0, 0, 2, 2, 1], dtype=np.int8),
    }
    deaths = {"uid": [2, 1, 0], "died_at": [1, 2, 3], "cause": np.array([2, 2, 1], np.int8)}
    events = {
        "tick": np.array([1, 1, 2]),
        "operator": np.array([0, 3, 3], dtype=np.int8),
        "actor": np.array([1, 0, 3]),
        "counterpart": np.array([0, 1, -1]),
        "changed": np.array([0, 3, 4]),
        "applied": np.array([False, True, True]),
    }
    bonds = [np.zeros((0, 2), np.int64)] * 3 + [np.array([[3, 4]])]
    return write_run(
        tmp_path / "tree.h5",
        steps=steps,
        weights=w,
        uid=uid,
        ptype=ptype,
        parent_uid=parent,
        born_at=born,
        births=births,
        deaths=deaths,
        events=events,
        bonds=bonds,
    )


@pytest.fixture(scope="session")
def trained_fixpoints() -> torch.Tensor:
    """Six 4-2-1 particles self-trained to ε-fixpoints (3,000 SGD steps, lr 0.04)."""
    spec = ParticleSpec()
    w = spec.init(6, torch.Generator().manual_seed(5))
    for _ in range(3000):
        w, _, _ = self_train_step(spec, w, 0.04)
    return w


@pytest.fixture
def fixpoint_run(tmp_path: Path, trained_fixpoints: torch.Tensor) -> Path:
    """A 6-particle soup whose last snapshot holds trained fixpoints (bonds 0-1, 1-2, 3-4)."""
    spec = ParticleSpec()
    start = spec.init(6, torch.Generator().manual_seed(5)).numpy()
    w = np.stack([start, 0.5 * (start + trained_fixpoints.numpy()), trained_fixpoints.numpy()])
    uid = np.tile(np.arange(6), (3, 1))
    ptype = np.array([[4] * 6, [4] * 6, [2] * 6])
    bonds = [np.zeros((0, 2), np.int64), np.array([[0, 1]]), np.array([[0, 1], [1, 2], [3, 4]])]
    return write_run(
        tmp_path / "fix.h5",
        steps=np.array([0, 50, 100]),
        weights=w,
        uid=uid,
        ptype=ptype,
        bonds=bonds,
    )
