"""CUDA ≡ CPU for the particle kernels (run with `make test-gpu` on a machine with CUDA)."""

from __future__ import annotations

import pytest
import torch

from neurosoup.particles import ParticleSpec, ParticleStore, classify, self_train_step

pytestmark = pytest.mark.gpu


@pytest.fixture
def cuda() -> torch.device:
    if not torch.cuda.is_available():
        pytest.fail("the gpu tests need CUDA; run them on a CUDA machine (make test-gpu)")
    return torch.device("cuda")


def test_train_and_classify_on_cuda_match_cpu(cuda: torch.device) -> None:
    spec = ParticleSpec()
    w = spec.init(1000, torch.Generator().manual_seed(0), dtype=torch.float64)
    wc, buf, bufc = w.to(cuda), None, None
    for _ in range(50):
        w, _, buf = self_train_step(spec, w, 0.004, momentum=0.9, buf=buf)
        wc, _, bufc = self_train_step(spec, wc, 0.004, momentum=0.9, buf=bufc)
    torch.testing.assert_close(wc.cpu(), w, rtol=1e-10, atol=1e-12)
    assert torch.equal(classify(spec, wc).cpu(), classify(spec, w))


def test_store_on_cuda(cuda: torch.device) -> None:
    spec = ParticleSpec()
    store = ParticleStore(spec, capacity=4, device=cuda)
    store.add(spec.init(10, torch.Generator(device=cuda).manual_seed(0)))
    store.remove([1, 3])
    assert len(store) == 8 and store.weights.device.type == "cuda"
    assert sum(store.counts().values()) == 8
