"""Particle types and replication quality (``science/particles.md`` §4).

Types are tested in order, first match wins: divergent, zero, fixpoint, second-order, other.
The ε test is absolute, so near-zero weights pass it almost trivially: report the relative
replication error ρ (and R²_rep = 1 − ρ) beside it.
"""

from __future__ import annotations

import enum

import torch
from torch import Tensor

from .apply import apply_weightwise, effective_vector
from .encoding import encode_positions
from .errors import ConfigError
from .network import ParticleSpec, check_weights, row_blocks
from .particle_kinds import kind_images


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
    """Rows whose every |x| ≤ ε (< ε when strict), tested as max|x|. x: [N, P] → [N] bool.

    A float reduction is faster than ``all`` over a bool tensor; a NaN max fails the test
    exactly as ``all`` would.
    """
    a = x.abs().amax(dim=1)
    return (a < epsilon) if strict else (a <= epsilon)


def collapsed(w: Tensor, epsilon: float, strict: bool = False) -> tuple[Tensor, Tensor]:
    """The two collapsed states: (divergent [N], zero [N]) bool masks of w: [N, P].

    Divergent: some weight is not finite. Zero: finite and every |w| ≤ ε (< ε when strict).
    The one definition used by classification and by respawn.
    """
    divergent = ~torch.isfinite(w).all(dim=1)
    return divergent, _within(w, epsilon, strict) & ~divergent


def _self_images(spec: ParticleSpec, w: Tensor) -> tuple[Tensor, Tensor]:
    """A◁A and A◁(A◁A) of every particle, [N, P] each.

    Linear particles share one effective vector: once = w·v₀ + c, twice = once·v₀ + c with
    c = v[1:4]·posᵀ — the same float operations as ``apply_weightwise``.
    """
    if spec.is_linear:
        v = effective_vector(spec, w)
        c = v[:, 1:4] @ encode_positions(spec, dtype=w.dtype, device=w.device)[:, 1:4].T
        once = w * v[:, :1] + c
        return once, once * v[:, :1] + c
    once = apply_weightwise(spec, w, w)
    return once, apply_weightwise(spec, w, once)


def _codes(w: Tensor, once: Tensor, twice: Tensor, epsilon: float, strict: bool) -> Tensor:
    """Type codes from the weights and their self-images; the first matching test wins."""
    codes = torch.full((w.shape[0],), int(ParticleType.OTHER), dtype=torch.int8, device=w.device)
    # assign in reverse order of precedence so the first test wins
    codes[_within(twice - w, epsilon, strict)] = int(ParticleType.SECOND_ORDER)
    codes[_within(once - w, epsilon, strict)] = int(ParticleType.FIXPOINT)
    divergent, zero = collapsed(w, epsilon, strict)
    codes[zero] = int(ParticleType.ZERO)
    codes[divergent] = int(ParticleType.DIVERGENT)
    return codes


def _stats(w: Tensor, once: Tensor) -> dict[str, Tensor]:
    """Replication quality from the residual Δ = once − w (see ``replication_stats``)."""
    delta = once - w
    sq = delta * delta
    spread = ((w - w.mean(dim=1, keepdim=True)) ** 2).sum(dim=1)
    constant = (w == w[:, :1]).all(dim=1)
    rho = torch.where(constant, torch.full_like(spread, torch.nan), sq.sum(dim=1) / spread)
    return {"max_abs": delta.abs().amax(dim=1), "mse": sq.mean(dim=1), "rho": rho, "r2": 1 - rho}


def classify(
    spec: ParticleSpec, w: Tensor, epsilon: float = 1e-5, *, strict: bool = False
) -> Tensor:
    """Type code of every particle.

    w: [N, P]. Returns [N] int8 codes of ``ParticleType``. ``strict`` uses |·| < ε
    (the 2019 paper's convention) instead of ≤ ε.
    """
    return classify_with_stats(spec, w, epsilon, strict=strict)[0]


def classify_with_stats(
    spec: ParticleSpec,
    w: Tensor,
    epsilon: float = 1e-5,
    *,
    strict: bool = False,
    block_rows: int | None = None,
) -> tuple[Tensor, dict[str, Tensor]]:
    """``classify`` and ``replication_stats`` from one pair of self-applications.

    w: [N, P]. Returns (codes [N] int8, stats of ``replication_stats``). ``block_rows`` (None
    or 0: one call) works through blocks of at most that many rows (``row_blocks``), so the
    temporaries of a big population stay cache-sized; rows never mix: the same bits.
    """
    check_weights(spec, w, "w")
    _check_epsilon(epsilon)
    if spec.kind != "weightwise":
        return _kind_codes_and_stats(spec, w, epsilon, strict)
    blocks = row_blocks(w.shape[0], block_rows)
    if len(blocks) > 1:
        parts = [classify_with_stats(spec, w[lo:hi], epsilon, strict=strict) for lo, hi in blocks]
        codes = torch.cat([c for c, _ in parts])
        return codes, {k: torch.cat([st[k] for _, st in parts]) for k in parts[0][1]}
    with torch.no_grad():
        once, twice = _self_images(spec, w)
        return _codes(w, once, twice, epsilon, strict), _stats(w, once)


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
    if spec.kind != "weightwise":
        return _kind_codes_and_stats(spec, w, 1e-5, False)[1]
    with torch.no_grad():
        return _stats(w, apply_weightwise(spec, w, w))


def replication_r2(spec: ParticleSpec, w: Tensor) -> Tensor:
    """R²_rep = 1 − ρ per particle (1 = perfect replicator). w: [N, P] → [N]."""
    return replication_stats(spec, w)["r2"]


def _kind_codes_and_stats(
    spec: ParticleSpec, w: Tensor, epsilon: float, strict: bool
) -> tuple[Tensor, dict[str, Tensor]]:
    """Codes and stats of aggregating and recurrent particles (``science/particles.md`` §9).

    Divergent and zero read the weights; the fixpoint and second-order tests and the stats
    compare the kind's images (aggregating: aggregates of w, A◁A and A◁(A◁A)).
    """
    with torch.no_grad():
        base, once, twice = kind_images(spec, w)
        codes = torch.full((w.shape[0],), int(ParticleType.OTHER), dtype=torch.int8)
        codes = codes.to(w.device)
        codes[_within(twice - base, epsilon, strict)] = int(ParticleType.SECOND_ORDER)
        codes[_within(once - base, epsilon, strict)] = int(ParticleType.FIXPOINT)
        divergent, zero = collapsed(w, epsilon, strict)
        codes[zero] = int(ParticleType.ZERO)
        codes[divergent] = int(ParticleType.DIVERGENT)
        return codes, _stats(base, once)
