"""Format-1 run files (made by neurosoup at 90ec101, before model kinds) still open."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest

from neurosoup.analysis import open_run
from neurosoup.chemistry.recorder import resume
from neurosoup.particles import SnapshotError

FIXTURE = Path(__file__).parent / "data" / "v1_merge.h5.gz"  # merge-v1, 6 particles, 6 ticks


@pytest.fixture
def v1_file(tmp_path) -> Path:
    path = tmp_path / "v1.h5"
    with gzip.open(FIXTURE, "rb") as src, path.open("wb") as dst:
        shutil.copyfileobj(src, dst)
    return path


def test_version_1_file_opens_with_every_table(v1_file) -> None:
    with open_run(v1_file) as run:
        assert (run.format_version, run.kind) == (1, "soup")
        assert list(run.observables.index) == list(range(7))
        assert len(run.snapshots) == 7 and run.particle_spec.n_weights == 14
        ops = set(run.events["operator"])
        assert ops <= {"attack", "merge", "respawn"} and "merge" in ops  # names from the v1 list
        assert len(run.births) >= 6 and run.organisms(), "bonds of the last snapshot"


def test_version_1_file_is_not_resumed(v1_file) -> None:
    with pytest.raises(SnapshotError, match="format_version 1: this neurosoup analyses it"):
        resume(v1_file, 1, progress=False)
