"""``self_train_steps`` (k steps in one call, per-step work hoisted) = k × ``self_train_step``."""

from __future__ import annotations

import pytest
import torch

from neurosoup.particles import ParticleSpec, self_train_step, self_train_steps

SPECS = [
    ParticleSpec(),
    ParticleSpec(encoding="alife2019", hidden=3),
    ParticleSpec(depth=2),
    ParticleSpec(depth=4, encoding="per_layer"),
    ParticleSpec(n_inputs=6),  # auxiliary inputs: the general gradient layout
    ParticleSpec(activation="tanh"),  # autograd path
    ParticleSpec(kind="aggregating", aggregates=4),
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_k_steps_in_one_call_give_the_same_bits(spec, dtype, momentum) -> None:
    gen = torch.Generator().manual_seed(5)
    w0 = spec.init(9, gen, dtype=dtype)
    lr = torch.linspace(0.01, 0.05, 9, dtype=dtype) if momentum else 0.04
    w, loss, buf = w0, None, None
    for _ in range(7):
        w, loss, buf = self_train_step(spec, w, lr, momentum=momentum, buf=buf)
    w2, loss2, buf2 = self_train_steps(spec, w0, 7, lr, momentum=momentum)
    assert torch.equal(w, w2) and torch.equal(loss, loss2)
    assert (buf is None and buf2 is None) or torch.equal(buf, buf2)
    assert torch.equal(w0, spec.init(9, torch.Generator().manual_seed(5), dtype=dtype))


def test_zero_steps_return_the_input_and_zero_loss() -> None:
    spec = ParticleSpec()
    w = spec.init(3, torch.Generator().manual_seed(1))
    w2, loss, buf = self_train_steps(spec, w, 0, 0.04)
    assert w2 is w and torch.equal(loss, torch.zeros(3)) and buf is None
