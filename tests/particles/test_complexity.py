"""High-order entropy: known answers (copies high, i.i.d. ≈ 0, half-copied between)."""

from __future__ import annotations

import zlib

import numpy as np
import pytest
import torch

from neurosoup.particles.complexity import (
    compressed_bits,
    entropy_bits,
    high_order_entropy,
    high_order_entropy_of_bytes,
    weight_bytes,
)

N, P = 2000, 14


def _populations(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    iid = rng.uniform(-1, 1, size=(N, P))
    one = rng.uniform(-1, 1, size=P)
    half = iid.copy()
    half[rng.permutation(N)[: N // 2]] = one
    return {"iid": iid, "copies": np.tile(one, (N, 1)), "half": half}


def test_known_answers() -> None:
    h = {k: high_order_entropy(v) for k, v in _populations().items()}
    assert abs(h["iid"]) < 0.1  # i.i.d. bytes: nothing beyond H0 to compress
    assert h["copies"] > 3.0  # ≈ H0 of one particle's 14 bytes (log2 14 = 3.81)
    assert 1.0 < h["half"] < h["copies"] - 1.0
    assert h["copies"] <= entropy_bits(weight_bytes(_populations()["copies"])) + 1e-12


def test_bytes_grid_and_dropped_rows() -> None:
    w = np.array([[0.0, 1 / 32, -1 / 32, 3.99], [5.0, -5.0, 0.5, -0.5], [np.nan, 0, 0, 0]])
    b = weight_bytes(torch.tensor(w))
    assert b.tolist() == [[128, 129, 127, 255], [255, 0, 144, 112]]  # NaN row left out


def test_entropy_and_compression_by_hand() -> None:
    data = bytes([1, 1, 2, 2])
    assert entropy_bits(data) == pytest.approx(1.0)
    packer = zlib.compressobj(6, zlib.DEFLATED, -15)
    assert compressed_bits(data) == 8 * len(packer.compress(data) + packer.flush()) / 4
    assert np.isnan(high_order_entropy_of_bytes(b""))
    assert np.isnan(high_order_entropy(np.full((3, P), np.nan)))


def test_near_copies_count_as_copies() -> None:
    one = np.random.default_rng(1).uniform(-0.9, 0.9, size=P)
    near = one + np.random.default_rng(2).normal(scale=1e-4, size=(N, P))
    assert high_order_entropy(near) > 3.0
