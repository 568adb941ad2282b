"""Reproduction row of ``science/particles.md`` §6 "soup basins": noisy clones in a soup.

Protocol (journal code, SGD lr 0.04): 3 parents self-trained 1,500 steps; 5 clones per parent
with ``uniform_sign`` noise σ = 10^−k, k ∈ {2, 3, 4}; for each σ the 15 clones run as a journal
soup for one tick (attack ``single(0.1)``, then 1,500 self-train steps). Per clone we record
MAE (and MIM) to its parent before (after noise) and after the tick; rel = MAE_pre − MAE_post
(not divided by σ): > 0 approaching, < 0 distancing, = 0 stationary, NaN diverged.

The parent is the trained parent as it was when cloned: it is not part of the soup and is not
trained further. The clones enter the soup through ``soup.store.set_weights`` on the initial
population's slots right after construction, before the first tick; the tick-0 observables
the soup had already collected describe the discarded random initial weights and are unused.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from neurosoup.analysis import plots
from neurosoup.analysis.robustness import add_noise, movement_direction, one_thread, train
from neurosoup.analysis.soup import distances
from neurosoup.chemistry.catalogue import BUILT_INS
from neurosoup.particles import ParticleType, classify

from .common import Result, init_particles, seeds_label

SCENARIO = "soup/journal-v1"
SIGMAS = (1e-2, 1e-3, 1e-4)
N_PARENTS, N_CLONES = 3, 5
NOISE_SEED_OFFSET = 1_000_003  # the noise stream of seed s, apart from the parents' init stream


def soup_basin_clones(seeds: range, steps: int = 1500) -> pd.DataFrame:
    """Run the soup-basins protocol once per seed; one row per clone.

    Args:
        seeds: one run per seed (parents' init and the soup use seed s, the noise seed
            s + ``NOISE_SEED_OFFSET``; the soups of the three σ share seed s, so any attack
            hits the same pair of slots).
        steps: self-train steps of the parents and of the soup's one tick.

    Returns: seed, sigma, parent, clone, parent_fixpoint, attacked, mae_pre, mae_post,
    mim_pre, mim_post, rel, direction (``len(seeds)·3·N_PARENTS·N_CLONES`` rows).
    """
    from neurosoup.scenarios.registry import make
    from neurosoup.scenarios.registry import spec as scenario_spec

    over = {"n_particles": N_PARENTS * N_CLONES, "steps": 1, "train_steps": steps}
    config = scenario_spec(SCENARIO).resolve(**over)
    pspec = config.particle
    parents = train(pspec, init_particles(pspec, N_PARENTS, seeds), steps, config.lr)
    with one_thread():
        fix = classify(pspec, parents, config.epsilon, strict=config.strict)
    fix = (fix == int(ParticleType.FIXPOINT)).reshape(len(seeds), N_PARENTS)  # [S, 3]
    parents = parents.reshape(len(seeds), N_PARENTS, -1)  # [S, 3, P]
    idx = torch.arange(N_PARENTS).repeat_interleave(N_CLONES)  # [15] parent of each clone
    attack = BUILT_INS["attack"].code
    frames = []
    for i, s in enumerate(seeds):
        gen = torch.Generator().manual_seed(s + NOISE_SEED_OFFSET)
        par = parents[i][idx]  # [15, P]
        for sigma in SIGMAS:
            kids = add_noise(par, sigma, gen, "uniform_sign")  # [15, P]
            soup = make(SCENARIO, seed=s, **over)
            slots = soup.store.alive_slots()
            uids = soup.store.uid[slots].clone()
            soup.store.set_weights(slots, kids)  # before tick 1: the clones are the soup
            with one_thread():
                soup.run(1, progress=False, threads=None)
            if not torch.equal(soup.store.uid[slots], uids):
                raise RuntimeError("soup basins: a clone was replaced during the tick")
            post = soup.store.weights[slots].to(par.dtype)  # [15, P]
            hit = [ev.changed[ev.applied] for ev in soup.last_events if ev.operator == attack]
            attacked = (
                torch.isin(uids, torch.cat(hit)) if hit else torch.zeros(len(uids), dtype=bool)
            )
            row = {
                "seed": s,
                "sigma": sigma,
                "parent": idx.numpy(),
                "clone": np.tile(np.arange(N_CLONES), N_PARENTS),
                "parent_fixpoint": fix[i][idx].numpy(),
                "attacked": attacked.numpy(),
            }
            for m in ("mae", "mim"):
                row[f"{m}_pre"] = distances(kids.numpy(), par.numpy(), m)
                row[f"{m}_post"] = distances(post.numpy(), par.numpy(), m)
            frames.append(pd.DataFrame(row))
    table = pd.concat(frames, ignore_index=True)
    table["rel"] = table["mae_pre"] - table["mae_post"]
    table["direction"] = movement_direction(table["rel"])
    return table


def row_soup_basins(scale: str, seed: int, out: Path) -> list[Result]:
    """particles.md §6 soup basins: clone directions and distances to the parent per σ.

    Small scale: 2 runs; paper: 10 runs (each run: 3 parents × 5 clones × 3 σ, 1,500 steps).
    The protocol does not require fixpoint parents; a parent that is no ε-fixpoint after its
    1,500 steps would itself move on, so the direction counts are also given for the clones
    of ε-fixpoint parents only.
    """
    n_seeds = 2 if scale == "small" else 10
    steps = 1500
    table = soup_basin_clones(range(seed, seed + n_seeds), steps)
    plots.save_figure(
        plots.basin_figure(table, title="Soup basins: clone MAE to parent"),
        table,
        out,
        "soup_basins",
    )
    n = N_PARENTS * N_CLONES * n_seeds
    exp = (
        f"soup basins: 3 parents × 5 clones (uniform_sign σ), one journal tick "
        f"(attack 10 %, {steps} steps, {SCENARIO})"
    )
    common = dict(
        source="particles.md §6 (journal code, qualitative)",
        scale=f"{n_seeds} runs × 15 clones per σ, {steps} steps",
        seeds=seeds_label(seed, n_seeds),
    )
    res = []
    for sigma in SIGMAS:
        part = table[table["sigma"] == sigma]
        dirs = ("approaching", "distancing", "stationary", "diverged")
        c = part["direction"].value_counts()
        cf = part[part["parent_fixpoint"]]["direction"].value_counts()
        res.append(
            Result(
                "soup_basins",
                exp,
                f"clones approaching / distancing / stationary / diverged of {n} (σ = {sigma:.0e})"
                "; in brackets the clones of ε-fixpoint parents",
                " / ".join(str(int(c.get(d, 0))) for d in dirs)
                + f" ({' / '.join(str(int(cf.get(d, 0))) for d in dirs)})",
                "slight movement towards the parent",
                **common,
            )
        )
        pre, post = part["mae_pre"].median(), part["mae_post"].median()
        res.append(
            Result(
                "soup_basins",
                exp,
                f"median MAE to parent before → after (σ = {sigma:.0e})",
                f"{pre:.2e} → {post:.2e} (×{post / pre:.2f})",
                "clones do not return to the parent's fixpoint",
                **common,
            )
        )
    first = table[table["sigma"] == SIGMAS[0]]
    n_fix = int(first.drop_duplicates(["seed", "parent"])["parent_fixpoint"].sum())
    n_hit = int(table.groupby(["seed", "sigma"])["attacked"].any().sum())
    res.append(
        Result(
            "soup_basins",
            exp,
            f"parents that are ε-fixpoints of {N_PARENTS * n_seeds}; "
            f"soups with an attack of {len(SIGMAS) * n_seeds}",
            f"{n_fix}; {n_hit}",
            "protocol: trained parents; attack chance 10 % per soup",
            **common,
        )
    )
    return res


BASIN_ROWS: dict[str, Callable[[str, int, Path], list[Result]]] = {
    "soup_basins": row_soup_basins,
}
