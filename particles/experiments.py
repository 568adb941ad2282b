"""The 2019 kind comparison and second-order training as pure functions (no I/O).

``science/particles.md`` §7 and §9. Each function seeds its own ``torch.Generator`` from
``seed``, draws the initial particles (and, for weightwise passes, the sample orders) from it,
and returns type counts ``{label: count}`` in ``ParticleType`` order, so the same arguments
always give the same numbers. Defaults are the papers' settings: the 2019 code trained with
Keras SGD lr 0.01 (one pass = ``train_pass``: P single-sample steps for weightwise particles,
one step for the other kinds, which see a single sample) and classified with ε 1e-4 strict.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch

from .apply import self_apply
from .classify import classify, count_types
from .network import ParticleSpec
from .train import second_order_step, train_pass

ALIFE2019_EPSILON = 1e-4  # with strict <
MIXED_KS = tuple(range(0, 501, 50))

Counts = dict[str, int]


def alife2019_specs() -> dict[str, ParticleSpec]:
    """The three particles of the 2019 paper, linear, width 2, depth 2, Glorot init."""
    return {
        "weightwise": ParticleSpec(encoding="alife2019"),
        "aggregating": ParticleSpec(kind="aggregating"),
        "recurrent": ParticleSpec(kind="recurrent"),
    }


def _start(
    spec: ParticleSpec, n: int, seed: int, dtype: torch.dtype, device: torch.device | str | None
) -> tuple[torch.Tensor, torch.Generator]:
    g = torch.Generator(device=device or "cpu").manual_seed(int(seed))
    return spec.init(n, g, dtype=dtype), g


def _counts(spec: ParticleSpec, w: torch.Tensor, epsilon: float, strict: bool) -> Counts:
    return count_types(classify(spec, w, epsilon, strict=strict))


def train_counts(
    spec: ParticleSpec,
    n: int = 50,
    passes: int = 1000,
    *,
    lr: float = 0.01,
    seed: int = 0,
    epsilon: float = ALIFE2019_EPSILON,
    strict: bool = True,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> Counts:
    """Types of ``n`` random particles after ``passes`` self-train passes (2019: 50, 1,000)."""
    w, g = _start(spec, n, seed, dtype, device)
    for _ in range(passes):
        w, _, _ = train_pass(spec, w, w, lr, g)
    return _counts(spec, w, epsilon, strict)


def self_application_counts(
    spec: ParticleSpec,
    n: int = 50,
    applications: int = 100,
    *,
    seed: int = 0,
    epsilon: float = ALIFE2019_EPSILON,
    strict: bool = True,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> Counts:
    """Types of ``n`` random particles after ``applications`` self-applications w ← A◁A."""
    w, _ = _start(spec, n, seed, dtype, device)
    for _ in range(applications):
        w = self_apply(spec, w)
    return _counts(spec, w, epsilon, strict)


def fixpoint_density(
    spec: ParticleSpec,
    n: int = 100,
    *,
    seed: int = 0,
    epsilon: float = ALIFE2019_EPSILON,
    strict: bool = True,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> Counts:
    """Types of ``n`` freshly initialised particles (2019: 100/100 "other" for every kind)."""
    w, _ = _start(spec, n, seed, dtype, device)
    return _counts(spec, w, epsilon, strict)


def mixed_fixpoint_counts(
    spec: ParticleSpec,
    ks: Iterable[int] = MIXED_KS,
    trials: int = 20,
    rounds: int = 4,
    *,
    lr: float = 0.01,
    seed: int = 0,
    epsilon: float = ALIFE2019_EPSILON,
    strict: bool = True,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> list[Counts]:
    """Mixed self-fixpoints: one count dict per k, in the order of ``ks``.

    Per k, ``trials`` fresh particles go through ``rounds`` of (one self-application, then k
    train passes). Every k starts from the same seed (k = 0 and k = 50 share their initial
    particles). The 2019 share of fixpoints is ``counts["fixpoint"] / trials``; the 2019 code
    apparently counted zero particles too (see the report).
    """
    out = []
    for k in ks:
        w, g = _start(spec, trials, seed, dtype, device)
        for _ in range(rounds):
            w = self_apply(spec, w)
            for _ in range(int(k)):
                w, _, _ = train_pass(spec, w, w, lr, g)
        out.append(_counts(spec, w, epsilon, strict))
    return out


def second_order_counts(
    spec: ParticleSpec,
    n: int = 20,
    steps: int = 1000,
    *,
    lr: float = 0.04,
    momentum: float = 0.0,
    seed: int = 0,
    epsilon: float = 1e-5,
    strict: bool = False,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> Counts:
    """Types of ``n`` particles after ``steps`` second-order steps (journal: 14, 16, 14 of 20)."""
    w, _ = _start(spec, n, seed, dtype, device)
    buf = None
    for _ in range(steps):
        w, _, buf = second_order_step(spec, w, lr, momentum=momentum, buf=buf)
    return _counts(spec, w, epsilon, strict)


def compare_kinds_2019(
    *,
    seed: int = 0,
    n_train: int = 50,
    passes: int = 1000,
    n_apply: int = 50,
    applications: int = 100,
    n_density: int = 100,
    ks: Iterable[int] = MIXED_KS,
    trials: int = 20,
    specs: dict[str, ParticleSpec] | None = None,
) -> dict[str, dict[str, Counts | list[Counts]]]:
    """All four 2019 experiments for every kind: {kind: {experiment: counts}}.

    Experiments: ``train`` (``train_counts``), ``self_apply`` (``self_application_counts``),
    ``density`` (``fixpoint_density``), ``mixed`` (``mixed_fixpoint_counts``, a list per k).
    The defaults are the paper's scale.
    """
    ks = tuple(ks)
    out: dict[str, dict[str, Counts | list[Counts]]] = {}
    for kind, spec in (specs or alife2019_specs()).items():
        out[kind] = {
            "train": train_counts(spec, n_train, passes, seed=seed),
            "self_apply": self_application_counts(spec, n_apply, applications, seed=seed),
            "density": fixpoint_density(spec, n_density, seed=seed),
            "mixed": mixed_fixpoint_counts(spec, ks, trials, seed=seed),
        }
    return out
