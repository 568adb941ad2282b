"""Reproduction rows that need only the particle core (particles.md §7–8, soup.md §7)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from neurosoup.analysis import plots
from neurosoup.analysis.robustness import one_thread, robustness, robustness_summary
from neurosoup.particles import (
    ConfigError,
    ParticleSpec,
    ParticleType,
    classify,
    self_apply,
    self_train_step,
    train_pass,
)

from .common import (
    ANCHOR_NATURAL,
    ANCHOR_PERFECT,
    Result,
    init_particles,
    mean_sd,
    per_seed_counts,
    seeds_label,
)


def row_self_application(scale: str, seed: int, out: Path) -> list[Result]:
    """2019: 50 random nets, 100 self-applications each → divergent or zero (10 × 50 nets)."""
    n_seeds = 10  # costs well under a second at either scale
    spec = ParticleSpec(encoding="alife2019", weight_init="xavier")
    w = init_particles(spec, 50, range(seed, seed + n_seeds))
    with one_thread():
        for _ in range(100):
            w = self_apply(spec, w)
        codes = classify(spec, w, 1e-4, strict=True)
    div = per_seed_counts(codes, n_seeds, ParticleType.DIVERGENT)
    zero = per_seed_counts(codes, n_seeds, ParticleType.ZERO)
    other = 50 - div - zero
    common = dict(
        experiment="self-application, 50 nets × 100 (2019, ε 1e-4 <, alife2019)",
        source="soup.md §7 / particles.md §7 (2019)",
        scale=f"{n_seeds} × 50 nets",
        seeds=seeds_label(seed, n_seeds),
    )
    return [
        Result(
            "self_apply", measure="divergent of 50", ours=mean_sd(div), reference="23", **common
        ),
        Result("self_apply", measure="zero of 50", ours=mean_sd(zero), reference="27", **common),
        Result("self_apply", measure="other of 50", ours=mean_sd(other), reference="0", **common),
    ]


def _train_counts(
    spec: ParticleSpec, w: torch.Tensor, checkpoints: list[int], n_seeds: int, lr: float
) -> np.ndarray:
    """Fixpoints per seed after each checkpoint step count: [len(checkpoints), n_seeds]."""
    out, done = [], 0
    with one_thread():
        for target in checkpoints:
            for _ in range(target - done):
                w, _, _ = self_train_step(spec, w, lr)
            done = target
            out.append(per_seed_counts(classify(spec, w), n_seeds, ParticleType.FIXPOINT))
    return np.stack(out)


def row_self_training(scale: str, seed: int, out: Path) -> list[Result]:
    """Journal-era and default self-training: ε-fixpoints among 30 nets vs SGD steps."""
    n_seeds = 3 if scale == "small" else 10
    seeds = range(seed, seed + n_seeds)
    steps = [500, 1000, 1500, 2000, 3000]
    journal_ref = ["0.2", "7.1 ± 2.6", "22.1 ± 2.6", "27.8 ± 1.4", "29.9"]
    journal = ParticleSpec(encoding="per_layer", weight_init="torch")
    counts = _train_counts(journal, init_particles(journal, 30, seeds), steps, n_seeds, 0.04)
    results = [
        Result(
            "self_train_journal",
            f"self-train 30 nets, SGD 0.04 ({journal.encoding}, torch init; journal-era)",
            f"fixpoints of 30 after {s} steps",
            mean_sd(c),
            ref,
            "particles.md §7 (journal-era, 10 seeds)",
            f"{n_seeds} × 30 nets",
            seeds_label(seed, n_seeds),
        )
        for s, c, ref in zip(steps, counts, journal_ref, strict=True)
    ]
    default = ParticleSpec()
    dsteps = [250, 500, 1000, 2000, 3000, 5000]
    anchor = ["0.9 %", "11 %", "48 %", "92 %", "99.2 %", "100 %"]
    n_def = 100 if scale == "small" else 300
    dcounts = _train_counts(default, init_particles(default, n_def, seeds), dsteps, n_seeds, 0.04)
    results += [
        Result(
            "self_train_default",
            "self-train, SGD 0.04 (defaults: global, Xavier)",
            f"share of fixpoints after {s} steps",
            f"{100 * c.mean() / n_def:.1f} %",
            ref,
            "particles.md §8 anchor (3 × 300)",
            f"{n_seeds} × {n_def} nets",
            seeds_label(seed, n_seeds),
        )
        for s, c, ref in zip(dsteps, dcounts, anchor, strict=True)
    ]
    frame = pd.DataFrame(
        {
            "steps": steps,
            "ours_mean": counts.mean(axis=1),
            "reference": [float(r.split()[0]) for r in journal_ref],
        }
    )
    plots.save_figure(
        plots.versus_figure(
            frame, "steps", "self-train steps", "ε-fixpoints of 30", "journal-era code, 10 seeds"
        ),
        frame,
        out,
        "self_train_fixpoints",
    )
    return results


def row_self_training_2019(scale: str, seed: int, out: Path) -> list[Result]:
    """2019: nets trained 1,000 Keras-style passes (SGD 0.01, batch 1) → fixpoints."""
    n = 20 if scale == "small" else 50
    spec = ParticleSpec(encoding="alife2019")
    gen = torch.Generator().manual_seed(seed)
    w = spec.init(n, gen)
    with one_thread():
        for _ in range(1000):
            w, _, _ = train_pass(spec, w, w, 0.01, gen)
        codes = classify(spec, w, 1e-4, strict=True)
    fix = int((codes == int(ParticleType.FIXPOINT)).sum())
    return [
        Result(
            "self_train_2019",
            "self-train 1,000 passes, epoch mode, SGD 0.01 (2019)",
            f"fixpoints of {n}",
            str(fix),
            "19 of 20" if n == 20 else "50 of 50",
            "particles.md §7 (2019)",
            f"1 × {n} nets",
            str(seed),
        )
    ]


def _natural_fixpoints(n: int, seed: int) -> torch.Tensor:
    spec = ParticleSpec()
    w = spec.init(n, torch.Generator().manual_seed(seed))
    with one_thread():
        for _ in range(5000):
            w, _, _ = self_train_step(spec, w, 0.04)
    return w[classify(spec, w) == int(ParticleType.FIXPOINT)]


def row_robustness(scale: str, seed: int, out: Path) -> list[Result]:
    """Robustness vs noise (cap 1,000, uniform_sign): perfect and trained fixpoints."""
    spec = ParticleSpec()
    clones = 30 if scale == "small" else 100
    n_nat = 30 if scale == "small" else 100
    perfect = robustness(spec, spec.perfect_fixpoint(1), clones=clones, seed=seed)
    natural_w = _natural_fixpoints(n_nat, seed)
    if len(natural_w) == 0:
        raise ConfigError("no natural fixpoints after 5,000 steps; try another --seed")
    per_parent = max(1, clones // len(natural_w))
    natural = robustness(spec, natural_w, clones=per_parent, seed=seed + 1)
    table = pd.concat([perfect.assign(source="perfect"), natural.assign(source="natural")])
    plots.save_figure(
        plots.robustness_figure(table, "Robustness: trained vs perfect fixpoint"),
        table,
        out,
        "robustness",
    )
    results = []
    for name, part, anchor, what in (
        ("perfect", perfect, ANCHOR_PERFECT, f"perfect fixpoint, {clones} clones/level"),
        (
            "natural",
            natural,
            ANCHOR_NATURAL,
            f"{len(natural_w)} trained fixpoints × {per_parent} clone/level",
        ),
    ):
        summary = robustness_summary(part)
        for col, ref in (("t_verge", anchor[0]), ("t_fix", anchor[1])):
            results.append(
                Result(
                    f"robustness_{name}",
                    f"robustness σ = 1e0…1e-9, cap 1000 ({name})",
                    f"mean {col} per level",
                    ", ".join(f"{v:.1f}" for v in summary[col]),
                    ", ".join(f"{v:g}" for v in ref),
                    "particles.md §8 anchor",
                    what,
                    str(seed),
                )
            )
    return results


ROWS: dict[str, Callable[[str, int, Path], list[Result]]] = {
    "self_apply": row_self_application,
    "self_train": row_self_training,
    "self_train_2019": row_self_training_2019,
    "robustness": row_robustness,
}
