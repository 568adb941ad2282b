"""Wright–Fisher selection and endogenous replication of a SeRANN generation (science/serann.md).

Pure functions of the model's numpy ``rng``: offspring counts ~ Multinomial(N, F/ΣF), then each
parent's offspring drawn without replacement from the P copies it made of its own genotype.
"""

from __future__ import annotations

import numpy as np
import torch

from neurosoup.particles.serann.genotype import N_BITS


def wright_fisher(rng: np.random.Generator, fertility: np.ndarray) -> np.ndarray:
    """Offspring counts ~ Multinomial(N, F/ΣF): ``fertility [N]`` → ``counts [N]`` int64.

    All zeros when ΣF = 0 (an extinct population: nobody reproduces).
    """
    f = np.asarray(fertility, dtype=np.float64)
    total = float(f.sum())
    if not total > 0:
        return np.zeros(f.shape[0], np.int64)
    return rng.multinomial(f.shape[0], f / total).astype(np.int64)



def replicate(rng: np.random.Generator, counts: np.ndarray,
              copies: np.ndarray) -> tuple[torch.Tensor, np.ndarray]:  # fmt: skip
    """Offspring genotypes [C, 100] uint8 and their parents' rows [C] (C = Σ counts).

    counts: [N] offspring per parent; copies: [N, P, 100] the copies each parent made. A
    parent's offspring are drawn without replacement from its P copies; more than P offspring
    draw the pool again, each round without replacement.
    """
    pool = copies.shape[1]
    children, parent_rows = [], []
    for i in np.flatnonzero(counts):
        c = int(counts[i])
        picks = np.concatenate([rng.permutation(pool) for _ in range(-(-c // pool))])
        children.append(copies[i, picks[:c]])
        parent_rows.extend([i] * c)
    if not children:
        return torch.zeros(0, N_BITS, dtype=torch.uint8), np.zeros(0, np.int64)
    return torch.from_numpy(np.concatenate(children)), np.asarray(parent_rows, np.int64)


__all__ = ["replicate", "wright_fisher"]
