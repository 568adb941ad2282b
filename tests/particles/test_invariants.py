"""Science invariants of particles (science/particles.md §4–5)."""

from __future__ import annotations

import pytest
import torch

from neurosoup.particles import (
    ParticleSpec,
    ParticleType,
    apply_weightwise,
    classify,
    classify_with_stats,
    count_types,
    extracted_weight,
    replication_r2,
    replication_stats,
    self_apply,
    self_train_step,
)

SPECS = [ParticleSpec(), ParticleSpec(n_inputs=5, hidden=3), ParticleSpec(encoding="alife2019")]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: f"{s.name}-{s.encoding}")
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_zero_particle_is_zero_fixpoint_and_maps_to_zero(spec, dtype) -> None:
    zero = torch.zeros(1, spec.n_weights, dtype=dtype)
    assert classify(spec, zero).tolist() == [ParticleType.ZERO]
    others = spec.init(5, torch.Generator().manual_seed(0), dtype=dtype)
    assert torch.all(apply_weightwise(spec, zero.expand(5, -1), others) == 0)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: f"{s.name}-{s.encoding}")
def test_perfect_fixpoint_is_exact_forever(spec: ParticleSpec) -> None:
    w = spec.perfect_fixpoint(3)
    assert classify(spec, w).tolist() == [ParticleType.FIXPOINT] * 3
    x = w
    for _ in range(100):
        x = self_apply(spec, x)
    assert torch.equal(x, w)
    assert torch.all(replication_r2(spec, w) == 1.0)


def test_perfect_fixpoint_flat_layout() -> None:
    w = ParticleSpec().perfect_fixpoint(1)[0]
    assert w.tolist() == [1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0]
    ones = ParticleSpec(n_inputs=5, hidden=3).perfect_fixpoint(1)[0].nonzero()[:, 0]
    assert ones.tolist() == [0, 15, 24]
    spec5 = ParticleSpec(n_inputs=5)
    assert float(extracted_weight(spec5, spec5.perfect_fixpoint(1))) == 0


def test_nan_and_inf_are_divergent() -> None:
    spec = ParticleSpec()
    w = spec.perfect_fixpoint(3)
    w[0, 5] = float("nan")
    w[1, 0] = float("inf")
    w[2, 13] = -float("inf")
    assert classify(spec, w).tolist() == [ParticleType.DIVERGENT] * 3


def test_classified_fixpoints_reproduce_within_epsilon() -> None:
    spec = ParticleSpec()
    w = spec.init(200, torch.Generator().manual_seed(3))
    for _ in range(2500):
        w, _, _ = self_train_step(spec, w, 0.04)
    for eps in (1e-5, 1e-4):
        fix = classify(spec, w, eps) == ParticleType.FIXPOINT
        assert int(fix.sum()) > 100
        residual = (self_apply(spec, w[fix]) - w[fix]).abs().amax(dim=1)
        assert bool((residual <= eps).all())
        # non-trivial: not near zero
        assert bool((w[fix].abs().amax(dim=1) > 10 * eps).all())
    stats = replication_stats(spec, w[classify(spec, w) == ParticleType.FIXPOINT])
    assert float(stats["r2"].min()) > 1 - 1e-6  # fixpoints replicate their variance too


def test_random_nets_are_not_fixpoints() -> None:
    spec = ParticleSpec()
    w = spec.init(1000, torch.Generator().manual_seed(4))
    assert count_types(classify(spec, w))["other"] == 1000


def test_repeated_self_application_ends_zero_or_divergent() -> None:
    spec = ParticleSpec()
    w = spec.init(300, torch.Generator().manual_seed(5), dtype=torch.float64)
    for _ in range(2000):
        w = self_apply(spec, w)
    counts = count_types(classify(spec, w))
    assert counts["zero"] + counts["divergent"] == 300
    assert counts["zero"] > 0 and counts["divergent"] > 0


def test_extracted_weight_is_auxiliary_slope() -> None:
    spec = ParticleSpec(n_inputs=5, hidden=3)
    w = spec.init(7, torch.Generator().manual_seed(6), dtype=torch.float64)
    mats = spec.unpack(w)
    expected = (mats[2] @ mats[1] @ mats[0])[:, 0, 4]
    torch.testing.assert_close(extracted_weight(spec, w), expected)


def test_r2_is_nan_for_constant_weights() -> None:
    spec = ParticleSpec()
    w = torch.full((1, 14), 0.3)
    assert torch.isnan(replication_r2(spec, w)).all()


@pytest.mark.parametrize("n", [0, 1_000_000])
def test_empty_and_million_particle_batches(n: int) -> None:
    spec = ParticleSpec()
    w = spec.init(n, torch.Generator().manual_seed(7))
    w2, loss, _ = self_train_step(spec, w, 0.04)
    codes = classify(spec, w2)
    assert w2.shape == (n, 14) and loss.shape == (n,) and codes.shape == (n,)
    assert sum(count_types(codes).values()) == n
    if n:
        assert bool(torch.isfinite(w2).all()) and bool((loss > 0).all())


@pytest.mark.parametrize(
    "spec",
    [ParticleSpec(), ParticleSpec(encoding="alife2019"), ParticleSpec(activation="tanh", hidden=3)],
)
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
    codes, fused = classify_with_stats(spec, w, 1e-5, strict=strict)
    assert torch.equal(codes, classify(spec, w, 1e-5, strict=strict))
    assert set(codes.tolist()) >= ({0, 1, 2, 4} if spec.is_linear else {0, 1, 4})
    stats = replication_stats(spec, w)
    for key in ("max_abs", "mse", "rho", "r2"):  # fused self-images ≡ apply_weightwise
        torch.testing.assert_close(fused[key], stats[key], equal_nan=True)
