"""Slow, obviously-correct per-particle twin of an organism network (``science/organism.md``).

One ``RefParticle`` (a plain ``nn.Linear`` stack) per edge; the forward pass loops over layers,
cells and edges and calls each particle on (0, 0, 0, 0, x_e); self-training gives every particle
its own fresh torch ``SGD`` per batch; the task step is torch's ``SGD`` over all particles.
Written from the science doc without reusing the batched code.
"""

from __future__ import annotations

import torch
from torch import nn

from tests.reference.particles import RefParticle, ref_classify

# ParticleType code (divergent, zero, fixpoint, second order, other) → organism type code
_ORGANISM_CODE = {0: 0, 1: 1, 2: 2, 3: 3, 4: 3}


def ref_index(layer_sizes) -> list[tuple[int, int, int]]:
    """(l, c, e) of every particle in layer → cell → edge order."""
    out = []
    for layer in range(len(layer_sizes) - 1):
        for c in range(layer_sizes[layer + 1]):
            for e in range(layer_sizes[layer]):
                out.append((layer, c, e))
    return out


class RefOrganism:
    """An ON as a list of per-particle modules."""

    def __init__(self, layer_sizes, spec, flat: torch.Tensor, activation="none", residual="none"):
        self.layer_sizes = list(layer_sizes)
        self.spec = spec
        self.activation, self.residual = activation, residual
        self.index = ref_index(layer_sizes)
        self.particles = [RefParticle(spec, flat[k].clone()) for k in range(len(self.index))]
        self.row = {lce: k for k, lce in enumerate(self.index)}

    def parameters(self):
        return [p for particle in self.particles for p in particle.parameters()]

    def aux(self, k: int, values: torch.Tensor) -> torch.Tensor:
        """Particle k on (0, 0, 0, 0, v) for every v in values [B] → [B]."""
        inp = torch.zeros(values.shape[0], self.spec.n_inputs, dtype=values.dtype)
        inp[:, 4] = values
        return self.particles[k].net(inp)[:, 0]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x
        r = len(self.layer_sizes) - 1
        for layer in range(r):
            n_in, n_out = self.layer_sizes[layer], self.layer_sizes[layer + 1]
            cols = []
            for c in range(n_out):
                total = torch.zeros(x.shape[0], dtype=x.dtype)
                for e in range(n_in):
                    total = total + self.aux(self.row[(layer, c, e)], h[:, e])
                cols.append(total)
            out = torch.stack(cols, dim=1)
            hidden_to_hidden = 0 < layer < r - 1 and n_in == n_out
            if self.residual == "every" and hidden_to_hidden:
                out = out + h
            if self.activation == "gelu" and layer < r - 1:
                out = nn.functional.gelu(out)
            h = out
        return h

    def extracted(self) -> list[float]:
        one = torch.ones(1, dtype=self.weights().dtype)
        with torch.no_grad():
            return [float(self.aux(k, one)[0]) for k in range(len(self.index))]

    def weights(self) -> torch.Tensor:
        return torch.stack([p.flat() for p in self.particles])

    def classify(self, eps: float = 1e-5) -> list[int]:
        return [_ORGANISM_CODE[ref_classify(self.spec, p.flat(), eps)] for p in self.particles]

    def self_train_phase(self, steps: int, lr: float, momentum: float) -> list[float]:
        """Each particle: a fresh SGD, ``steps`` full-batch steps; its loss at the last step."""
        losses = []
        for particle in self.particles:
            opt = torch.optim.SGD(particle.parameters(), lr=lr, momentum=momentum)
            loss = float("nan")
            for _ in range(steps):
                flat = particle.flat()
                x = particle.inputs(flat)
                opt.zero_grad()
                out = particle.net(x)[:, 0]
                mse = ((out - flat) ** 2).mean()
                mse.backward()
                opt.step()
                loss = float(mse.detach())
            losses.append(loss)
        return losses

    def task_step(self, opt, x: torch.Tensor, y: torch.Tensor, loss_name: str):
        """One step of the persistent task optimizer; returns (loss, outputs before the step)."""
        opt.zero_grad()
        out = self.forward(x)
        if loss_name == "mse":
            loss = ((out - y) ** 2).mean()
        else:
            loss = nn.functional.cross_entropy(out, y)
        loss.backward()
        opt.step()
        return float(loss.detach()), out.detach()


def ref_mlp(mats: list[list[list[float]]], x: torch.Tensor, activation="none", residual="none"):
    """A bias-free MLP from nested lists of weights [out][in], by plain loops."""
    h = [list(map(float, row)) for row in x.tolist()]
    r = len(mats)
    for layer, W in enumerate(mats):
        out = [[sum(W[c][e] * row[e] for e in range(len(row))) for c in range(len(W))] for row in h]
        if residual == "every" and 0 < layer < r - 1 and len(W) == len(W[0]):
            out = [
                [o + i for o, i in zip(orow, irow, strict=True)]
                for orow, irow in zip(out, h, strict=True)
            ]
        if activation == "gelu" and layer < r - 1:
            out = nn.functional.gelu(torch.tensor(out, dtype=torch.float64)).tolist()
        h = out
    return torch.tensor(h, dtype=torch.float64)
