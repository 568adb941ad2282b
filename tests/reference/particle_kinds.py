"""Per-particle twins of the aggregating and recurrent kinds and of second-order training.

Written from ``science/particles.md`` §9 without the batched code: one particle at a time,
Python loops over collections, time steps and weights, torch's own ``SGD`` optimizer.
"""

from __future__ import annotations

import torch
from torch import nn

from tests.reference.particles import ACT, RefParticle, positions


def collections(spec) -> list[list[int]]:
    """Weight indices of each collection: runs of P // A in flat order, leftovers to the last."""
    p, a = spec.n_weights, spec.aggregates
    size = p // a
    out = [list(range(j * size, (j + 1) * size)) for j in range(a)]
    out[-1] += list(range(a * size, p))
    return out


def ref_aggregate(spec, w: torch.Tensor) -> torch.Tensor:
    """Aggregates of one weight vector [P] → [A]."""
    vals = []
    for idx in collections(spec):
        part = torch.stack([w[k] for k in idx])
        vals.append(part.max() if spec.aggregation == "max" else part.sum() / len(idx))
    return torch.stack(vals)


class RefAggregating(nn.Module):
    """One aggregating particle: Linear(A, h) → … → Linear(h, A), no bias."""

    def __init__(self, spec, flat: torch.Tensor) -> None:
        super().__init__()
        self.spec = spec
        a, h = spec.aggregates, spec.hidden
        sizes = [(a, h)] + [(h, h)] * (spec.depth - 2) + [(h, a)]
        mods: list[nn.Module] = []
        for i, (n_in, n_out) in enumerate(sizes):
            mods.append(nn.Linear(n_in, n_out, bias=False))
            if i < spec.depth - 1 and spec.activation != "linear":
                mods.append(ACT[spec.activation]())
        self.net = nn.Sequential(*mods).to(flat.dtype)
        k = 0
        with torch.no_grad():
            for lin in self.linears():
                n = lin.weight.numel()
                lin.weight.copy_(flat[k : k + n].view_as(lin.weight))
                k += n

    def linears(self) -> list[nn.Linear]:
        return [m for m in self.net if isinstance(m, nn.Linear)]

    def flat(self) -> torch.Tensor:
        return torch.cat([lin.weight.detach().reshape(-1) for lin in self.linears()]).clone()

    def apply_to(self, target: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            y = self.net(ref_aggregate(self.spec, target))
            out = torch.empty_like(target)
            for j, idx in enumerate(collections(self.spec)):
                for k in idx:
                    out[k] = y[j]
            return out

    def loss_on(self, data: torch.Tensor) -> torch.Tensor:
        x = ref_aggregate(self.spec, data.detach())
        return nn.functional.mse_loss(self.net(x), x)


class RefRecurrent(nn.Module):
    """One recurrent particle: per layer a kernel K [out, in] and recurrent R [out, out]."""

    def __init__(self, spec, flat: torch.Tensor) -> None:
        super().__init__()
        self.spec = spec
        h = spec.hidden
        sizes = [(h, 1)] + [(h, h)] * (spec.depth - 2) + [(1, h)]
        self.mats = nn.ParameterList()
        k = 0
        for out, n_in in sizes:
            for rows, cols in ((out, n_in), (out, out)):
                n = rows * cols
                self.mats.append(nn.Parameter(flat[k : k + n].clone().view(rows, cols)))
                k += n

    def flat(self) -> torch.Tensor:
        return torch.cat([m.detach().reshape(-1) for m in self.mats]).clone()

    def run(self, seq: torch.Tensor) -> torch.Tensor:
        """Output sequence [T] of the input sequence [T], one time step at a time."""
        xs = [seq[t : t + 1] for t in range(seq.shape[0])]
        for layer in range(self.spec.depth):
            K, R = self.mats[2 * layer], self.mats[2 * layer + 1]
            state = torch.zeros(K.shape[0], dtype=seq.dtype)
            outs = []
            for x in xs:
                state = K @ x + R @ state
                if layer < self.spec.depth - 1 and self.spec.activation != "linear":
                    state = ACT[self.spec.activation]()(state)
                outs.append(state)
            xs = outs
        return torch.cat(xs)

    def apply_to(self, target: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return self.run(target)

    def loss_on(self, data: torch.Tensor) -> torch.Tensor:
        data = data.detach()
        return nn.functional.mse_loss(self.run(data), data)


def ref_particle(spec, flat: torch.Tensor) -> nn.Module:
    return RefAggregating(spec, flat) if spec.kind == "aggregating" else RefRecurrent(spec, flat)


def ref_kind_apply(spec, actor: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return ref_particle(spec, actor).apply_to(target)


def ref_kind_classify(spec, w: torch.Tensor, eps: float = 1e-5) -> int:
    """0 divergent, 1 zero, 2 fixpoint, 3 second order, 4 other; aggregating compares aggregates."""
    if not bool(torch.isfinite(w).all()):
        return 0
    if all(abs(float(x)) <= eps for x in w):
        return 1
    once = ref_kind_apply(spec, w, w)
    twice = ref_kind_apply(spec, w, once)
    if spec.kind == "aggregating":
        w, once, twice = (ref_aggregate(spec, v) for v in (w, once, twice))
    if all(abs(float(a - b)) <= eps for a, b in zip(once, w, strict=True)):
        return 2
    if all(abs(float(a - b)) <= eps for a, b in zip(twice, w, strict=True)):
        return 3
    return 4


class RefKindTrainer:
    """An aggregating or recurrent particle with its own torch SGD optimizer."""

    def __init__(self, spec, flat: torch.Tensor, lr: float, momentum: float = 0.0) -> None:
        self.particle = ref_particle(spec, flat)
        self.opt = torch.optim.SGD(self.particle.parameters(), lr=lr, momentum=momentum)

    def step_on(self, data: torch.Tensor) -> float:
        self.opt.zero_grad()
        loss = self.particle.loss_on(data)
        loss.backward()
        self.opt.step()
        return float(loss.detach())

    def self_train_step(self) -> float:
        return self.step_on(self.particle.flat())

    @property
    def weights(self) -> torch.Tensor:
        return self.particle.flat()


class RefSecondOrderTrainer:
    """A weightwise particle trained on MSE(f(w), −w) + MSE(f(f(w)), w), one at a time.

    The second application's input rows carry the first output (not detached) as the weight
    value; positions and targets are constants. Stops training once non-finite.
    """

    def __init__(self, spec, flat: torch.Tensor, lr: float, momentum: float = 0.0) -> None:
        self.spec = spec
        self.particle = RefParticle(spec, flat)
        self.opt = torch.optim.SGD(self.particle.parameters(), lr=lr, momentum=momentum)

    def rows(self, values: list[torch.Tensor], dtype) -> torch.Tensor:
        extra = [0.0] * (self.spec.n_inputs - 4)
        out = []
        for v, (lo, c, e) in zip(values, positions(self.spec), strict=True):
            const = torch.tensor([lo, c, e, *extra], dtype=dtype)
            out.append(torch.cat([v.reshape(1), const]))
        return torch.stack(out)

    def step(self) -> float:
        w = self.particle.flat()
        self.opt.zero_grad()
        once = self.particle.net(self.rows(list(w), w.dtype))[:, 0]
        twice = self.particle.net(self.rows(list(once), w.dtype))[:, 0]
        loss = nn.functional.mse_loss(once, -w) + nn.functional.mse_loss(twice, w)
        if bool(torch.isfinite(w).all()):
            loss.backward()
            self.opt.step()
        return float(loss.detach())

    @property
    def weights(self) -> torch.Tensor:
        return self.particle.flat()
