"""Bad input gives ShapeError / ConfigError naming what was expected and what came."""

from __future__ import annotations

import pytest
import torch

from neurosoup.particles import (
    ConfigError,
    NeurosoupError,
    ParticleSpec,
    ParticleStore,
    ShapeError,
    apply_auxiliary,
    apply_weightwise,
    classify,
    learn_from_step,
    self_train_step,
)

SPEC = ParticleSpec()
W = SPEC.init(3, torch.Generator().manual_seed(0))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"activation": "swish"}, r"unknown activation 'swish'; expected one of 'linear'"),
        ({"encoding": "raw"}, r"unknown encoding 'raw'; expected one of 'global'"),
        ({"weight_init": "he"}, r"unknown weight_init 'he'"),
        ({"n_outputs": 2}, r"n_outputs must be 1 .* got 2"),
        ({"n_inputs": 3}, r"n_inputs must be >= 4 .* got 3"),
        ({"hidden": 0}, r"hidden must be >= 1, got 0"),
        ({"depth": 1}, r"depth must be >= 2 weight matrices, got 1"),
        ({"hidden": 2.5}, r"hidden must be an int, got 2.5"),
    ],
)
def test_bad_spec(kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        ParticleSpec(**kwargs)


@pytest.mark.parametrize(
    ("actors", "targets", "message"),
    [
        (W[:, :13], W, r"actors must have shape \[N, 14\] for a 4-2-1 particle, got \[3, 13\]"),
        (W, W[0], r"targets must have shape \[N, 14\] .* got \[14\]"),
        (W, W[:2], r"must have the same shape, got \[3, 14\] and \[2, 14\]"),
        (W, W.double(), r"actors is torch.float32 but targets is torch.float64"),
        (W.half(), W.half(), r"actors must be float32 or float64, got torch.float16"),
        (W.long(), W, r"actors must be float32 or float64, got torch.int64"),
        (W.numpy(), W, r"actors must be a torch.Tensor \[N, 14\], got ndarray"),
        (W, W.to("meta"), r"actors is on cpu but targets is on meta; move both to one device"),
    ],
)
def test_bad_tensors(actors, targets, message: str) -> None:
    with pytest.raises(ShapeError, match=message):
        apply_weightwise(SPEC, actors, targets)


@pytest.mark.parametrize(
    ("lr", "message"),
    [
        (0.0, r"lr must be > 0 and finite, got 0.0; try 0.04"),
        (-0.1, r"lr must be > 0 and finite, got -0.1"),
        (float("nan"), r"lr must be > 0 and finite, got nan"),
        ("0.1", r"lr must be a number or a tensor \[3\], got str"),
        (torch.tensor([0.1, 0.0, 0.1]), r"every lr must be > 0"),
    ],
)
def test_bad_learning_rate(lr, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        self_train_step(SPEC, W, lr)


def test_bad_momentum_and_buffer() -> None:
    with pytest.raises(ShapeError, match=r"lr must be a scalar or a tensor \[3\], got \[2\]"):
        self_train_step(SPEC, W, torch.tensor([0.1, 0.1]))
    with pytest.raises(ConfigError, match=r"momentum must be >= 0 and finite, got -0.5"):
        self_train_step(SPEC, W, 0.1, momentum=-0.5)
    with pytest.raises(ShapeError, match=r"momentum buffer must match the weights \[3, 14\]"):
        self_train_step(SPEC, W, 0.1, momentum=0.9, buf=torch.zeros(2, 14))
    with pytest.raises(ShapeError, match=r"learners and teachers must have the same shape"):
        learn_from_step(SPEC, W, W[:1], 0.1)


@pytest.mark.parametrize("eps", [0, -1e-5, float("nan"), "1e-5"])
def test_bad_epsilon(eps) -> None:
    with pytest.raises(ConfigError, match=r"epsilon must be a number > 0, got .*; the default is"):
        classify(SPEC, W, eps)


def test_bad_auxiliary_and_store_arguments() -> None:
    with pytest.raises(ConfigError, match=r"needs a particle with >= 5 inputs, got 4-2-1"):
        apply_auxiliary(SPEC, W, torch.ones(3))
    spec5 = ParticleSpec(n_inputs=5)
    w5 = spec5.init(3)
    with pytest.raises(ShapeError, match=r"x must be a tensor \[3\] or \[3, M\], got \[4\]"):
        apply_auxiliary(spec5, w5, torch.ones(4))
    with pytest.raises(ConfigError, match="capacity must be an int >= 0, got -1"):
        ParticleStore(SPEC, capacity=-1)
    with pytest.raises(ConfigError, match=r"dtype must be torch\.float32 or torch\.float64"):
        ParticleStore(SPEC, dtype=torch.int32)
    with pytest.raises(ShapeError, match=r"weights must have shape \[N, 14\]"):
        ParticleStore(SPEC).add(torch.zeros(2, 16))


def test_errors_share_one_base() -> None:
    assert issubclass(ShapeError, NeurosoupError) and issubclass(ConfigError, NeurosoupError)
    assert issubclass(ConfigError, ValueError)
