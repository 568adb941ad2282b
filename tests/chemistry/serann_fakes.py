"""Injected copiers for evolution tests: ``run_job`` stand-ins that skip juvenile learning.

Each returns (accuracy [K], copy error [K], copies [K, P, 100]) like ``evolution_jobs.run_job``;
accuracy depends on the genotype only (0.5 + 0.5 × share of ones), so selection is real.
"""

from __future__ import annotations

import time

import numpy as np

from neurosoup.chemistry.evolution import Job


def _accuracy(job: Job) -> np.ndarray:
    return 0.5 + 0.5 * job.genotypes.mean(axis=1)


def perfect(job: Job) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every copy equals the parent."""
    copies = np.repeat(job.genotypes[:, None, :], job.n_copies, axis=1)
    return _accuracy(job), np.zeros(len(job.seeds)), copies.astype(np.uint8)


def noisy(p: float, sleep: float = 0.0):
    """A copier that flips each bit with probability ``p`` (the individual's own seed)."""

    def job_fn(job: Job) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        time.sleep(sleep)
        copies = []
        for g, seed in zip(job.genotypes, job.seeds, strict=True):
            flips = np.random.default_rng(seed).random((job.n_copies, g.size)) < p
            copies.append(g[None] ^ flips.astype(np.uint8))
        return _accuracy(job), np.full(len(job.seeds), 100 * p), np.stack(copies)

    return job_fn


def lethal(job: Job) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Copies are all-zero genotypes, which decode to a dead program."""
    copies = np.zeros((len(job.seeds), job.n_copies, job.genotypes.shape[1]), np.uint8)
    return _accuracy(job), np.zeros(len(job.seeds)), copies
