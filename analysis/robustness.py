"""Robustness and basins of stored particles, re-evaluated with ``neurosoup.particles``.

Robustness (``science/particles.md`` §5): noisy clones of fixpoints are self-applied until they
collapse (divergent or zero) or a step cap is reached; per clone we record the time to vergence
``t_verge``, the time as fixpoint ``t_fix`` and whether the cap censored it. Basins (§6): noisy
clones and linspace clones are self-trained and their distance to the parent is compared
before and after. Every clone of every level runs in one batch; the only loop is over steps.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from neurosoup.particles import (
    ConfigError,
    ParticleSpec,
    ParticleType,
    SnapshotError,
    self_apply,
    self_train_step,
)

from .load import Run
from .soup import distances

NOISE_MODELS = ("uniform_sign", "gaussian", "scaled")
LEVELS = tuple(10.0**-k for k in range(10))


@contextmanager
def one_thread() -> Iterator[None]:
    """Run torch ops on one intra-op thread, then restore the previous setting.

    Particle batches here are tiny ([N, 14]); measured on the 2-core CI machine under load,
    torch's 2-thread intra-op pool made a self-train step of 121 particles 100× slower
    (32 ms vs 0.3 ms).
    """
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def add_noise(
    w: Tensor, sigma: Tensor | float, generator: torch.Generator, model: str = "uniform_sign"
) -> Tensor:
    """Perturb every weight of ``w`` [N, P] at level ``sigma`` (scalar or [N]) → [N, P].

    ``uniform_sign``: w + s·σ·u, s = ±1, u ~ U(0, 1); ``gaussian``: w + σ·z;
    ``scaled``: σ' = σ·U(0, 1) once per row, then ``uniform_sign`` with σ'.
    """
    if model not in NOISE_MODELS:
        raise ConfigError(f"unknown noise model {model!r}; expected one of {NOISE_MODELS}")
    sig = torch.as_tensor(sigma, dtype=w.dtype).reshape(-1, 1).expand(w.shape[0], 1)
    if model == "gaussian":
        return w + sig * torch.randn(w.shape, generator=generator, dtype=w.dtype)
    if model == "scaled":
        sig = sig * torch.rand((w.shape[0], 1), generator=generator, dtype=w.dtype)
    u = torch.rand(w.shape, generator=generator, dtype=w.dtype)
    sign = torch.where(torch.rand(w.shape, generator=generator) < 0.5, -1.0, 1.0).to(w.dtype)
    return w + sign * sig * u


def _collapsed(w: Tensor, epsilon: float) -> Tensor:
    """Divergent (non-finite) or zero (all |w| ≤ ε) rows: [N, P] → [N] bool."""
    return ~torch.isfinite(w).all(dim=1) | (w.abs() <= epsilon).all(dim=1)


def time_to_vergence(
    spec: ParticleSpec, w0: Tensor, *, cap: int = 1000, epsilon: float = 1e-5
) -> tuple[Tensor, Tensor, Tensor]:
    """Self-apply every row of ``w0`` [N, P] until it collapses or ``cap`` steps pass.

    The collapse step counts as vergence only; every step whose new state is an ε-fixpoint
    counts as time as fixpoint (not only the first unbroken run).

    Returns: (t_verge [N] int64, t_fix [N] int64, censored [N] bool).
    """
    with one_thread():
        return _time_to_vergence(spec, w0, cap, epsilon)


def _time_to_vergence(
    spec: ParticleSpec, w0: Tensor, cap: int, epsilon: float
) -> tuple[Tensor, Tensor, Tensor]:
    n = w0.shape[0]
    t_verge = torch.zeros(n, dtype=torch.int64)
    t_fix = torch.zeros(n, dtype=torch.int64)
    active = ~_collapsed(w0, epsilon)
    w = w0.clone()
    nxt = torch.full_like(w, torch.nan)
    if bool(active.any()):
        nxt[active] = self_apply(spec, w[active])
    for _ in range(cap):
        idx = torch.nonzero(active).squeeze(1)
        if len(idx) == 0:
            break
        w_new = nxt[idx]
        t_verge[idx] += 1
        dead = _collapsed(w_new, epsilon)
        live = idx[~dead]
        active[idx[dead]] = False
        w[live] = w_new[~dead]
        if len(live):
            nxt[live] = self_apply(spec, w[live])
            fix = ((nxt[live] - w[live]).abs() <= epsilon).all(dim=1)
            t_fix[live] += fix.to(torch.int64)
    return t_verge, t_fix, active


def robustness(
    spec: ParticleSpec,
    parents: Tensor,
    *,
    levels: tuple[float, ...] = LEVELS,
    clones: int = 100,
    cap: int = 1000,
    epsilon: float = 1e-5,
    model: str = "uniform_sign",
    seed: int = 0,
) -> pd.DataFrame:
    """Robustness of fixpoints to noise: ``clones`` noisy copies per parent per level.

    Args:
        spec: particle spec of ``parents``.
        parents: [F, P] particles (normally ε-fixpoints).
        levels: noise levels σ.
        clones: noisy clones per parent and level.
        cap: step cap of the self-application loop.
        epsilon: ε of the zero and fixpoint tests.
        model: noise model (``NOISE_MODELS``).
        seed: seed of the noise generator.

    Returns: one row per clone: parent, sigma, clone, t_verge, t_fix, censored.
    """
    if clones < 1 or cap < 1 or len(levels) == 0:
        raise ConfigError(f"need clones >= 1, cap >= 1 and levels, got {clones}, {cap}, {levels}")
    f = parents.shape[0]
    gen = torch.Generator().manual_seed(seed)
    p_idx = np.repeat(np.arange(f), len(levels) * clones)
    sig = np.tile(np.repeat(np.asarray(levels, dtype=np.float64), clones), f)
    w0 = add_noise(parents[torch.as_tensor(p_idx)], torch.as_tensor(sig), gen, model)
    t_verge, t_fix, censored = time_to_vergence(spec, w0, cap=cap, epsilon=epsilon)
    return pd.DataFrame(
        {
            "parent": p_idx,
            "sigma": sig,
            "clone": np.tile(np.arange(clones), f * len(levels)),
            "t_verge": t_verge.numpy(),
            "t_fix": t_fix.numpy(),
            "censored": censored.numpy(),
        }
    )


def robustness_summary(table: pd.DataFrame, by: tuple[str, ...] = ("sigma",)) -> pd.DataFrame:
    """Mean t_verge and t_fix (and censored share) per noise level of a robustness table."""
    keys = [k for k in ("source", *by) if k in table.columns]
    out = table.groupby(keys, sort=False)[["t_verge", "t_fix", "censored"]].mean()
    return out.sort_index(ascending=[True] * (len(keys) - 1) + [False])


def train(spec: ParticleSpec, w: Tensor, steps: int, lr: float = 0.04) -> Tensor:
    """``steps`` plain-SGD self-train steps of every row of ``w`` [N, P] → [N, P]."""
    with one_thread():
        for _ in range(steps):
            w, _, _ = self_train_step(spec, w, lr)
    return w


def clone_movement(
    spec: ParticleSpec,
    parents: Tensor,
    *,
    sigma: float = 1e-2,
    clones: int = 10,
    steps: int = 2500,
    lr: float = 0.04,
    model: str = "scaled",
    seed: int = 0,
) -> pd.DataFrame:
    """Spawn experiment: noisy clones of each parent, all self-trained ``steps`` steps.

    Distances are to the parent, before (after noise) and after training (parent trained
    too). ``rel = (MAE_pre − MAE_post)/σ``: > 0 approaching, < 0 distancing, 0 stationary.

    Returns: one row per clone: parent, clone, mae/mse/mim _pre and _post, rel, direction.
    """
    f = parents.shape[0]
    gen = torch.Generator().manual_seed(seed)
    idx = torch.arange(f).repeat_interleave(clones)
    kids = add_noise(parents[idx], sigma, gen, model)
    after = train(spec, torch.cat([parents, kids]), steps, lr)
    par_post, kids_post = after[:f][idx].numpy(), after[f:].numpy()
    par_pre, kids_pre = parents[idx].numpy(), kids.numpy()
    out = {"parent": idx.numpy(), "clone": np.tile(np.arange(clones), f)}
    for m in ("mae", "mse", "mim"):
        out[f"{m}_pre"] = distances(kids_pre, par_pre, m)
        out[f"{m}_post"] = distances(kids_post, par_post, m)
    frame = pd.DataFrame(out)
    frame["rel"] = (frame["mae_pre"] - frame["mae_post"]) / sigma
    frame["direction"] = movement_direction(frame["rel"])
    return frame


def movement_direction(rel: pd.Series) -> pd.Series:
    """Rel > 0 approaching, < 0 distancing, 0 stationary, NaN (a diverged clone) diverged."""
    out = pd.Series(
        np.select([rel > 0, rel < 0], ["approaching", "distancing"], "stationary"),
        index=rel.index,
    )
    out[rel.isna()] = "diverged"
    return out


def linspace_clones(
    spec: ParticleSpec, w1: Tensor, w2: Tensor, *, n: int = 25, steps: int = 2000, lr: float = 0.04
) -> pd.DataFrame:
    """Clones on the line w1 + (j/n)(w2 − w1), j = 0…n−1, self-trained ``steps`` steps.

    w1, w2: [P]. MAE to w1 before and after training, min–max normalised over the pair's
    clones (``*_norm``); a clone that diverges is NaN.

    Returns: one row per clone: j, alpha, mae_pre, mae_post, mae_pre_norm, mae_post_norm.
    """
    alpha = torch.arange(n, dtype=w1.dtype) / n
    kids = w1[None] + alpha[:, None] * (w2 - w1)[None]
    post = train(spec, kids, steps, lr)
    frame = pd.DataFrame(
        {
            "j": np.arange(n),
            "alpha": alpha.numpy(),
            "mae_pre": distances(kids.numpy(), w1.numpy()[None], "mae"),
            "mae_post": distances(post.numpy(), w1.numpy()[None], "mae"),
        }
    )
    for col in ("mae_pre", "mae_post"):
        v = frame[col].where(np.isfinite(frame[col]))
        span = v.max() - v.min()
        frame[f"{col}_norm"] = (v - v.min()) / span if span > 0 else 0.0 * v
    return frame


def stored_fixpoints(run: Run, step: int | None = None) -> Tensor:
    """Weights of the particles stored as ε-fixpoints at a snapshot (last by default): [F, P]."""
    frame = run.snapshots.frame(step)
    sel = frame.ptype == int(ParticleType.FIXPOINT)
    return torch.as_tensor(frame.weights[sel], dtype=torch.float32)


def run_robustness(
    run: Run,
    *,
    clones: int = 20,
    cap: int = 1000,
    seed: int = 0,
    step: int | None = None,
    max_parents: int = 100,
) -> pd.DataFrame:
    """Robustness of the run's stored fixpoints beside the perfect fixpoint of its spec.

    Uses the first ``max_parents`` fixpoints (slot order) of the snapshot at ``step``.
    Returns the ``robustness`` table with a ``source`` column (``soup`` or ``perfect``).
    """
    spec, eps = run.particle_spec, run.epsilon
    tables = []
    fix = stored_fixpoints(run, step)[:max_parents]
    if len(fix):
        tables.append(
            robustness(spec, fix, clones=clones, cap=cap, epsilon=eps, seed=seed).assign(
                source="soup"
            )
        )
    perfect = spec.perfect_fixpoint(1)
    tables.append(
        robustness(spec, perfect, clones=clones, cap=cap, epsilon=eps, seed=seed).assign(
            source="perfect"
        )
    )
    return pd.concat(tables, ignore_index=True)


def run_basins(
    run: Run,
    *,
    clones: int = 10,
    steps: int = 2500,
    sigma: float = 1e-2,
    seed: int = 0,
    max_parents: int = 10,
) -> pd.DataFrame:
    """Spawn-basin experiment on (at most ``max_parents``) stored fixpoints of the run."""
    fix = stored_fixpoints(run)[:max_parents]
    if len(fix) == 0:
        raise SnapshotError(
            f"{run.path}: no ε-fixpoints in the last snapshot; basins need fixpoint particles "
            "(run the soup longer or pick another step)"
        )
    return clone_movement(
        run.particle_spec, fix, sigma=sigma, clones=clones, steps=steps, seed=seed
    )


__all__ = [
    "LEVELS",
    "NOISE_MODELS",
    "add_noise",
    "clone_movement",
    "linspace_clones",
    "movement_direction",
    "robustness",
    "robustness_summary",
    "run_basins",
    "run_robustness",
    "stored_fixpoints",
    "time_to_vergence",
    "train",
]
