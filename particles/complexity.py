"""High-order entropy: how much of a population's bytes is repetition (cubff's measure).

``high_order_entropy = H0 − C``, in bits per byte: H0 is the Shannon entropy of the byte
histogram (order zero) and C the compressed size in bits per byte. Bytes drawn independently
from any distribution leave nothing for the compressor beyond H0 (≈ 0); a population of copies
compresses to almost nothing while its bytes still have a spread histogram (high). The
"Computational Life" BFF soup tracks it to mark the rise of replicators.

Fixed choices (results depend on them, so they never change silently):

* **Bytes of weights** (a fixed grid): ``byte = clip(⌊32·w⌋ + 128, 0, 255)``, i.e. bins of
  width 1/32 covering [−4, 4), values outside clipped to the end bins. A fixed grid (rather than
  bins fitted to each population) keeps the measure comparable between ticks and runs, and
  weights closer than 1/32 — a copy that self-training has since nudged — mostly share a byte,
  so near-copies count as copies. Particle weights live well inside ±4 (Xavier init of a 4-2-1
  net: |w| ≤ 1). Rows holding a non-finite weight (divergent particles) are left out. The
  byte string is the rows in slot order, each row's P bytes together.
* **Bytes of genotypes** (SeRANN): the packed bits as stored (13 bytes per 100-bit genotype).
* **Compressor: zlib** (raw DEFLATE, level 6, 32 KiB window, no header or checksum, so a
  short input pays no fixed 6 bytes), from the standard library. cubff
  uses brotli at quality 2; brotli would add a dependency for the same LZ77 + entropy-coding
  idea, and lzma compresses long-range repeats better but is ≈ 10× slower, too slow for a
  per-tick observable. The price of the 32 KiB window: two copies more than 32 KiB apart in
  the byte string (≈ 2,300 particles of P = 14) do not see each other.
"""

from __future__ import annotations

import zlib

import numpy as np
import torch

LEVEL = 6  # zlib compression level (fixed: the measure depends on it)
SCALE = 32  # grid bins per unit of weight (fixed: the measure depends on it)


def weight_bytes(weights: np.ndarray | torch.Tensor) -> np.ndarray:
    """Bytes of a population's weights on the fixed grid: [N, P] float → [N', P] uint8.

    Rows with a non-finite weight are dropped (N' ≤ N). See the module docstring.
    """
    w = weights.detach().cpu().numpy() if isinstance(weights, torch.Tensor) else weights
    w = np.asarray(w)
    w = w.reshape(len(w), -1)
    w = w[np.isfinite(w).all(axis=1)]
    return (np.clip(np.floor(w * SCALE), -128, 127) + 128).astype(np.uint8)


def entropy_bits(data: bytes | np.ndarray) -> float:
    """Order-zero Shannon entropy of a byte string, bits per byte (0 for empty input)."""
    b = np.frombuffer(bytes(data), np.uint8) if not isinstance(data, np.ndarray) else data
    if b.size == 0:
        return 0.0
    p = np.bincount(b.reshape(-1), minlength=256) / b.size
    p = p[p > 0]
    return float(-(p * np.log2(p)).sum())


def compressed_bits(data: bytes) -> float:
    """zlib-compressed size of ``data`` in bits per input byte (NaN for empty input)."""
    if not data:
        return float("nan")
    packer = zlib.compressobj(LEVEL, zlib.DEFLATED, -15)  # raw DEFLATE: no header, no checksum
    return 8.0 * len(packer.compress(data) + packer.flush()) / len(data)


def high_order_entropy_of_bytes(data: bytes | np.ndarray) -> float:
    """H0 − compressed bits per byte of a byte string (NaN when empty)."""
    raw = data.tobytes() if isinstance(data, np.ndarray) else bytes(data)
    if not raw:
        return float("nan")
    return entropy_bits(np.frombuffer(raw, np.uint8)) - compressed_bits(raw)


def high_order_entropy(weights: np.ndarray | torch.Tensor) -> float:
    """High-order entropy of a population's weights [N, P] (bytes on the fixed grid).

    NaN when no row is finite.
    """
    return high_order_entropy_of_bytes(weight_bytes(weights))


__all__ = [
    "LEVEL",
    "SCALE",
    "compressed_bits",
    "entropy_bits",
    "high_order_entropy",
    "high_order_entropy_of_bytes",
    "weight_bytes",
]
