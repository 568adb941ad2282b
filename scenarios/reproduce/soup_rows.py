"""Reproduction rows run by the soup engine: journal, 2019, mixed and learn-from soups."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from neurosoup.analysis import plots
from neurosoup.particles import (
    ParticleType,
)

from .common import Result, mean_sd, seeds_label, soup_counts

JOURNAL_VARIANTS = {  # particle override → (fixpoint refs at ticks 20/50/100, other, label)
    "defaults": (None, ["anchor 1.0", "anchor 8.9", "anchor 18.1"], "anchor 1.8", "anchor"),
    "reproduction": (
        {"encoding": "per_layer", "weight_init": "torch"},
        ["0 (anchor 0)", "4.2 ± 1.4 (anchor 4.0)", "16.6 ± 2.2 (anchor 16.8)"],
        "anchor 3.1",
        "journal-era code",
    ),
}


def row_journal_soup(scale: str, seed: int, out: Path) -> list[Result]:
    """Journal soup (N = 20, attack single(0.1), 20 SGD steps per tick): fixpoints at ticks.

    Run twice: with the scenario's particle defaults and with the journal-era particle
    (``per_layer`` encoding, torch init), each beside its reference.
    """
    n_seeds = 5 if scale == "small" else 25
    ticks = [20, 50, 100]
    seeds = range(seed, seed + n_seeds)
    exp = "journal soup N = 20, 100 ticks × 20 steps, attack 10 % (soup/journal-v1)"
    res, frames = [], []
    for variant, (particle, refs, ref_other, who) in JOURNAL_VARIANTS.items():
        over = {} if particle is None else {"particle": particle}
        counts = soup_counts("soup/journal-v1", seeds, ticks, **over)
        fix = counts[:, :, int(ParticleType.FIXPOINT)]
        name = f"{exp}, {variant}" + ("" if particle is None else " (per_layer, torch init)")
        common = dict(
            source=f"soup.md §7 ({who})",
            scale=f"{n_seeds} soups × 20",
            seeds=seeds_label(seed, n_seeds),
        )
        res += [
            Result(
                "journal_soup",
                name,
                f"fixpoints of 20 at tick {t} ({variant})",
                mean_sd(f),
                r,
                **common,
            )
            for t, f, r in zip(ticks, fix, refs, strict=True)
        ]
        other = counts[-1, :, int(ParticleType.OTHER)]
        res.append(
            Result(
                "journal_soup",
                name,
                f"other of 20 at tick 100 ({variant})",
                mean_sd(other),
                ref_other,
                **common,
            )
        )
        frames.append(
            pd.DataFrame({"variant": variant, "tick": ticks, "ours_mean": fix.mean(axis=1)})
        )
    frame = pd.concat(frames, ignore_index=True)
    frame["reference"] = [1.0, 8.9, 18.1, 0.0, 4.2, 16.6]
    fig = plots.versus_figure(
        frame[frame["variant"] == "reproduction"],
        "tick",
        "tick",
        "ε-fixpoints of 20",
        "journal-era code, 10 seeds",
        "per_layer, torch init",
    )
    ax = fig.axes[0]
    part = frame[frame["variant"] == "defaults"]
    ax.plot(
        part["tick"], part["ours_mean"], "o-", color="C2", label="ours (defaults: global, Xavier)"
    )
    ax.plot(part["tick"], part["reference"], "s--", color="C3", label="anchor, defaults, 25 soups")
    ax.legend(loc="upper left")
    plots.save_figure(fig, frame, out, "journal_soup_fixpoints")
    return res


def row_alife2019_soup(scale: str, seed: int, out: Path) -> list[Result]:
    """2019 soup: N = 20, train 30 passes, attack 0.1, respawn divergent and zero."""
    n_seeds = 2 if scale == "small" else 10
    exp = "2019 soup N = 20, 100 ticks, train 30 passes, attack 0.1, respawn (soup/alife2019-v1)"
    counts = soup_counts("soup/alife2019-v1", range(seed, seed + n_seeds), [100])[0]
    common = dict(
        source="soup.md §7 (2019, one run)",
        scale=f"{n_seeds} soups × 20",
        seeds=seeds_label(seed, n_seeds),
    )
    return [
        Result(
            "alife2019_soup",
            exp,
            f"{t} of 20 at tick 100",
            mean_sd(counts[:, int(code)]),
            ref,
            **common,
        )
        for t, code, ref in (
            ("fixpoints", ParticleType.FIXPOINT, "13"),
            ("other", ParticleType.OTHER, "7"),
            ("zero", ParticleType.ZERO, "0 (respawned)"),
        )
    ]


MIXED_REF = {  # train passes k → non-zero fixpoints of 10 per soup (2019 code, 10 soups)
    0: 0.0,
    10: 0.0,
    20: 0.7,
    30: 1.9,
    40: 3.6,
    50: 4.3,
    60: 6.0,
    70: 6.1,
    80: 8.3,
    90: 7.7,
    100: 8.8,
}


def row_mixed_soup(scale: str, seed: int, out: Path) -> list[Result]:
    """2019 mixed soup: 10 particles, 5 ticks, attack 0.1, k training passes per tick.

    The ``soup/alife2019-v1`` preset (``alife2019`` encoding, Xavier, epoch-mode SGD 0.01,
    ε 1e-4 strict, attack ``per_actor(0.1)``) with N = 10, 5 ticks, ``train_steps`` = k and
    **respawn off**: soup.md §4 lists no respawn for the mixed soup and its reference reports
    zero particles (≤ 0.1 per soup), which a respawning soup cannot end with (respawn runs
    before classification). Small scale: k ∈ {0, 50, 100}, 3 soups; paper: k = 0…100, 10 soups.
    """
    ks = [0, 50, 100] if scale == "small" else list(MIXED_REF)
    n_seeds = 3 if scale == "small" else 10
    seeds = range(seed, seed + n_seeds)
    over = {"n_particles": 10, "steps": 5, "respawn_divergent": False, "respawn_zero": False}
    exp = "mixed soup 10 particles, 5 ticks, attack 0.1, train k passes, no respawn (alife2019)"
    fix, zero = [], []
    for k in ks:
        counts = soup_counts("soup/alife2019-v1", seeds, [5], train_steps=k, **over)[0]
        fix.append(counts[:, int(ParticleType.FIXPOINT)])  # [n_seeds]
        zero.append(counts[:, int(ParticleType.ZERO)])
    frame = pd.DataFrame(
        {
            "k": ks,
            "ours_mean": [f.mean() for f in fix],
            "ours_sd": [f.std(ddof=1) if len(f) > 1 else 0.0 for f in fix],
            "zero_mean": [z.mean() for z in zero],
            "reference": [MIXED_REF[k] for k in ks],
        }
    )
    plots.save_figure(
        plots.versus_figure(
            frame,
            "k",
            "training passes per tick k",
            "non-zero fixpoints of 10",
            "2019 code, 10 soups",
            f"{n_seeds} soups",
        ),
        frame,
        out,
        "mixed_soup",
    )
    common = dict(
        source="soup.md §7 (2019, 10 soups)",
        scale=f"{n_seeds} soups × 10",
        seeds=seeds_label(seed, n_seeds),
    )
    res = [
        Result(
            "mixed_soup",
            exp,
            f"non-zero fixpoints of 10 at tick 5, k = {k}",
            mean_sd(f),
            f"{MIXED_REF[k]:g}",
            **common,
        )
        for k, f in zip(ks, fix, strict=True)
    ]
    worst = max(range(len(ks)), key=lambda i: zero[i].mean())
    res.append(
        Result(
            "mixed_soup",
            exp,
            f"zero of 10 at tick 5, largest mean over k (k = {ks[worst]})",
            mean_sd(zero[worst]),
            "≤ 0.1",
            **common,
        )
    )
    return res


def row_learn_from(scale: str, seed: int, out: Path) -> list[Result]:
    """2019 learn-from soup: 10 × 10 particles, 100 ticks, severity sweep, no attack/training."""
    ref = {
        0: 0,
        10: 1.2,
        20: 5.2,
        30: 7.4,
        40: 8.1,
        50: 9.1,
        60: 9.6,
        70: 9.8,
        80: 10.0,
        90: 9.9,
        100: 9.9,
    }
    sev = [0, 20] if scale == "small" else list(ref)
    n_seeds = 3 if scale == "small" else 10
    exp = "learn-from soup 10 particles, 100 ticks, learn_from 0.1 (soup/learn-from-v1)"
    ours = []
    for k in sev:
        over = {"learn_from_severity": k} if k > 0 else {"learn_from_rate": 0.0}
        c = soup_counts("soup/learn-from-v1", range(seed, seed + n_seeds), [100], **over)
        ours.append(c[0, :, int(ParticleType.FIXPOINT)])
    frame = pd.DataFrame(
        {"severity": sev, "ours_mean": [o.mean() for o in ours], "reference": [ref[k] for k in sev]}
    )
    plots.save_figure(
        plots.versus_figure(
            frame,
            "severity",
            "learn-from severity",
            "non-zero fixpoints of 10",
            "2019 code, 10 soups",
        ),
        frame,
        out,
        "learn_from",
    )
    return [
        Result(
            "learn_from",
            exp,
            f"non-zero fixpoints of 10, severity {k}",
            mean_sd(o),
            f"{ref[k]:g}",
            "soup.md §7 (2019, 10 soups)",
            f"{n_seeds} soups × 10",
            seeds_label(seed, n_seeds),
        )
        for k, o in zip(sev, ours, strict=True)
    ]


SOUP_ROWS: dict[str, Callable[[str, int, Path], list[Result]]] = {
    "journal_soup": row_journal_soup,
    "alife2019_soup": row_alife2019_soup,
    "mixed_soup": row_mixed_soup,
    "learn_from": row_learn_from,
}
