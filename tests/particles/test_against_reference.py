"""Batched kernels ≡ the per-particle twins in tests/reference, float64, tight tolerance."""

from __future__ import annotations

import pytest
import torch

from neurosoup.particles import (
    ParticleSpec,
    apply_weightwise,
    classify,
    learn_from_step,
    self_apply,
    self_train_step,
    train_pass,
)
from tests.reference.particles import RefTrainer, ref_apply, ref_classify

SPECS = [
    ParticleSpec(),
    ParticleSpec(encoding="per_layer", weight_init="torch"),
    ParticleSpec(encoding="alife2019"),
    ParticleSpec(n_inputs=5, hidden=3),
    ParticleSpec(n_inputs=5, hidden=5, depth=4),
    ParticleSpec(activation="tanh"),
    ParticleSpec(n_inputs=6, activation="gelu"),
]
IDS = [f"{s.name}-d{s.depth}-{s.activation}-{s.encoding}" for s in SPECS]
TOL = {"rtol": 1e-10, "atol": 1e-12}


def batch(spec: ParticleSpec, n: int, seed: int) -> torch.Tensor:
    return spec.init(n, torch.Generator().manual_seed(seed), dtype=torch.float64)


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_apply_matches_reference(spec: ParticleSpec) -> None:
    actors, targets = batch(spec, 6, 0), batch(spec, 6, 1)
    fast = apply_weightwise(spec, actors, targets)
    slow = torch.stack([ref_apply(spec, a, t) for a, t in zip(actors, targets, strict=True)])
    torch.testing.assert_close(fast, slow, **TOL)
    torch.testing.assert_close(apply_weightwise(spec, actors, targets, fast=False), slow, **TOL)


@pytest.mark.parametrize("momentum", [0.0, 0.9])
@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_self_train_matches_reference(spec: ParticleSpec, momentum: float) -> None:
    w = batch(spec, 5, 2)
    lr = 0.04 if momentum == 0.0 else 0.004
    twins = [RefTrainer(spec, row, lr, momentum) for row in w]
    buf = None
    for _ in range(6):
        w, loss, buf = self_train_step(spec, w, lr, momentum=momentum, buf=buf)
        ref_loss = torch.tensor([t.self_train_step() for t in twins], dtype=torch.float64)
        torch.testing.assert_close(loss, ref_loss, **TOL)
        torch.testing.assert_close(w, torch.stack([t.weights for t in twins]), **TOL)


@pytest.mark.parametrize("spec", SPECS[:4], ids=IDS[:4])
def test_analytic_gradient_equals_autograd(spec: ParticleSpec) -> None:
    w = batch(spec, 50, 3)
    a = self_train_step(spec, w, 0.04, momentum=0.9)
    b = self_train_step(spec, w, 0.04, momentum=0.9, analytic=False)
    for x, y in zip(a, b, strict=True):
        torch.testing.assert_close(x, y, **TOL)


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_learn_from_matches_reference(spec: ParticleSpec) -> None:
    learners, teachers = batch(spec, 5, 4), batch(spec, 5, 5)
    twins = [RefTrainer(spec, row, 0.04) for row in learners]
    lr = torch.full((5,), 0.04, dtype=torch.float64)
    for _ in range(5):
        learners, loss, _ = learn_from_step(spec, learners, teachers, lr)
        ref_loss = torch.tensor(
            [t.step_on(b) for t, b in zip(twins, teachers, strict=True)], dtype=torch.float64
        )
        torch.testing.assert_close(loss, ref_loss.double(), **TOL)
        torch.testing.assert_close(learners, torch.stack([t.weights for t in twins]), **TOL)


@pytest.mark.parametrize("spec", [SPECS[0], SPECS[2], SPECS[5]], ids=[IDS[0], IDS[2], IDS[5]])
def test_epoch_pass_matches_reference(spec: ParticleSpec) -> None:
    w = batch(spec, 4, 6)
    g = torch.Generator().manual_seed(7)
    twins = [RefTrainer(spec, row, 0.01) for row in w]
    for _ in range(3):
        order = torch.stack([torch.randperm(spec.n_weights, generator=g) for _ in range(4)])
        data = w.clone()
        w, loss, _ = train_pass(spec, w, data, 0.01, order=order)
        ref_loss = [t.pass_on(t.weights, o.tolist()) for t, o in zip(twins, order, strict=True)]
        torch.testing.assert_close(loss, torch.tensor(ref_loss, dtype=torch.float64), **TOL)
        torch.testing.assert_close(w, torch.stack([t.weights for t in twins]), **TOL)


def mixed_population(spec: ParticleSpec) -> torch.Tensor:
    """Random, zero, perfect-fixpoint, NaN, Inf, trained and near-zero particles."""
    w = batch(spec, 12, 8)
    w[0] = 0.0
    w[1] = spec.perfect_fixpoint(1, dtype=torch.float64)[0]
    w[2, 3] = float("nan")
    w[3, 0] = float("inf")
    w[4] = 1e-6 * w[4]
    trained = batch(spec, 3, 9)
    for _ in range(3000):
        trained, _, _ = self_train_step(spec, trained, 0.04)
    w[5:8] = trained
    return w


@pytest.mark.parametrize("spec", [*SPECS[:3], SPECS[5]], ids=[*IDS[:3], IDS[5]])
def test_classify_matches_reference(spec: ParticleSpec) -> None:
    w = mixed_population(spec)
    fast = classify(spec, w).tolist()
    assert fast == [ref_classify(spec, row) for row in w]
    # the mix really exercises the branches (tanh particles reach no ε-fixpoint here)
    assert set(fast) >= ({0, 1, 2, 4} if spec.is_linear else {0, 1, 4})


def test_self_apply_chain_matches_reference() -> None:
    spec = ParticleSpec()
    w = batch(spec, 4, 10)
    ref = w.clone()
    for _ in range(5):
        w = self_apply(spec, w)
        ref = torch.stack([ref_apply(spec, r, r) for r in ref])
        torch.testing.assert_close(w, ref, rtol=1e-9, atol=1e-12)
