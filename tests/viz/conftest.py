"""A run file of every kind, written once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.viz.runs import write_runs


@pytest.fixture(scope="session")
def kind_runs(tmp_path_factory) -> dict[str, Path]:
    return write_runs(tmp_path_factory.mktemp("kind_runs"))
