"""SeRANN genotypes: 100 bits per individual, stored as ``uint8`` (0/1) tensors ``[N, 100]``.

Packing (13 bytes, most significant bit first, 4 zero pad bits at the end) gives the byte and
hex forms stored in run files. The mutation count of an offspring is its Hamming distance to
its parent.

``ANCESTOR_HEX`` is the default founder. It is not the paper's ancestor bit string (that belongs
to the paper's RiboAE weights, which we do not use): it is a held-out corpus genotype, under our
shipped RiboAE, whose *decoded* program is valid, has α in [0.3, 0.5] and a one-layer trunk, picked
by calibration so that it makes 1–6 mutations per replication with the default juvenile budget
(``benchmarks/serann_calibrate.py``; the table, command and hex are in ``docs/serann.md`` and
``data/ancestor.json``). The first ancestor ``ribo_train.py`` picked (``data/ribo.json``,
``ribo_ancestor_hex``) has a 3-layer trunk, makes 35–46 wrong bits per copy and cannot found a
population.
"""

from __future__ import annotations

import numpy as np
import torch

from neurosoup.particles.errors import ShapeError

N_BITS = 100
N_BYTES = (N_BITS + 7) // 8
#: Default founder (see the module docstring); equals ``data/ancestor.json["hex"]``.
ANCESTOR_HEX = "d66e48628f829256f43fb62070"


def check_bits(bits: torch.Tensor | np.ndarray) -> torch.Tensor:
    """Validate genotypes and return them as a ``uint8`` tensor.

    Args:
        bits: [N, 100] (or [100]) of bool, integer 0/1 or float 0/1.

    Returns:
        bits: [N, 100] uint8.

    Raises:
        ShapeError: If the shape is not [N, 100] or values are not 0/1.
    """
    t = torch.as_tensor(np.asarray(bits)) if isinstance(bits, np.ndarray) else bits
    if not isinstance(t, torch.Tensor):
        raise ShapeError(f"genotypes must be a tensor or array, got {type(bits).__name__}")
    if t.ndim == 1:
        t = t.unsqueeze(0)
    if t.ndim != 2 or t.shape[1] != N_BITS:
        raise ShapeError(
            f"genotypes must have shape [N, {N_BITS}], got {list(t.shape)}; "
            "stack single genotypes with torch.stack"
        )
    if t.dtype != torch.bool and t.numel() and not bool(((t == 0) | (t == 1)).all()):
        raise ShapeError("genotype values must be 0 or 1; threshold outputs at 0.5 first")
    return t.to(torch.uint8)


def pack(bits: torch.Tensor | np.ndarray) -> np.ndarray:
    """Pack genotypes into bytes.

    Args:
        bits: [N, 100] 0/1.

    Returns:
        packed: [N, 13] uint8.
    """
    return np.packbits(check_bits(bits).numpy(), axis=1)


def unpack(packed: np.ndarray) -> torch.Tensor:
    """Inverse of ``pack``: ``packed: [N, 13] uint8`` -> ``bits: [N, 100] uint8``.

    Raises:
        ShapeError: If ``packed`` is not [N, 13] uint8-compatible.
    """
    arr = np.asarray(packed)
    if arr.ndim == 1:
        arr = arr[None]
    if arr.ndim != 2 or arr.shape[1] != N_BYTES:
        raise ShapeError(f"packed genotypes must have shape [N, {N_BYTES}], got {list(arr.shape)}")
    return torch.from_numpy(np.unpackbits(arr.astype(np.uint8), axis=1)[:, :N_BITS].copy())


def to_hex(bits: torch.Tensor | np.ndarray) -> list[str]:
    """Genotypes as 26-character hex strings, one per row of ``bits: [N, 100]``."""
    return [row.tobytes().hex() for row in pack(bits)]


def from_hex(hexes: list[str] | str) -> torch.Tensor:
    """Genotypes from hex strings; returns ``bits: [N, 100] uint8``.

    Raises:
        ShapeError: If a string is not 26 hex digits or sets a padding bit.
    """
    items = [hexes] if isinstance(hexes, str) else list(hexes)
    rows = []
    for h in items:
        try:
            raw = bytes.fromhex(h)
        except ValueError as err:
            raise ShapeError(f"not a hex string: {h!r}") from err
        if len(raw) != N_BYTES or raw[-1] & 0x0F:
            raise ShapeError(f"a genotype is {2 * N_BYTES} hex digits with 4 zero pad bits: {h!r}")
        rows.append(np.frombuffer(raw, dtype=np.uint8))
    return unpack(np.stack(rows) if rows else np.zeros((0, N_BYTES), np.uint8))


def hamming(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Hamming distances (mutation counts).

    Args:
        a: [N, 100] 0/1.
        b: [N, 100] or [100] 0/1 (broadcast).

    Returns:
        distances: [N] int64.
    """
    a_bits = check_bits(a)
    b_bits = check_bits(b)
    return (a_bits != b_bits).sum(dim=1)


def random_genotypes(n: int, gen: torch.Generator) -> torch.Tensor:
    """``n`` uniform random genotypes, ``[n, 100]`` uint8."""
    return torch.randint(0, 2, (n, N_BITS), generator=gen, dtype=torch.uint8)


def single_mutants(bits: torch.Tensor) -> torch.Tensor:
    """All 100 single-bit flips of one genotype.

    Args:
        bits: [100] or [1, 100] 0/1.

    Returns:
        mutants: [100, 100] uint8, row i has bit i flipped.
    """
    g = check_bits(bits)[0]
    return g.unsqueeze(0) ^ torch.eye(N_BITS, dtype=torch.uint8)


def ancestor() -> torch.Tensor:
    """The default founder genotype, ``[1, 100]`` uint8 (``ANCESTOR_HEX``)."""
    return from_hex(ANCESTOR_HEX)


__all__ = [
    "ANCESTOR_HEX",
    "N_BITS",
    "N_BYTES",
    "ancestor",
    "check_bits",
    "from_hex",
    "hamming",
    "pack",
    "random_genotypes",
    "single_mutants",
    "to_hex",
    "unpack",
]
