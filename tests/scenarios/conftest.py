"""Fixtures shared by the scenario tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory) -> Path:
    """Generation 0 of serann/smoke-v1 from 8 distinct corpus founders, 10 training steps."""
    from neurosoup.chemistry.recorder import record
    from neurosoup.scenarios import make

    path = tmp_path_factory.mktemp("evaluate") / "smoke.h5"
    record(make("serann/smoke-v1", seed=0, founders="corpus", steps=0, train_steps=10), path,
           progress=False)  # fmt: skip
    return path
