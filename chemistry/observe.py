"""Per-tick observables of a soup: type counts, losses and replication error.

The soup classifies with ``particles.classify_with_stats`` (one pair of self-applications per
tick); ``summary`` reduces codes and statistics with a single device sync.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from neurosoup.particles import ParticleType
from neurosoup.particles.runformat import soup as soup_fmt


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
    out = {name: values[i] for i, name in enumerate(soup_fmt.TYPE_OBSERVABLES)}
    out[soup_fmt.N_ALIVE] = float(codes.shape[0])
    stats_names = (soup_fmt.LOSS_MEAN, soup_fmt.LOSS_MEDIAN, soup_fmt.LOG10_RHO_MEDIAN)
    out.update(zip(stats_names, values[-3:], strict=True))
    return out


__all__ = ["summary"]
