"""Same generator seed → bit-identical tensors."""

from __future__ import annotations

import pytest
import torch

from neurosoup.particles import ParticleSpec, classify, self_train_step, train_pass


def run(spec: ParticleSpec, seed: int, dtype: torch.dtype) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(seed)
    w = spec.init(64, g, dtype=dtype)
    buf = None
    for _ in range(20):
        w, loss, buf = self_train_step(spec, w, 0.004, momentum=0.9, buf=buf)
    w, _, _ = train_pass(spec, w, w, 0.01, g)
    return w, loss, buf, classify(spec, w)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("spec", [ParticleSpec(), ParticleSpec(n_inputs=5, activation="tanh")])
def test_same_seed_same_bits(spec: ParticleSpec, dtype: torch.dtype) -> None:
    a, b = run(spec, 11, dtype), run(spec, 11, dtype)
    for x, y in zip(a, b, strict=True):
        assert torch.equal(x, y)
    c = run(spec, 12, dtype)
    assert not torch.equal(a[0], c[0])


def test_init_bounds_follow_the_scheme() -> None:
    g = torch.Generator().manual_seed(0)
    for scheme, bounds in (("xavier", (1.0, 1.2247, 1.4142)), ("torch", (0.5, 0.7071, 0.7071))):
        spec = ParticleSpec(weight_init=scheme)
        w = spec.init(20_000, g)
        mats = [m.abs().amax().item() for m in spec.unpack(w)]
        for got, bound in zip(mats, bounds, strict=True):
            assert bound * 0.99 < got <= bound * 1.0001
