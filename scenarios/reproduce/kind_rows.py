"""Reproduction rows of the 2019 particle kinds, second-order replicators and the melting soup.

``science/particles.md`` §9 and ``science/soup.md`` §4. The kind comparison uses the pure
functions of ``neurosoup.particles.experiments`` (the 2019 settings: ``alife2019`` encoding for
weightwise particles, Glorot init, Keras-style passes with SGD 0.01, ε 1e-4 strict); the
second-order and melting rows run the registered soups ``soup/second-order-v1`` and
``soup/melting-v1`` through the soup engine.

The 2019 mixed experiment seems to have counted zero particles as fixpoints (its code tested the
identity before zero): its shares match our share of fixpoint + zero, so both are reported.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from neurosoup.analysis import plots
from neurosoup.analysis.robustness import one_thread
from neurosoup.particles import TYPE_LABELS, ParticleType
from neurosoup.particles.experiments import (
    MIXED_KS,
    alife2019_specs,
    fixpoint_density,
    mixed_fixpoint_counts,
    self_application_counts,
    train_counts,
)

from .common import Result, mean_sd, seeds_label, soup_counts

SOURCE = "particles.md §9 (2019 logs, 50 nets)"
TRAIN_REF = {"weightwise": "50 fixpoints (non-zero)", "aggregating": "50 other",
             "recurrent": "38 divergent, 12 other"}  # fmt: skip
APPLY_REF = {"weightwise": "23 divergent, 27 zero", "aggregating": "4 divergent, 46 zero",
             "recurrent": "46 divergent, 4 zero"}  # fmt: skip
MIXED_REF = {  # share of "fixpoints" per k (the 2019 code; zero particles apparently included)
    "weightwise": [0.2, 0.3, 0.15, 0.55, 0.7, 0.85, 0.8, 0.95, 0.9, 1.0, 1.0],
    "aggregating": "1.0 … 0.8",
    "recurrent": "0 – 0.1",
}
MIXED_SOURCE = "particles.md §9 (2019 logs, 20 trials)"
SECOND_ORDER_REF = "14, 16, 14 of 20 (journal-era code, seeds 0–2, 1,000 steps); rest other"


def _type_means(counts: list[dict[str, int]]) -> dict[str, np.ndarray]:
    """Per-seed counts → {label: [n_seeds]}."""
    return {t: np.array([c[t] for c in counts], dtype=float) for t in TYPE_LABELS}


def _describe(per_type: dict[str, np.ndarray]) -> str:
    """``fixpoint 49.8 ± 0.4, other 0.2, …``: every type that occurred, mean (± sd) per seed."""
    parts = [f"{t} {mean_sd(v) if len(v) > 1 else f'{v[0]:g}'}" for t, v in per_type.items()
             if v.any()]
    return ", ".join(parts) or "none"


def row_kinds_train(scale: str, seed: int, out: Path) -> list[Result]:
    """2019: n random nets of each kind, trained ``passes`` passes (SGD 0.01) → types."""
    n, passes, n_seeds = (20, 100, 1) if scale == "small" else (50, 1000, 5)
    seeds = range(seed, seed + n_seeds)
    res = []
    for kind, spec in alife2019_specs().items():
        with one_thread():
            counts = [train_counts(spec, n, passes, seed=s) for s in seeds]
        res.append(Result(
            "kinds_train", f"self-train {passes:,} passes, SGD 0.01, ε 1e-4 < (2019 kinds)",
            f"{kind}: types of {n}", _describe(_type_means(counts)), TRAIN_REF[kind], SOURCE,
            f"{n_seeds} × {n} nets", seeds_label(seed, n_seeds),
        ))  # fmt: skip
    return res


def row_kinds_self_apply(scale: str, seed: int, out: Path) -> list[Result]:
    """2019: 50 random nets of each kind, 100 self-applications → divergent or zero."""
    n_seeds = 2 if scale == "small" else 10
    seeds = range(seed, seed + n_seeds)
    res = []
    for kind, spec in alife2019_specs().items():
        with one_thread():
            counts = [self_application_counts(spec, 50, 100, seed=s) for s in seeds]
        res.append(Result(
            "kinds_self_apply", "100 self-applications, ε 1e-4 < (2019 kinds)",
            f"{kind}: types of 50", _describe(_type_means(counts)), APPLY_REF[kind], SOURCE,
            f"{n_seeds} × 50 nets", seeds_label(seed, n_seeds),
        ))  # fmt: skip
    return res


def row_kinds_mixed(scale: str, seed: int, out: Path) -> list[Result]:
    """2019 mixed self-fixpoints: 20 trials × 4 rounds of (self-application, k passes).

    Per kind two lines: our share of fixpoints and our share of fixpoint + zero (what the
    2019 code seems to have counted), each a list over k, beside the 2019 shares.
    """
    if scale == "small":
        ks, trials, n_seeds = (0, 50), 10, 1
    else:
        ks, trials, n_seeds = MIXED_KS, 20, 3
    seeds = range(seed, seed + n_seeds)
    res, frames = [], []
    exp = f"mixed self-fixpoints, {trials} trials × 4 rounds (self-apply, k passes), k = " + (
        ", ".join(str(k) for k in ks)
    )
    for kind, spec in alife2019_specs().items():
        with one_thread():
            per_seed = [mixed_fixpoint_counts(spec, ks, trials, seed=s) for s in seeds]
        fix = np.array([[c["fixpoint"] for c in run] for run in per_seed]) / trials  # [S, K]
        zero = np.array([[c["zero"] for c in run] for run in per_seed]) / trials
        ref = MIXED_REF[kind]
        if isinstance(ref, list):
            ref_text = ", ".join(f"{ref[MIXED_KS.index(k)]:g}" for k in ks)
        else:
            ref_text = ref
        for what, share in (("fixpoints", fix), ("fixpoints + zero", fix + zero)):
            res.append(Result(
                "kinds_mixed", exp, f"{kind}: share of {what} per k",
                ", ".join(f"{v:.2f}" for v in share.mean(axis=0)), ref_text, MIXED_SOURCE,
                f"{n_seeds} × {trials} trials", seeds_label(seed, n_seeds),
            ))  # fmt: skip
        frames.append(pd.DataFrame({
            "kind": kind, "k": list(ks), "fixpoint_share": fix.mean(axis=0),
            "fixpoint_or_zero_share": (fix + zero).mean(axis=0),
            "reference": [ref[MIXED_KS.index(k)] if isinstance(ref, list) else np.nan
                          for k in ks],
        }))  # fmt: skip
    frame = pd.concat(frames, ignore_index=True)
    ww = frame[frame["kind"] == "weightwise"].rename(columns={"fixpoint_share": "ours_mean"})
    fig = plots.versus_figure(ww, "k", "train passes per round k", "share of fixpoints",
                              "2019 code, weightwise", "weightwise, fixpoints")  # fmt: skip
    ax = fig.axes[0]
    for i, (kind, part) in enumerate(frame.groupby("kind", sort=False)):
        ax.plot(part["k"], part["fixpoint_or_zero_share"], ":", color=f"C{i + 2}",
                label=f"ours, {kind}: fixpoint + zero")  # fmt: skip
    ax.legend(loc="best", fontsize=7)
    plots.save_figure(fig, frame, out, "kinds_mixed")
    return res


def row_kinds_density(scale: str, seed: int, out: Path) -> list[Result]:
    """Fixpoint density: random particles of each kind that are fixpoints (0 expected)."""
    n = 10_000 if scale == "small" else 100_000
    res = []
    for kind, spec in alife2019_specs().items():
        with one_thread():
            counts = fixpoint_density(spec, n, seed=seed)
        res.append(Result(
            "kinds_density", f"fixpoint density, {n:,} random particles, ε 1e-4 <",
            f"{kind}: share that are fixpoints (others: {_describe(_type_means([counts]))})",
            f"{counts['fixpoint'] / n:g}", "0 (2019: 100 of 100 random nets other)",
            "particles.md §9 (2019)", f"1 × {n:,} nets", str(seed),
        ))  # fmt: skip
    return res


SECOND_ORDER_VARIANTS = {  # label → particle override of soup/second-order-v1
    "journal-era (per_layer, torch init)": None,
    "defaults (global, Xavier)": {"encoding": "global", "weight_init": "xavier"},
}


def row_second_order(scale: str, seed: int, out: Path) -> list[Result]:
    """Second-order self-training (soup/second-order-v1): 2-cycles after 1,000 and 3,000 steps."""
    n_seeds = 2 if scale == "small" else 10
    variants = list(SECOND_ORDER_VARIANTS)[: 1 if scale == "small" else 2]
    seeds = range(seed, seed + n_seeds)
    ticks = [50, 150]  # × 20 steps
    res = []
    for label in variants:
        particle = SECOND_ORDER_VARIANTS[label]
        over = {} if particle is None else {"particle": particle}
        counts = soup_counts("soup/second-order-v1", seeds, ticks, **over)  # [T, S, 5]
        for t, c in zip(ticks, counts, strict=True):
            per_type = {lab: c[:, i] for i, lab in enumerate(TYPE_LABELS)}
            res.append(Result(
                "second_order", f"second-order self-training, 20 nets, SGD 0.04, {label}",
                f"types of 20 after {20 * t:,} steps",
                _describe(per_type),
                SECOND_ORDER_REF if particle is None else "none published (journal-era: 14.7)",
                "particles.md §9 (journal-era code)", f"{n_seeds} soups × 20",
                seeds_label(seed, n_seeds),
            ))  # fmt: skip
    return res


def row_melting_soup(scale: str, seed: int, out: Path) -> list[Result]:
    """Journal melting soup (soup/melting-v1) over seeds: types at tick 100 and melts."""
    from neurosoup.scenarios.registry import make

    n_seeds = 2 if scale == "small" else 10
    counts, melts = [], []
    for s in range(seed, seed + n_seeds):
        soup = make("soup/melting-v1", seed=s)
        with one_thread():
            soup.run(100, progress=False)
        counts.append(list(soup.counts().values()))
        melts.append(soup.datacollector.get_model_vars_dataframe()["applied_melt"].sum())
    c = np.array(counts, dtype=float)
    per_type = {lab: c[:, i] for i, lab in enumerate(TYPE_LABELS)}
    common = dict(
        experiment="melting soup N = 20, 100 ticks: attack single(0.1), melt single(0.1) "
        "offspring, 20 steps (soup/melting-v1)",
        source="soup.md §4 (journal melting variant; no published counts)",
        scale=f"{n_seeds} soups × 20", seeds=seeds_label(seed, n_seeds),
    )  # fmt: skip
    return [
        Result("melting_soup", measure="types of 20 at tick 100", ours=_describe(per_type),
               reference="none published (journal soup without melt: anchor 18.1 fixpoints, "
               "1.8 other)", **common),
        Result("melting_soup", measure="fixpoints of 20 at tick 100",
               ours=mean_sd(c[:, int(ParticleType.FIXPOINT)]), reference="none published",
               **common),
        Result("melting_soup", measure="melts applied per soup (offspring births)",
               ours=mean_sd(np.array(melts, dtype=float)), reference="≈ 10 expected (p 0.1 × 100)",
               **common),
    ]  # fmt: skip


KIND_ROWS: dict[str, Callable[[str, int, Path], list[Result]]] = {
    "kinds_train": row_kinds_train,
    "kinds_self_apply": row_kinds_self_apply,
    "kinds_mixed": row_kinds_mixed,
    "kinds_density": row_kinds_density,
    "second_order": row_second_order,
    "melting_soup": row_melting_soup,
}
