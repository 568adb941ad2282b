"""Per-tick observables of a soup: type counts, losses and replication error in one pass.

Classification and replication statistics come from ``particles.classify_with_stats`` (one
pair of self-applications per tick); ``summary`` reduces them with a single device sync.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from neurosoup.particles import ParticleSpec, ParticleType, classify_with_stats


def classify_and_stats(
    spec: ParticleSpec, w: Tensor, epsilon: float, strict: bool
) -> tuple[Tensor, Tensor, Tensor]:
    """Type codes [N] int8, self-train loss mse [N] and replication error rho [N] of w [N, P]."""
    codes, stats = classify_with_stats(spec, w, epsilon, strict=strict)
    return codes, stats["mse"], stats["rho"]


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
