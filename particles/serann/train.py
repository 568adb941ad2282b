"""Juvenile learning of SeRANN phenotypes, one architecture group at a time.

Pure tensor code (no time, no files). An individual's weights are a flat dict of tensors named
as ``SerannNet``'s (``layers.<i>.weight``, ``class_head.bias``, …) plus BatchNormalization's
running statistics; ``forward`` evaluates an IR functionally on them, BatchNormalization
included (batch statistics in training, running statistics updated and *returned*, not written
in place), so the same function runs on one member or, under ``torch.func.vmap``, on a group of
members that share an architecture signature (stacked parameters: vmap turns Dense into a
batched matmul and Conv1D/Conv2D into grouped convolutions). α is a per-member weight of the
loss ``α·CE(y, ŷ) + (1−α)·MSE(g, sigmoid(g′))``, so members of one group may differ in α.
Members are independent: the group's loss is the sum of the members' losses and Adam is
elementwise, so a group trains exactly as its members would alone (tested in float64 against
``tests/reference/serann.py``, which trains a ``SerannNet`` module with ``torch.optim.Adam``).

Every member brings its own initial weights and its own batch indices (drawn by the caller from
that individual's seed), so results never depend on how individuals are grouped or scheduled.

After training, ``train_group`` evaluates each adult (held-out accuracy on test images paired
with held-out genotypes, copy error = mean wrong bits when copying those held-out genotypes)
and makes ``P`` copies of its own genotype, each paired with a different test image, outputs
thresholded at 0.5 (evaluation mode: running statistics).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from neurosoup.particles.errors import ConfigError

from .ir import GENOTYPE_BITS, Node, ProgramIR
from .model import build

BN_EPS = 1e-3
BN_MOMENTUM = 0.01
_ACT = {"relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh}


@dataclass(frozen=True)
class TrainSettings:
    """Juvenile learning: Adam (``eps`` 1e-4 as the reference), ``steps`` minibatches of ``batch``.

    Attributes:
        steps: Optimiser steps (the step budget; 0 leaves the random init untrained).
        lr: Adam learning rate.
        batch: Minibatch size (images and genotypes to copy, paired).
        eps: Adam ε.
        fused: Use torch's fused Adam (3× faster optimiser step on CPU).
    """

    steps: int = 800
    lr: float = 1e-3
    batch: int = 128
    eps: float = 1e-4
    fused: bool = True

    def __post_init__(self) -> None:
        if isinstance(self.steps, bool) or not isinstance(self.steps, int) or self.steps < 0:
            raise ConfigError(f"train steps must be an int >= 0, got {self.steps!r}")
        if not isinstance(self.batch, int) or self.batch < 1:
            raise ConfigError(f"batch must be an int >= 1, got {self.batch!r}")
        for name in ("lr", "eps"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
                raise ConfigError(f"{name} must be a number > 0, got {value!r}")


@dataclass(frozen=True)
class TaskTensors:
    """The data of juvenile learning and adult evaluation (all on one device).

    Attributes:
        train_images: [n_train, H, W] floats in [0, 1].
        train_labels: [n_train] int64.
        copy_genotypes: [n_copy, 100] floats 0/1, the genotypes juveniles learn to copy.
        test_images: [n_test, H, W].
        test_labels: [n_test] int64.
        eval_genotypes: [n_test, 100] floats, held-out genotypes paired with the test images.
    """

    train_images: Tensor
    train_labels: Tensor
    copy_genotypes: Tensor
    test_images: Tensor
    test_labels: Tensor
    eval_genotypes: Tensor

    def to(self, device: torch.device | str, dtype: torch.dtype) -> TaskTensors:
        """A copy on ``device`` with floats in ``dtype``."""
        return TaskTensors(
            self.train_images.to(device, dtype), self.train_labels.to(device),
            self.copy_genotypes.to(device, dtype), self.test_images.to(device, dtype),
            self.test_labels.to(device), self.eval_genotypes.to(device, dtype),
        )  # fmt: skip


@dataclass
class Member:
    """One juvenile's inputs: its IR, initial weights, batches and replication images.

    Attributes:
        ir: Valid program IR (α = ``ir.alpha``).
        params: Initial weights, name → tensor (``init_member``).
        buffers: BatchNormalization running statistics, name → tensor.
        image_idx: [steps, batch] int64 rows of ``train_images``.
        genotype_idx: [steps, batch] int64 rows of ``copy_genotypes``.
        own: [100] floats, the member's own genotype (copied at replication).
        copy_images: [P] int64 rows of ``test_images`` paired with ``own`` at replication.
    """

    ir: ProgramIR
    params: dict[str, Tensor]
    buffers: dict[str, Tensor]
    image_idx: Tensor
    genotype_idx: Tensor
    own: Tensor
    copy_images: Tensor


@dataclass
class Adult:
    """What training and evaluation give for a group; rows follow the members' order.

    Attributes:
        accuracy: [K] held-out accuracy.
        copy_error: [K] mean wrong bits when copying the held-out genotypes.
        copies: [K, P, 100] uint8, copies of each member's own genotype.
        params: Trained weights, stacked [K, ...] per name (kept only when asked).
        buffers: Trained running statistics, stacked [K, ...].
    """

    accuracy: Tensor
    copy_error: Tensor
    copies: Tensor
    params: dict[str, Tensor] | None = None
    buffers: dict[str, Tensor] | None = None


def init_member(
    ir: ProgramIR, gen: torch.Generator, dtype: torch.dtype = torch.float32
) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
    """Keras-like initial weights of one phenotype (``model.build``) as plain tensors."""
    net = build(ir, gen).to(dtype)
    params = {k: v.detach().clone() for k, v in net.named_parameters()}
    buffers = {
        k: v.detach().clone()
        for k, v in net.named_buffers()
        if k.endswith(("running_mean", "running_var"))
    }
    return params, buffers


def forward(
    ir: ProgramIR,
    params: dict[str, Tensor],
    buffers: dict[str, Tensor],
    images: Tensor,
    genotypes: Tensor,
    training: bool,
) -> tuple[Tensor, Tensor, dict[str, Tensor]]:
    """Both heads' logits of one member, functionally (vmap-able).

    Args:
        ir: The member's IR.
        params: Weights, name → tensor (no leading member axis).
        buffers: Running statistics.
        images: [B, H, W] floats.
        genotypes: [B, 100] floats.
        training: Batch statistics (and updated running statistics) or running statistics.

    Returns:
        class_logits [B, n_classes], copy_logits [B, 100], and the new running statistics.
    """
    batch = images.shape[0]
    values: list[Tensor] = [images.unsqueeze(-1), genotypes.reshape(batch, GENOTYPE_BITS, 1)]
    new_buffers = dict(buffers)
    for i, node in enumerate(ir.nodes[2:], start=2):
        xs = [values[j] for j in node.inputs]
        values.append(_node(i, node, xs, params, buffers, new_buffers, batch, training))
    flat = values[ir.output].reshape(batch, -1)
    class_logits = F.linear(flat, params["class_head.weight"], params["class_head.bias"])
    copy_logits = F.linear(flat, params["copy_head.weight"], params["copy_head.bias"])
    return class_logits, copy_logits, new_buffers


def _node(
    i: int,
    node: Node,
    xs: list[Tensor],
    params: dict[str, Tensor],
    buffers: dict[str, Tensor],
    new_buffers: dict[str, Tensor],
    batch: int,
    training: bool,
) -> Tensor:
    op, x, p = node.op, xs[0], dict(node.params)
    if op == "concatenate":
        return torch.cat(xs, dim=-1)
    if op == "Reshape":
        return x.reshape(batch, *node.shape)
    if op == "MaxPool2D":
        y = F.max_pool2d(x.permute(0, 3, 1, 2), p["pool_size"], p["strides"])
        return y.permute(0, 2, 3, 1)
    w, b = params[f"layers.{i}.weight"], params[f"layers.{i}.bias"]
    if op == "BatchNormalization":
        return _batch_norm(f"layers.{i}", x, w, b, buffers, new_buffers, training)
    if op == "Conv2D":
        y = F.conv2d(x.permute(0, 3, 1, 2), w, b, p["strides"]).permute(0, 2, 3, 1)
    elif op == "Conv1D":
        y = F.conv1d(x.transpose(1, 2), w, b, p["strides"]).transpose(1, 2)
    else:  # Dense on the last axis
        y = F.linear(x, w, b)
    act = _ACT.get(str(p.get("activation", "linear")))
    return act(y) if act is not None else y


def _batch_norm(
    name: str,
    x: Tensor,
    w: Tensor,
    b: Tensor,
    buffers: dict[str, Tensor],
    new_buffers: dict[str, Tensor],
    training: bool,
) -> Tensor:
    """BatchNormalization over every axis but the last (torch's BatchNorm1d on [-1, C])."""
    shape = x.shape
    flat = x.reshape(-1, shape[-1])
    mean_key, var_key = f"{name}.running_mean", f"{name}.running_var"
    if training:
        mean = flat.mean(dim=0)
        var = flat.var(dim=0, unbiased=False)
        n = flat.shape[0]
        unbiased = var * (n / max(n - 1, 1))
        new_buffers[mean_key] = (1 - BN_MOMENTUM) * buffers[mean_key] + BN_MOMENTUM * mean.detach()
        new_buffers[var_key] = (
            (1 - BN_MOMENTUM) * buffers[var_key] + BN_MOMENTUM * unbiased.detach()
        )
    else:
        mean, var = buffers[mean_key], buffers[var_key]
    y = (flat - mean) * torch.rsqrt(var + BN_EPS) * w + b
    return y.reshape(shape)


def member_loss(
    ir: ProgramIR,
    params: dict[str, Tensor],
    buffers: dict[str, Tensor],
    images: Tensor,
    labels: Tensor,
    genotypes: Tensor,
    alpha: Tensor,
) -> tuple[Tensor, dict[str, Tensor]]:
    """``α·CE + (1−α)·MSE(g, sigmoid(g′))`` of one member on one batch, and its new buffers."""
    class_logits, copy_logits, new_buffers = forward(ir, params, buffers, images, genotypes, True)
    ce = F.cross_entropy(class_logits, labels)
    mse = (torch.sigmoid(copy_logits) - genotypes).pow(2).mean()
    return alpha * ce + (1 - alpha) * mse, new_buffers


def stack(dicts: list[dict[str, Tensor]]) -> dict[str, Tensor]:
    """Stack members' tensors: name → [K, ...]."""
    return {k: torch.stack([d[k] for d in dicts]) for k in dicts[0]} if dicts else {}


def train_group(
    members: list[Member],
    task: TaskTensors,
    settings: TrainSettings,
    stacked: bool = True,
    keep_params: bool = False,
) -> Adult:
    """Train, evaluate and replicate members that share one architecture signature.

    Args:
        members: K members (same ``ir.signature()``; α may differ).
        task: The data, on the members' device and dtype.
        settings: Step budget and optimiser.
        stacked: Train the K members as one stacked model under vmap (else one at a time;
            both give the same results up to float rounding).
        keep_params: Return the trained weights too (tests, analyses).

    Returns:
        The adults' accuracy, copy error and copies of their own genotypes.

    Raises:
        ConfigError: If the members do not share one architecture or one number of copies.
    """
    if not members:
        raise ConfigError("train_group needs at least one member")
    sig = members[0].ir.signature()
    if any(m.ir.signature() != sig for m in members):
        raise ConfigError("train_group members must share one architecture signature")
    if len({int(m.copy_images.shape[0]) for m in members}) != 1:
        raise ConfigError("train_group members must make the same number of copies")
    if not stacked and len(members) > 1:
        alone = [train_group([m], task, settings, True, keep_params) for m in members]
        return _concat(alone)
    ir = members[0].ir
    initial = stack([m.params for m in members])
    params = {k: v.clone().requires_grad_(True) for k, v in initial.items()}
    buffers = stack([m.buffers for m in members])
    alphas = torch.tensor([m.ir.alpha for m in members], dtype=task.train_images.dtype,
                          device=task.train_images.device)  # fmt: skip
    image_idx = torch.stack([m.image_idx for m in members])  # [K, S, B]
    genotype_idx = torch.stack([m.genotype_idx for m in members])
    fused = settings.fused and _fused_ok(task.train_images)
    opt = torch.optim.Adam(list(params.values()), lr=settings.lr, eps=settings.eps, fused=fused)

    def loss_one(p, bufs, img, lab, gen, alpha):
        return member_loss(ir, p, bufs, img, lab, gen, alpha)

    batched = torch.func.vmap(loss_one)
    for s in range(settings.steps):
        rows, grows = image_idx[:, s], genotype_idx[:, s]
        losses, new_buffers = batched(params, buffers, task.train_images[rows],
                                      task.train_labels[rows], task.copy_genotypes[grows],
                                      alphas)  # fmt: skip
        opt.zero_grad(set_to_none=True)
        losses.sum().backward()
        opt.step()
        buffers = {k: v.detach() for k, v in new_buffers.items()}
    with torch.no_grad():
        trained = {k: v.detach() for k, v in params.items()}
        return _evaluate(ir, members, trained, buffers, task, keep_params)


def _fused_ok(t: Tensor) -> bool:
    return t.device.type in ("cpu", "cuda") and t.dtype in (torch.float32, torch.float64)


def _evaluate(
    ir: ProgramIR,
    members: list[Member],
    params: dict[str, Tensor],
    buffers: dict[str, Tensor],
    task: TaskTensors,
    keep_params: bool,
) -> Adult:
    def heads(p, bufs, img, gen):
        class_logits, copy_logits, _ = forward(ir, p, bufs, img, gen, False)
        return class_logits, copy_logits

    k = len(members)
    run = torch.func.vmap(heads, in_dims=(0, 0, None, None))
    class_logits, copy_logits = run(params, buffers, task.test_images, task.eval_genotypes)
    accuracy = (class_logits.argmax(-1) == task.test_labels).to(torch.float64).mean(dim=1)
    wrong = ((copy_logits > 0).to(task.eval_genotypes.dtype) != task.eval_genotypes)
    copy_error = wrong.to(torch.float64).sum(dim=2).mean(dim=1)
    n_copies = int(members[0].copy_images.shape[0])
    if n_copies:
        own = torch.stack([m.own for m in members])  # [K, 100]
        imgs = torch.stack([task.test_images[m.copy_images] for m in members])  # [K, P, H, W]
        gens = own.unsqueeze(1).expand(k, n_copies, GENOTYPE_BITS)
        _, logits = torch.func.vmap(heads)(params, buffers, imgs, gens)
        copies = (logits > 0).to(torch.uint8)
    else:
        copies = torch.zeros(k, 0, GENOTYPE_BITS, dtype=torch.uint8, device=own_device(task))
    kept = (params, buffers) if keep_params else (None, None)
    return Adult(accuracy.cpu(), copy_error.cpu(), copies.cpu(), *kept)


def own_device(task: TaskTensors) -> torch.device:
    """The device of the task tensors."""
    return task.train_images.device


def _concat(parts: list[Adult]) -> Adult:
    def cat(dicts: list[dict[str, Tensor] | None]) -> dict[str, Tensor] | None:
        if any(d is None for d in dicts):
            return None
        return {k: torch.cat([d[k] for d in dicts]) for k in dicts[0]}  # type: ignore[index]

    return Adult(
        torch.cat([a.accuracy for a in parts]), torch.cat([a.copy_error for a in parts]),
        torch.cat([a.copies for a in parts]), cat([a.params for a in parts]),
        cat([a.buffers for a in parts]),
    )  # fmt: skip


__all__ = [
    "Adult",
    "Member",
    "TaskTensors",
    "TrainSettings",
    "draw_member",
    "forward",
    "init_member",
    "member_loss",
    "member_to",
    "stack",
    "train_group",
]


def draw_member(
    ir: ProgramIR,
    own: Tensor,
    gen: torch.Generator,
    settings: TrainSettings,
    sizes: tuple[int, int, int],
    n_copies: int,
    dtype: torch.dtype = torch.float32,
) -> Member:
    """A member's random inputs, all from its own CPU generator, in a fixed order.

    Order: initial weights, image rows [steps, batch], genotype rows [steps, batch], then the
    ``n_copies`` test images of replication (a random permutation, cycled if it is too short),
    so the init and batches do not depend on ``n_copies``.

    Args:
        ir: Valid IR.
        own: [100] 0/1, the member's genotype.
        gen: The individual's CPU generator.
        settings: Step budget and batch size.
        sizes: (n_train images, n_copy genotypes, n_test images).
        n_copies: P, copies of ``own`` made at replication.
        dtype: Float dtype of the weights.
    """
    n_train, n_copy, n_test = sizes
    params, buffers = init_member(ir, gen, dtype)
    shape = (settings.steps, settings.batch)
    image_idx = torch.randint(0, n_train, shape, generator=gen)
    genotype_idx = torch.randint(0, n_copy, shape, generator=gen)
    perm = torch.randperm(n_test, generator=gen)
    copy_images = perm.repeat(-(-n_copies // n_test))[:n_copies] if n_copies else perm[:0]
    return Member(ir, params, buffers, image_idx, genotype_idx,
                  torch.as_tensor(own).to(dtype).reshape(GENOTYPE_BITS), copy_images)  # fmt: skip


def member_to(m: Member, device: torch.device | str) -> Member:
    """The member's tensors on ``device``."""
    return Member(
        m.ir, {k: v.to(device) for k, v in m.params.items()},
        {k: v.to(device) for k, v in m.buffers.items()}, m.image_idx.to(device),
        m.genotype_idx.to(device), m.own.to(device), m.copy_images.to(device),
    )  # fmt: skip
