"""Torch modules built from a program IR (``program.interpret``): the SeRANN phenotype.

The builder follows the IR node by node (only nodes reachable from ``con`` exist in the IR),
keeping tensors channels-last as Keras does: an image batch is ``[B, H, W, C]``, a sequence
``[B, L, C]``; convolutions permute to torch's channels-first layout and back. It then flattens
``con`` and appends the two heads the program does not write: the classification head
``Dense(n_classes)`` (softmax in the loss) and the copy head ``Dense(100)`` (sigmoid in the
loss). Initialisation is Keras-like: Glorot-uniform kernels, zero biases, BatchNormalization
with γ = 1, β = 0, ε = 1e-3 and Keras momentum 0.99. The built module's trainable parameter
count equals ``ir.total_params``.

``signature(ir)`` identifies an architecture without α, to group identical architectures for
stacked training later.
"""

from __future__ import annotations

import torch
from torch import nn

from neurosoup.particles.errors import ShapeError

from .ir import GENOTYPE_BITS, Node, ProgramIR

_ACT = {"relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh}


def _glorot(module: nn.Module, gen: torch.Generator | None) -> None:
    weight = module.weight
    fan_out, fan_in = weight.shape[0], weight.shape[1]
    receptive = weight[0, 0].numel()
    bound = (6.0 / ((fan_in + fan_out) * receptive)) ** 0.5
    with torch.no_grad():
        weight.uniform_(-bound, bound, generator=gen)
        if module.bias is not None:
            module.bias.zero_()


class _LastAxisBatchNorm(nn.BatchNorm1d):
    """BatchNormalization over the last axis of any-rank input (Keras ``axis=-1``)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = x.shape
        return super().forward(x.reshape(-1, shape[-1])).reshape(shape)


def _make(node: Node, in_shape: tuple[int, ...], gen: torch.Generator | None) -> nn.Module | None:
    p = dict(node.params)
    if node.op == "Dense":
        layer: nn.Module = nn.Linear(in_shape[-1], int(p["units"]))
    elif node.op == "Conv2D":
        layer = nn.Conv2d(in_shape[-1], int(p["filters"]), p["kernel_size"], p["strides"])
    elif node.op == "Conv1D":
        layer = nn.Conv1d(in_shape[-1], int(p["filters"]), p["kernel_size"], p["strides"])
    elif node.op == "BatchNormalization":
        return _LastAxisBatchNorm(in_shape[-1], eps=1e-3, momentum=0.01)
    else:
        return None
    _glorot(layer, gen)
    return layer


class SerannNet(nn.Module):
    """The phenotype of one genotype.

    Args:
        ir: A valid program IR.
        gen: Optional generator for the initial weights (Keras-like init).
    """

    def __init__(self, ir: ProgramIR, gen: torch.Generator | None = None):
        super().__init__()
        self.ir = ir
        self.layers = nn.ModuleDict()
        for i, node in enumerate(ir.nodes):
            if node.inputs:
                layer = _make(node, ir.nodes[node.inputs[0]].shape, gen)
                if layer is not None:
                    self.layers[str(i)] = layer
        features = ir.features
        self.class_head = nn.Linear(features, ir.n_classes)
        self.copy_head = nn.Linear(features, GENOTYPE_BITS)
        _glorot(self.class_head, gen)
        _glorot(self.copy_head, gen)

    def forward(self, images: torch.Tensor, genotypes: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Both heads' logits.

        Args:
            images: [B, H, W] or [B, H, W, C] floats, channels-last.
            genotypes: [B, 100] floats (0/1).

        Returns:
            class_logits: [B, n_classes]; copy_logits: [B, 100] (sigmoid gives g′).

        Raises:
            ShapeError: If the input shapes do not match the IR.
        """
        image_shape = self.ir.nodes[0].shape
        if images.ndim == len(image_shape):
            images = images.unsqueeze(-1)
        if tuple(images.shape[1:]) != image_shape or genotypes.shape[1:] != (GENOTYPE_BITS,):
            raise ShapeError(
                f"expected images [B, {', '.join(map(str, image_shape))}] and genotypes "
                f"[B, {GENOTYPE_BITS}], got {list(images.shape)} and {list(genotypes.shape)}"
            )
        batch = images.shape[0]
        flat = self.node_values(images, genotypes)[self.ir.output].reshape(batch, -1)
        return self.class_head(flat), self.copy_head(flat)

    def node_values(self, images: torch.Tensor, genotypes: torch.Tensor) -> list[torch.Tensor]:
        """Output of every IR node, ``[B, *node.shape]`` each (inputs already checked)."""
        batch = images.shape[0]
        values: list[torch.Tensor] = [images, genotypes.reshape(batch, GENOTYPE_BITS, 1)]
        for i, node in enumerate(self.ir.nodes[2:], start=2):
            values.append(self._node(i, node, [values[j] for j in node.inputs], batch))
        return values

    def _node(self, i: int, node: Node, xs: list[torch.Tensor], batch: int) -> torch.Tensor:
        op, x = node.op, xs[0]
        if op == "concatenate":
            return torch.cat(xs, dim=-1)
        if op == "Reshape":
            return x.reshape(batch, *node.shape)
        if op == "MaxPool2D":
            p = dict(node.params)
            y = nn.functional.max_pool2d(x.permute(0, 3, 1, 2), p["pool_size"], p["strides"])
            return y.permute(0, 2, 3, 1)
        layer = self.layers[str(i)]
        if op == "Conv2D":
            y = layer(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)
        elif op == "Conv1D":
            y = layer(x.transpose(1, 2)).transpose(1, 2)
        else:  # Dense, BatchNormalization
            y = layer(x)
        act = _ACT.get(str(dict(node.params).get("activation", "linear")))
        return act(y) if act is not None else y


def build(ir: ProgramIR, gen: torch.Generator | None = None) -> SerannNet:
    """Build the phenotype of a valid IR (allocates its parameters)."""
    return SerannNet(ir, gen)


def signature(ir: ProgramIR) -> str:
    """Architecture id of an IR without α (equal for identical architectures)."""
    return ir.signature()


def n_trainable(module: nn.Module) -> int:
    """Trainable parameter count, ``sum(p.numel())``."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


__all__ = ["SerannNet", "build", "n_trainable", "signature"]
