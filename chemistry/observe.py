"""Per-tick observables of a soup, fused: classification and replication quality in one pass.

For linear particles, A◁A and A◁(A◁A) share one effective vector v = W_L⋯W_1:
``once = w·v₀ + c`` and ``twice = once·v₀ + c`` with ``c = v[1:4]·posᵀ`` — the same float
operations as ``particles.apply_weightwise``, so the codes equal ``particles.classify``
exactly (checked in the tests). Other activations take the general path.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from neurosoup.particles import (
    ParticleSpec,
    ParticleType,
    apply_weightwise,
    effective_vector,
    encode_positions,
)


def _within(x: Tensor, epsilon: float, strict: bool) -> Tensor:
    """Rows with every |x| ≤ ε (< ε when strict), tested as max|x| ≤ ε.

    A float reduction is faster than ``all`` over a bool tensor; a NaN max fails the test
    exactly as ``all`` does. x: [N, P] → [N] bool.
    """
    a = x.abs().amax(dim=1)
    return (a < epsilon) if strict else (a <= epsilon)


def classify_and_stats(
    spec: ParticleSpec, w: Tensor, epsilon: float, strict: bool
) -> tuple[Tensor, Tensor, Tensor]:
    """Type codes, self-train loss and relative replication error of every particle.

    w: [N, P]. Returns codes [N] int8 (``ParticleType``), mse [N] (mean squared residual of
    self-application, the self-train loss) and rho [N] (Σ Δ² / Σ (w − w̄)², NaN where all
    weights are equal).
    """
    with torch.no_grad():
        if spec.is_linear:
            v = effective_vector(spec, w)
            pos = encode_positions(spec, dtype=w.dtype, device=w.device)[:, 1:4]
            c = v[:, 1:4] @ pos.T
            once = w * v[:, :1] + c
            twice = once * v[:, :1] + c
        else:
            once = apply_weightwise(spec, w, w)
            twice = apply_weightwise(spec, w, once)
        delta = once - w
        divergent = ~torch.isfinite(w).all(dim=1)
        codes = torch.full((w.shape[0],), int(ParticleType.OTHER), dtype=torch.int8,
                           device=w.device)  # fmt: skip
        codes[_within(twice - w, epsilon, strict)] = int(ParticleType.SECOND_ORDER)
        codes[_within(delta, epsilon, strict)] = int(ParticleType.FIXPOINT)
        codes[_within(w, epsilon, strict)] = int(ParticleType.ZERO)
        codes[divergent] = int(ParticleType.DIVERGENT)
        sq = delta * delta
        mse = sq.mean(dim=1)
        spread = ((w - w.mean(dim=1, keepdim=True)) ** 2).sum(dim=1)
        constant = (w == w[:, :1]).all(dim=1)  # flat rows: ρ undefined (as particles/)
        rho = torch.where(constant, torch.full_like(spread, math.nan), sq.sum(dim=1) / spread)
    return codes, mse, rho


def _median(x: Tensor) -> Tensor:
    """The median as numpy defines it (mean of the two middle values for even n), O(n)."""
    n = x.numel()
    hi = x.kthvalue(n // 2 + 1).values
    return hi if n % 2 else (x.kthvalue(n // 2).values + hi) / 2


def summary(codes: Tensor, mse: Tensor, rho: Tensor) -> dict[str, float]:
    """Counts per type, mean/median loss and median log10 ρ over finite values (one sync)."""
    counts = torch.bincount(codes.long(), minlength=len(ParticleType))
    finite = torch.isfinite(mse)
    good = torch.isfinite(rho) & (rho > 0)
    m = mse[finite].double()
    r = rho[good].double().log10()
    nan = torch.tensor(math.nan, dtype=torch.float64, device=codes.device)
    stats = torch.stack([
        m.mean() if m.numel() else nan,
        _median(m) if m.numel() else nan,
        _median(r) if r.numel() else nan,
    ])  # fmt: skip
    values = torch.cat([counts.double(), stats]).tolist()
    out = {f"count_{t.label}": values[int(t)] for t in ParticleType}
    out["n_alive"] = float(codes.shape[0])
    out["loss_mean"], out["loss_median"], out["log10_rho_median"] = values[-3:]
    return out


__all__ = ["classify_and_stats", "summary"]
