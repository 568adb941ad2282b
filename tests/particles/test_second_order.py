"""Second-order self-training (science/particles.md §9, the journal's SecondaryNet)."""

from __future__ import annotations

import pytest
import torch

from neurosoup.particles import (
    ParticleSpec,
    ParticleType,
    apply_weightwise,
    classify,
    count_types,
    second_order_step,
    self_apply,
)
from tests.reference.particle_kinds import RefSecondOrderTrainer

SPECS = [
    ParticleSpec(),
    ParticleSpec(encoding="per_layer", weight_init="torch"),
    ParticleSpec(n_inputs=5, hidden=3, activation="tanh"),
]
IDS = [f"{s.name}-{s.activation}-{s.encoding}" for s in SPECS]
TOL = {"rtol": 1e-10, "atol": 1e-12}


def two_cycle(spec: ParticleSpec, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """W_l[0, 0] = 1 except W_L[0, 0] = −1: f(x) = −x₀, so A◁w = −w for every w."""
    w = spec.perfect_fixpoint(1, dtype=dtype)
    w[0, spec.offsets[-1]] = -1.0
    return w


@pytest.mark.parametrize("momentum", [0.0, 0.9])
@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_second_order_step_matches_reference(spec: ParticleSpec, momentum: float) -> None:
    w = spec.init(5, torch.Generator().manual_seed(0), dtype=torch.float64)
    lr = 0.04 if momentum == 0.0 else 0.004
    twins = [RefSecondOrderTrainer(spec, row, lr, momentum) for row in w]
    buf = None
    for _ in range(6):
        w, loss, buf = second_order_step(spec, w, lr, momentum=momentum, buf=buf)
        ref_loss = torch.tensor([t.step() for t in twins], dtype=torch.float64)
        torch.testing.assert_close(loss, ref_loss, **TOL)
        torch.testing.assert_close(w, torch.stack([t.weights for t in twins]), **TOL)


def test_loss_is_the_two_cycle_objective() -> None:
    spec = SPECS[0]
    w = spec.init(4, torch.Generator().manual_seed(1), dtype=torch.float64)
    once = self_apply(spec, w)
    twice = apply_weightwise(spec, w, once)
    expected = ((once + w) ** 2).mean(dim=1) + ((twice - w) ** 2).mean(dim=1)
    torch.testing.assert_close(second_order_step(spec, w, 0.04)[1], expected, **TOL)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_hand_made_two_cycle_is_second_order_and_stays_one(dtype: torch.dtype) -> None:
    spec = SPECS[0]
    w = two_cycle(spec, dtype)
    assert torch.equal(self_apply(spec, w), -w)
    assert classify(spec, w).tolist() == [ParticleType.SECOND_ORDER]
    x, buf = w, None
    for _ in range(100):
        x, loss, buf = second_order_step(spec, x, 0.04, momentum=0.9, buf=buf)
        assert float(loss[0]) == 0.0
    assert torch.equal(x, w)
    assert classify(spec, x).tolist() == [ParticleType.SECOND_ORDER]


def test_non_finite_particle_stops_and_does_not_spread() -> None:
    spec = SPECS[0]
    w = spec.init(6, torch.Generator().manual_seed(2))
    bad = w.clone()
    bad[2, 4] = float("nan")
    bad[4, 0] = float("inf")
    clean, _, clean_buf = second_order_step(spec, w, 0.04, momentum=0.9)
    out, loss, buf = second_order_step(spec, bad, 0.04, momentum=0.9)
    keep = [0, 1, 3, 5]
    assert torch.equal(out[keep], clean[keep]) and torch.equal(buf[keep], clean_buf[keep])
    torch.testing.assert_close(out[[2, 4]], bad[[2, 4]], rtol=0, atol=0, equal_nan=True)
    assert torch.all(buf[[2, 4]] == 0)
    assert not bool(torch.isfinite(loss[[2, 4]]).any())
    # frozen for good: later steps leave it exactly as it was
    again, _, _ = second_order_step(spec, out, 0.04, momentum=0.9, buf=buf)
    torch.testing.assert_close(again[[2, 4]], bad[[2, 4]], rtol=0, atol=0, equal_nan=True)


def test_deterministic() -> None:
    spec = SPECS[0]

    def run() -> torch.Tensor:
        w = spec.init(8, torch.Generator().manual_seed(3))
        for _ in range(20):
            w, _, _ = second_order_step(spec, w, 0.04)
        return w

    assert torch.equal(run(), run())


def test_second_order_training_makes_second_order_replicators() -> None:
    # journal code (21dd572), 20 nets × 1,000 steps, lr 0.04: 14, 16, 14 of 20 (seeds 0–2).
    # If p ≈ 0.7, a binomial(20, p) count below 7 has probability < 1e-3.
    spec = ParticleSpec(encoding="per_layer", weight_init="torch")
    w = spec.init(20, torch.Generator().manual_seed(0))
    for _ in range(1000):
        w, _, _ = second_order_step(spec, w, 0.04)
    counts = count_types(classify(spec, w))
    assert counts["second_order"] >= 7, counts
    assert counts["fixpoint"] == counts["zero"] == 0, counts
