"""Slow, obviously-correct per-particle twins of the batched particle kernels.

One ``nn.Linear`` stack per particle, a Python loop over weights for the encoding, torch's own
``SGD`` optimizer. Written from ``science/particles.md`` without reusing the batched code.
"""

from __future__ import annotations

import torch
from torch import nn

ACT = {"tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "relu": nn.ReLU, "gelu": nn.GELU}


def layer_sizes(spec) -> list[tuple[int, int]]:
    """(in, out) of each layer."""
    sizes = [(spec.n_inputs, spec.hidden)]
    sizes += [(spec.hidden, spec.hidden)] * (spec.depth - 2)
    sizes += [(spec.hidden, spec.n_outputs)]
    return sizes


def positions(spec) -> list[tuple[float, float, float]]:
    """Normalised (layer, cell, edge) of each weight, computed weight by weight."""
    sizes = layer_sizes(spec)
    raw = []
    for layer, (n_in, n_out) in enumerate(sizes):
        for cell in range(n_out):
            for edge in range(n_in):
                raw.append((layer, cell, edge, n_in, n_out))
    out = []
    max_l = max(r[0] for r in raw)
    max_c = max(r[1] for r in raw)
    max_e = max(r[2] for r in raw)
    for layer, cell, edge, n_in, n_out in raw:
        if spec.encoding == "global":
            lo = layer / max_l if max_l else layer
            c = cell / max_c if max_c else cell
            e = edge / max_e if max_e else edge
        else:
            lo = layer / (spec.depth - 1)
            c = cell / (n_out - 1) if n_out > 1 else cell
            e = edge / (n_in - 1) if n_in > 1 else edge
            if spec.encoding == "alife2019":
                c, e = e, c
        out.append((lo, c, e))
    return out


class RefParticle(nn.Module):
    """One particle as a plain torch MLP."""

    def __init__(self, spec, flat: torch.Tensor) -> None:
        super().__init__()
        self.spec = spec
        mods: list[nn.Module] = []
        for i, (n_in, n_out) in enumerate(layer_sizes(spec)):
            mods.append(nn.Linear(n_in, n_out, bias=False))
            if i < spec.depth - 1 and spec.activation != "linear":
                mods.append(ACT[spec.activation]())
        self.net = nn.Sequential(*mods).to(flat.dtype)
        self.set_flat(flat)

    def linears(self) -> list[nn.Linear]:
        return [m for m in self.net if isinstance(m, nn.Linear)]

    def set_flat(self, flat: torch.Tensor) -> None:
        k = 0
        with torch.no_grad():
            for lin in self.linears():
                n = lin.weight.numel()
                lin.weight.copy_(flat[k : k + n].view_as(lin.weight))
                k += n

    def flat(self) -> torch.Tensor:
        return torch.cat([lin.weight.detach().reshape(-1) for lin in self.linears()]).clone()

    def inputs(self, flat: torch.Tensor) -> torch.Tensor:
        rows = []
        for k, (lo, c, e) in enumerate(positions(self.spec)):
            row = [float(flat[k]), lo, c, e] + [0.0] * (self.spec.n_inputs - 4)
            rows.append(row)
        return torch.tensor(rows, dtype=flat.dtype)

    def apply_to(self, flat: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return torch.stack([self.net(x)[0] for x in self.inputs(flat)])


def ref_apply(spec, actor: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return RefParticle(spec, actor).apply_to(target)


def ref_classify(spec, w: torch.Tensor, eps: float = 1e-5) -> int:
    """0 divergent, 1 zero, 2 fixpoint, 3 second order, 4 other (first match wins)."""
    if not bool(torch.isfinite(w).all()):
        return 0
    if all(abs(float(x)) <= eps for x in w):
        return 1
    once = ref_apply(spec, w, w)
    if all(abs(float(a - b)) <= eps for a, b in zip(once, w, strict=True)):
        return 2
    twice = ref_apply(spec, w, once)
    if all(abs(float(a - b)) <= eps for a, b in zip(twice, w, strict=True)):
        return 3
    return 4


class RefTrainer:
    """A particle with its own torch SGD optimizer (momentum buffer persists across steps)."""

    def __init__(self, spec, flat: torch.Tensor, lr: float, momentum: float = 0.0) -> None:
        self.particle = RefParticle(spec, flat)
        self.opt = torch.optim.SGD(self.particle.parameters(), lr=lr, momentum=momentum)

    def step_on(self, data: torch.Tensor) -> float:
        """One full-batch step of MSE(f(x_k(data)), data_k) over all k."""
        x = self.particle.inputs(data.detach())
        target = data.detach().clone()
        self.opt.zero_grad()
        pred = self.particle.net(x)[:, 0]
        loss = nn.functional.mse_loss(pred, target)
        loss.backward()
        self.opt.step()
        return float(loss.detach())

    def self_train_step(self) -> float:
        return self.step_on(self.particle.flat())

    def pass_on(self, data: torch.Tensor, order: list[int]) -> float:
        """Keras-style epoch: one sample at a time in the given order, inputs fixed."""
        x = self.particle.inputs(data.detach())
        total = 0.0
        for k in order:
            self.opt.zero_grad()
            loss = (self.particle.net(x[k])[0] - data[k].detach()) ** 2
            loss.backward()
            self.opt.step()
            total += float(loss.detach())
        return total / len(order)

    @property
    def weights(self) -> torch.Tensor:
        return self.particle.flat()
