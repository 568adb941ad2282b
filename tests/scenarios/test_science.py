"""Science checks of the journal soup against the references (``science/soup.md`` §7).

CI runs a few seeds at reference scale (N = 20, 100 ticks × 20 steps: about 1 s each); the
`slow` test runs 25 seeds and compares the means with the independent anchors.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from neurosoup.scenarios import make

TICKS = (20, 50, 100)


def fixpoint_counts(seeds, **overrides) -> np.ndarray:
    """[seeds, ticks, 5] counts per type of soup/journal-v1."""
    out = []
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for seed in seeds:
            soup = make("soup/journal-v1", seed=seed, **overrides)
            row = []
            for tick in TICKS:
                soup.run(tick - soup.steps, progress=False)
                row.append(list(soup.counts().values()))
            out.append(row)
    finally:
        torch.set_num_threads(old)
    return np.array(out)


def test_journal_soup_grows_fixpoints() -> None:
    counts = fixpoint_counts(range(100, 104))
    fix = counts[:, :, 2]
    # anchors for our defaults: 1.0 / 8.9 / 18.1 fixpoints of 20 (per-soup sd ≈ 1.5–2)
    assert fix[:, 2].mean() >= 15.5, fix
    assert np.all(fix[:, 2] >= 12), fix
    assert np.all(fix[:, 2] > fix[:, 1]), "fixpoints accumulate between tick 50 and 100"
    assert fix[:, 0].mean() <= 4.0, fix
    assert counts[:, 2, 1].sum() == 0, "no zero particles (none in 25 anchor soups)"
    assert counts[:, 2, 0].sum() <= 1, "divergence is rare (0.04 per soup in the anchor)"
    assert np.all(counts[:, :, :].sum(axis=2) == 20)


def test_journal_soup_without_training_makes_no_fixpoints() -> None:
    # the counter-test: fixpoints come from self-training, not from classification slack
    counts = fixpoint_counts(range(2), train_steps=1, steps=100)
    assert counts[:, 2, 2].max() <= 2


@pytest.mark.slow
def test_journal_soup_reference_scale() -> None:
    counts = fixpoint_counts(range(25))
    fix = counts[:, :, 2].mean(axis=0)
    sem = counts[:, :, 2].std(axis=0, ddof=1) / np.sqrt(25)
    # anchor (global/Xavier, 25 soups): 1.0 / 8.9 / 18.1; journal-era code: 16.6 ± 2.2 at 100
    assert abs(fix[2] - 18.1) < max(4 * sem[2], 0.8), (fix, sem)
    assert abs(fix[1] - 8.9) < max(4 * sem[1], 1.5), (fix, sem)
    assert fix[0] < 3.0, fix
