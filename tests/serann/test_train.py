"""Grouped (stacked) juvenile learning equals training each member alone (float64)."""

from __future__ import annotations

import pytest
import torch

from neurosoup.chemistry.evolution import load_task_tensors
from neurosoup.particles import ConfigError
from neurosoup.particles.serann import build, interpret
from neurosoup.particles.serann.ir import ProgramIR
from neurosoup.particles.serann.train import (
    TaskTensors,
    TrainSettings,
    draw_member,
    forward,
    init_member,
    train_group,
)
from tests.reference.serann import train_alone

PROGRAM = """X_layer = Conv2D(filters=4, kernel_size=3, strides=1)(X_layer)
X_layer = BatchNormalization()(X_layer)
X_layer = MaxPool2D(pool_size=2)(X_layer)
g_layer = Conv1D(filters=4, kernel_size=5, strides=2)(g_layer)
g_layer = Dense(units=8, activation='relu')(g_layer)
con = concatenate([Reshape((1, -1))(X_layer), Reshape((1, -1))(g_layer)])
con = Dense(units=32, activation='sigmoid')(con)
con = BatchNormalization()(con)
loss_balance = {alpha}"""


def _ir(alpha: float) -> ProgramIR:
    ir = interpret(PROGRAM.format(alpha=alpha))
    assert isinstance(ir, ProgramIR), ir
    return ir


@pytest.fixture(scope="module")
def task() -> TaskTensors:
    full = load_task_tensors("digits").to("cpu", torch.float64)
    return TaskTensors(full.train_images[:200], full.train_labels[:200],
                       full.copy_genotypes[:500], full.test_images[:60], full.test_labels[:60],
                       full.eval_genotypes[:60])  # fmt: skip


def test_functional_forward_equals_the_module(task: TaskTensors) -> None:
    ir = _ir(0.4)
    params, buffers = init_member(ir, torch.Generator().manual_seed(0), torch.float64)
    net = build(ir).double()
    net.load_state_dict({**params, **buffers}, strict=False)
    images, genotypes = task.train_images[:16], task.copy_genotypes[:16]
    for training in (False, True):  # eval first: a training pass moves the running stats
        net.train(training)
        want = net(images, genotypes)
        got = forward(ir, params, buffers, images, genotypes, training)
        for a, b in zip(want, got[:2], strict=True):
            torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)
    assert set(got[2]) == set(buffers)


@pytest.mark.parametrize("stacked", [True, False])
def test_group_equals_each_member_alone(task: TaskTensors, stacked: bool) -> None:
    settings = TrainSettings(steps=6, lr=3e-3, batch=16, fused=False)
    sizes = (200, 500, 60)
    own = task.copy_genotypes[:3].to(torch.uint8)
    members = [
        draw_member(_ir(a), own[i], torch.Generator().manual_seed(10 + i), settings, sizes, 7,
                    torch.float64)
        for i, a in enumerate((0.2, 0.4, 0.7))
    ]  # fmt: skip
    assert not torch.equal(members[0].params["copy_head.weight"],
                           members[1].params["copy_head.weight"])  # independent inits
    adult = train_group(members, task, settings, stacked=stacked, keep_params=True)
    assert adult.copies.shape == (3, 7, 100) and adult.copies.dtype == torch.uint8
    for k, m in enumerate(members):
        ref = train_alone(m, task, settings)
        for name, value in ref["state"].items():
            if name.endswith("num_batches_tracked"):
                continue
            got = adult.params.get(name, adult.buffers.get(name))
            torch.testing.assert_close(got[k], value, rtol=1e-9, atol=1e-10, msg=name)
        assert float(adult.accuracy[k]) == pytest.approx(ref["accuracy"], abs=1e-12)
        assert float(adult.copy_error[k]) == pytest.approx(ref["copy_error"], abs=1e-12)
        assert torch.equal(adult.copies[k], ref["copies"])


def test_fused_adam_matches_the_plain_step(task: TaskTensors) -> None:
    settings = TrainSettings(steps=4, lr=3e-3, batch=16, fused=False)
    m = draw_member(_ir(0.3), task.copy_genotypes[0].to(torch.uint8),
                    torch.Generator().manual_seed(1), settings, (200, 500, 60), 3, torch.float64)
    plain = train_group([m], task, settings, keep_params=True)
    fused = train_group([m], task, TrainSettings(steps=4, lr=3e-3, batch=16, fused=True),
                        keep_params=True)  # fmt: skip
    for name in plain.params:
        torch.testing.assert_close(plain.params[name], fused.params[name], rtol=1e-9, atol=1e-11)


def test_group_members_must_share_an_architecture(task: TaskTensors) -> None:
    settings = TrainSettings(steps=1, batch=4)
    other = interpret(PROGRAM.format(alpha=0.5).replace("units=32", "units=33"))
    a = draw_member(_ir(0.5), task.copy_genotypes[0].to(torch.uint8), torch.Generator(),
                    settings, (200, 500, 60), 2)
    b = draw_member(other, task.copy_genotypes[0].to(torch.uint8), torch.Generator(),
                    settings, (200, 500, 60), 2)
    with pytest.raises(ConfigError, match="share one architecture"):
        train_group([a, b], task, settings)
    with pytest.raises(ConfigError, match="train steps"):
        TrainSettings(steps=-1)
