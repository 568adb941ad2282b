"""Genotype bits: packing, hex, Hamming distance, validation."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from neurosoup.particles.errors import ShapeError
from neurosoup.particles.serann.genotype import (
    N_BITS,
    check_bits,
    from_hex,
    hamming,
    pack,
    random_genotypes,
    single_mutants,
    to_hex,
    unpack,
)

bit_rows = st.lists(st.integers(0, 2**N_BITS - 1), min_size=1, max_size=8)


@settings(max_examples=50, deadline=None)
@given(bit_rows)
def test_pack_and_hex_round_trip(rows: list[int]) -> None:
    bits = torch.tensor([[(r >> i) & 1 for i in range(N_BITS)] for r in rows], dtype=torch.uint8)
    assert torch.equal(unpack(pack(bits)), bits)
    hexes = to_hex(bits)
    assert all(len(h) == 26 for h in hexes)
    assert torch.equal(from_hex(hexes), bits)


def test_hamming_counts_flips() -> None:
    gen = torch.Generator().manual_seed(0)
    a = random_genotypes(20, gen)
    k = torch.arange(20)
    flip = (torch.arange(N_BITS)[None, :] < k[:, None]).to(torch.uint8)
    assert torch.equal(hamming(a, a ^ flip), k)
    assert torch.equal(hamming(a, a[0]), hamming(a, a[:1].expand(20, -1)))


def test_single_mutants_differ_in_one_bit() -> None:
    g = random_genotypes(1, torch.Generator().manual_seed(1))
    mutants = single_mutants(g)
    assert mutants.shape == (N_BITS, N_BITS)
    assert (hamming(mutants, g) == 1).all()
    assert len({tuple(m.tolist()) for m in mutants}) == N_BITS


def test_bool_and_float_inputs() -> None:
    b = torch.tensor([[True, False] * 50])
    assert check_bits(b).dtype == torch.uint8
    assert torch.equal(check_bits(b.float()), check_bits(np.asarray(b)))


@pytest.mark.parametrize(
    "bad", [torch.zeros(3, 99), torch.zeros(2, 100, 1), torch.full((1, 100), 0.5)]
)
def test_bad_genotypes_raise_shape_error(bad: torch.Tensor) -> None:
    with pytest.raises(ShapeError):
        check_bits(bad)


def test_bad_hex() -> None:
    with pytest.raises(ShapeError):
        from_hex("zz")
    with pytest.raises(ShapeError):
        from_hex("ff" * 13)  # padding bits set
