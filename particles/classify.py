"""Particle types and replication quality (``science/particles.md`` §4).

Types are tested in order, first match wins: divergent, zero, fixpoint, second-order, other.
The ε test is absolute, so near-zero weights pass it almost trivially: report the relative
replication error ρ (and R²_rep = 1 − ρ) beside it.
"""

from __future__ import annotations

import enum

import torch
from torch import Tensor

from .apply import apply_weightwise
from .errors import ConfigError
from .network import ParticleSpec, check_weights


class ParticleType(enum.IntEnum):
    """Classification codes, in the order they are tested."""

    DIVERGENT = 0
    ZERO = 1
    FIXPOINT = 2
    SECOND_ORDER = 3
    OTHER = 4

    @property
    def label(self) -> str:
        """Lower-case name used in tables and files (``second_order``)."""
        return self.name.lower()


TYPE_LABELS: tuple[str, ...] = tuple(t.label for t in ParticleType)


def _check_epsilon(epsilon: float) -> None:
    if isinstance(epsilon, bool) or not isinstance(epsilon, int | float) or not epsilon > 0:
        raise ConfigError(f"epsilon must be a number > 0, got {epsilon!r}; the default is 1e-5")


def _within(x: Tensor, epsilon: float, strict: bool) -> Tensor:
    """Rows whose every entry satisfies |x| ≤ ε (or < ε when strict). x: [N, P] → [N] bool."""
    a = x.abs()
    return ((a < epsilon) if strict else (a <= epsilon)).all(dim=1)


def classify(
    spec: ParticleSpec, w: Tensor, epsilon: float = 1e-5, *, strict: bool = False
) -> Tensor:
    """Type code of every particle.

    w: [N, P]. Returns [N] int8 codes of ``ParticleType``. ``strict`` uses |·| < ε
    (the 2019 paper's convention) instead of ≤ ε.
    """
    check_weights(spec, w, "w")
    _check_epsilon(epsilon)
    with torch.no_grad():
        once = apply_weightwise(spec, w, w)
        twice = apply_weightwise(spec, w, once)
        divergent = ~torch.isfinite(w).all(dim=1)
        zero = _within(w, epsilon, strict)
        fixpoint = _within(once - w, epsilon, strict)
        second = _within(twice - w, epsilon, strict)
        codes = torch.full((w.shape[0],), int(ParticleType.OTHER), dtype=torch.int8)
        codes = codes.to(w.device)
        # assign in reverse order of precedence so the first test wins
        codes[second] = int(ParticleType.SECOND_ORDER)
        codes[fixpoint] = int(ParticleType.FIXPOINT)
        codes[zero] = int(ParticleType.ZERO)
        codes[divergent] = int(ParticleType.DIVERGENT)
    return codes


def count_types(codes: Tensor) -> dict[str, int]:
    """Number of particles of each type. codes: [N] → {label: count} in type order."""
    counts = torch.bincount(codes.long().cpu(), minlength=len(ParticleType))
    return {t.label: int(counts[t]) for t in ParticleType}


def replication_stats(spec: ParticleSpec, w: Tensor) -> dict[str, Tensor]:
    """Replication quality of every particle, from the residual Δ = (A◁A) − w.

    w: [N, P]. Returns [N] tensors: ``max_abs`` (max|Δ|, the ε statistic), ``mse`` (mean Δ²,
    the self-train loss), ``rho`` (Σ Δ² / Σ (w − w̄)²) and ``r2`` (1 − ρ; NaN where all weights
    of a particle are equal).
    """
    check_weights(spec, w, "w")
    with torch.no_grad():
        delta = apply_weightwise(spec, w, w) - w
        sq = delta * delta
        spread = ((w - w.mean(dim=1, keepdim=True)) ** 2).sum(dim=1)
        constant = (w == w[:, :1]).all(dim=1)
        rho = torch.where(constant, torch.full_like(spread, torch.nan), sq.sum(dim=1) / spread)
        return {
            "max_abs": delta.abs().amax(dim=1),
            "mse": sq.mean(dim=1),
            "rho": rho,
            "r2": 1.0 - rho,
        }


def replication_r2(spec: ParticleSpec, w: Tensor) -> Tensor:
    """R²_rep = 1 − ρ per particle (1 = perfect replicator). w: [N, P] → [N]."""
    return replication_stats(spec, w)["r2"]
