"""Shared fixtures; registers the model kinds that live in ``tests/kinds/`` (one module each)."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
import torch

for _module in sorted((Path(__file__).parent / "kinds").glob("[!_]*.py")):
    importlib.import_module(f"tests.kinds.{_module.stem}")  # each registers its kind


@pytest.fixture(autouse=True, scope="session")
def _one_thread():
    """Tiny tensors: one intra-op thread avoids oversubscription on a 2-core machine."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)

