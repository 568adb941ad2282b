"""Encoding tables equal science/particles.md §2."""

from __future__ import annotations

import pytest
import torch

from neurosoup.particles import ParticleSpec, encode_positions

T = 1 / 3


def test_421_global_table() -> None:
    table = encode_positions(ParticleSpec(), dtype=torch.float64)
    assert table.shape == (14, 4)
    assert torch.all(table[:, 0] == 0)
    layer = [0] * 8 + [0.5] * 4 + [1] * 2
    cell = [0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 1, 1, 0, 0]
    edge = [0, T, 2 * T, 1] * 2 + [0, T] * 3
    torch.testing.assert_close(table[:, 1], torch.tensor(layer, dtype=torch.float64))
    torch.testing.assert_close(table[:, 2], torch.tensor(cell, dtype=torch.float64))
    torch.testing.assert_close(table[:, 3], torch.tensor(edge, dtype=torch.float64))


def test_421_per_layer_table() -> None:
    table = encode_positions(ParticleSpec(encoding="per_layer"), dtype=torch.float64)
    edge = [0, T, 2 * T, 1] * 2 + [0, 1] * 3
    torch.testing.assert_close(table[:, 3], torch.tensor(edge, dtype=torch.float64))
    # the doc's worked examples: k = 1 and k = 9
    torch.testing.assert_close(table[1, 1:], torch.tensor([0, 0, T], dtype=torch.float64))
    torch.testing.assert_close(table[9, 1:], torch.tensor([0.5, 0, 1], dtype=torch.float64))
    glob = encode_positions(ParticleSpec(), dtype=torch.float64)
    torch.testing.assert_close(glob[9, 1:], torch.tensor([0.5, 0, T], dtype=torch.float64))


@pytest.mark.parametrize("encoding", ["global", "per_layer"])
def test_531_table(encoding: str) -> None:
    spec = ParticleSpec(n_inputs=5, hidden=3, encoding=encoding)
    table = encode_positions(spec, dtype=torch.float64)
    assert table.shape == (27, 5)
    assert torch.all(table[:, 4] == 0)  # auxiliary column
    q = [0, 0.25, 0.5, 0.75, 1]
    w1_edge = q * 3
    w23_edge = [0, 0.25, 0.5] if encoding == "global" else [0, 0.5, 1]
    edge = w1_edge + w23_edge * 3 + w23_edge
    cell = [0] * 5 + [0.5] * 5 + [1] * 5 + [0] * 3 + [0.5] * 3 + [1] * 3 + [0] * 3
    layer = [0] * 15 + [0.5] * 9 + [1] * 3
    torch.testing.assert_close(table[:, 1], torch.tensor(layer, dtype=torch.float64))
    torch.testing.assert_close(table[:, 2], torch.tensor(cell, dtype=torch.float64))
    torch.testing.assert_close(table[:, 3], torch.tensor(edge, dtype=torch.float64))


def test_alife2019_swaps_cell_and_edge() -> None:
    per_layer = encode_positions(ParticleSpec(encoding="per_layer"))
    alife = encode_positions(ParticleSpec(encoding="alife2019"))
    torch.testing.assert_close(alife[:, 2], per_layer[:, 3])
    torch.testing.assert_close(alife[:, 3], per_layer[:, 2])


def test_551_global_equals_per_layer() -> None:
    a = encode_positions(ParticleSpec(n_inputs=5, hidden=5))
    b = encode_positions(ParticleSpec(n_inputs=5, hidden=5, encoding="per_layer"))
    torch.testing.assert_close(a, b)
    assert set(a[:, 3].tolist()) == {0, 0.25, 0.5, 0.75, 1}


def test_table_is_a_fresh_copy() -> None:
    spec = ParticleSpec()
    encode_positions(spec)[:, 1] = 99.0
    assert float(encode_positions(spec)[:, 1].max()) == 1.0
