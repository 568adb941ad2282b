"""Shared fixtures."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture
def gen() -> torch.Generator:
    """A CPU generator at a pinned seed."""
    return torch.Generator().manual_seed(1234)
