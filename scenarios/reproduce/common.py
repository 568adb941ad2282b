"""Shared pieces of ``neurosoup reproduce soup``: the table row, anchors, small helpers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from neurosoup.analysis.robustness import one_thread
from neurosoup.particles import (
    ParticleSpec,
    ParticleType,
)

SCALES = ("small", "paper")
ANCHOR_PERFECT = (
    [4.9, 6.1, 7.7, 9.0, 10.9, 12.7, 14.2, 15.7, 21.7, 25.1],
    [0, 0, 0, 0, 0, 0.04, 1.5, 3.4, 9.1, 12.4],
)
ANCHOR_NATURAL = (
    [4.7, 6.1, 7.4, 9.0, 10.7, 12.6, 13.8, 14.4, 14.4, 14.4],
    [0, 0, 0, 0, 0, 0.04, 1.0, 1.7, 1.8, 1.8],
)


@dataclass
class Result:
    """One line of the reproduction table."""

    row: str
    experiment: str
    measure: str
    ours: str
    reference: str
    source: str
    scale: str
    seeds: str
    seconds: float = 0.0


def mean_sd(x: np.ndarray, digits: int = 1) -> str:
    """``mean ± sd`` of per-seed values (just the mean for one value)."""
    x = np.asarray(x, dtype=float)
    if len(x) < 2:
        return f"{x.mean():.{digits}f}"
    return f"{x.mean():.{digits}f} ± {x.std(ddof=1):.{digits}f}"


def seeds_label(seed: int, n: int) -> str:
    """``first..last`` of n consecutive seeds."""
    return f"{seed}..{seed + n - 1}" if n > 1 else str(seed)


def init_particles(spec: ParticleSpec, n: int, seeds: range) -> torch.Tensor:
    """[len(seeds)·n, P]: n fresh particles per seed, seed-major."""
    return torch.cat([spec.init(n, torch.Generator().manual_seed(s)) for s in seeds])


def per_seed_counts(codes: torch.Tensor, n_seeds: int, ptype: ParticleType) -> np.ndarray:
    """Particles of one type per seed; codes: [n_seeds·n] seed-major → [n_seeds]."""
    return (codes.reshape(n_seeds, -1) == int(ptype)).sum(dim=1).numpy()


def soup_counts(scenario: str, seeds: range, ticks: list[int], **overrides: object) -> np.ndarray:
    """Type counts of registered soups at the given ticks: [len(ticks), len(seeds), 5]."""
    from neurosoup.scenarios.registry import make

    out = np.zeros((len(ticks), len(seeds), len(ParticleType)))
    for j, s in enumerate(seeds):
        soup = make(scenario, seed=s, **overrides)
        done = 0
        with one_thread():
            for i, tick in enumerate(ticks):
                soup.run(tick - done, progress=False)
                done = tick
                out[i, j] = list(soup.counts().values())
    return out
