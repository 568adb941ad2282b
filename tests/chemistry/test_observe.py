"""The soup's per-tick observables equal particles.classify and particles.replication_stats."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from neurosoup.chemistry.observe import classify_and_stats, summary
from neurosoup.particles import ParticleSpec, classify, replication_stats


@pytest.mark.parametrize("spec", [ParticleSpec(), ParticleSpec(encoding="alife2019"),
                                  ParticleSpec(activation="tanh", hidden=3)])
@pytest.mark.parametrize("strict", [False, True])
def test_fused_classification_matches(spec: ParticleSpec, strict: bool) -> None:
    gen = torch.Generator().manual_seed(2)
    w = spec.init(200, gen)
    w[0] = float("nan")
    w[1] = 0.0
    w[2] = 1e-6
    w[3] = spec.perfect_fixpoint(1)[0]
    w[4] = spec.perfect_fixpoint(1)[0] * -1.0
    w[5] = float("inf")
    codes, mse, rho = classify_and_stats(spec, w, 1e-5, strict)
    assert torch.equal(codes, classify(spec, w, 1e-5, strict=strict))
    assert set(codes.tolist()) >= ({0, 1, 2, 4} if spec.is_linear else {0, 1, 4})
    stats = replication_stats(spec, w)
    torch.testing.assert_close(mse, stats["mse"], equal_nan=True)
    torch.testing.assert_close(rho, stats["rho"], equal_nan=True)


def test_summary_medians_like_numpy() -> None:
    codes = torch.tensor([2, 2, 4, 0, 1, 2], dtype=torch.int8)
    mse = torch.tensor([1.0, 3.0, float("nan"), 2.0, 10.0, 4.0])
    rho = torch.tensor([0.1, 10.0, 100.0, float("nan"), 0.0, 1.0])
    s = summary(codes, mse, rho)
    assert (s["count_fixpoint"], s["count_other"], s["count_divergent"]) == (3, 1, 1)
    assert s["loss_mean"] == pytest.approx(4.0)
    assert s["loss_median"] == pytest.approx(np.median([1, 3, 2, 10, 4]))
    assert s["log10_rho_median"] == pytest.approx(np.median(np.log10([0.1, 10, 100, 1])))
