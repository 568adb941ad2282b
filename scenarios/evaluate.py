"""``neurosoup evaluate``: deep re-evaluation of sampled genotypes of an evolution run.

A run records one training per individual, so every fitness it holds includes developmental
noise (the spread of one genotype's adult over independent inits). ``evaluate_run`` samples K
distinct living genotypes of one generation, trains each R times from fresh inits with the
run's own settings (``chemistry.evolution.run_job``, one stacked job per genotype when its net
is below ``stack_below`` parameters), and lets every adult replicate itself P times
(``--copies``): accuracy, fertility, mutations per copy and survival of the copies (decoded
program valid) per training. ``write_evaluation`` stores them as a plain HDF5 file
(``analysis.evolution.read_evaluation`` reads it):

* root attribute ``neurosoup_evaluation``: JSON (format, source file, generation, seed, K, R,
  copies, train steps, fertility exponent, the seeds' derivation);
* ``/samples``: one row per genotype (sample, id of its first carrier, packed genotype [13],
  carriers in the generation, recorded mean fertility and accuracy, n_params, α);
* ``/trainings``: one row per (sample, training): torch seed, accuracy, fertility F, copy error,
  mean mutations per copy, survival of the copies V, and W = V·F (the paper's fitness);
* ``/copies``: one row per copy: sample, training, copy, mutations, alive.

With ``pairs`` (``--pairs A:B …``) or ``top_k`` (``--top-k K``: every pair of the K sites whose
derived-allele frequency changed most over the run), also epistasis: a background genotype
(``--background ID``, default the commonest living genotype of the generation), its single
mutants (bit a flipped) and double mutants, each trained R times (``analysis.epistasis``):

* ``/mutants``: one row per mutant: mutant, site_a, site_b (−1: none; the background has both
  −1), packed genotype, alive (decoded program valid), n_params, α;
* ``/mutant_trainings``: one row per (living mutant, training): seed, accuracy, fertility,
  survival V and mutations per copy of its P copies, fitness W = V·F (evaluate format 2; format 1
  files have fertility only and their epistasis is on fertility).

Seeds: ``SeedSequence(seed).spawn(3)`` → the sampling stream, the training streams
(``spawn(K·R)``, training r of sample k at k·R + r) and the mutants' streams (``spawn(M·R)``,
likewise); each torch seed is recorded.
"""

from __future__ import annotations

import concurrent.futures as cf
import json
import os
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import torch

from neurosoup.analysis import open_run
from neurosoup.analysis.epistasis import all_pairs, epistasis, measures_of, top_sites
from neurosoup.analysis.epistasis import summary as epistasis_summary
from neurosoup.analysis.evolution import (
    EVALUATION_ATTR,
    EVALUATION_TABLES,
    Evaluation,
    Population,
    allele_frequencies,
    developmental_noise,
    evaluation_summary,
    population,
    read_evaluation,
)
from neurosoup.chemistry.evolution import EvolutionConfig, learn
from neurosoup.chemistry.executors import SerialExecutor
from neurosoup.particles import ConfigError
from neurosoup.particles.serann import default_ribosome
from neurosoup.particles.serann.genotype import N_BITS, pack, to_hex
from neurosoup.particles.serann.ir import Death

FORMAT = 2  # 2: W = V·F per training; mutants replicate (V, mutations per copy)
_MASK = (1 << 63) - 1


def _check_counts(sample: int, trainings: int, copies: int, epistasis: bool) -> None:
    if sample < (0 if epistasis else 1):
        raise ConfigError(f"--sample must be >= 1 (genotypes to re-evaluate; 0 with --pairs or "
                          f"--top-k), got {sample}")  # fmt: skip
    if trainings < 2:
        raise ConfigError(f"--trainings must be >= 2 (a variance needs two trainings), got "
                          f"{trainings}")  # fmt: skip
    if copies < 1:
        raise ConfigError(f"--copies must be >= 1, got {copies}")


def _open(path: str | Path, generation: int) -> tuple[EvolutionConfig, Population, Any]:
    """The run's config, its population and the living rows' frame of ``generation``."""
    with open_run(path) as run:
        if run.kind != "evolution":
            raise ConfigError(f"{path} is a {run.kind} run; evaluate needs an evolution run file")
        config = EvolutionConfig.from_dict(run.config)
        pop = population(run)
    gens = pop.generations
    if generation not in gens:
        raise ConfigError(f"generation {generation} is not in {path}; it holds generations "
                          f"{int(gens.min())}..{int(gens.max())}")  # fmt: skip
    rows = pop.rows_of(generation)
    if not pop.frame["alive"].to_numpy()[rows].any():
        raise ConfigError(f"generation {generation} of {path} has no living individual")
    return config, pop, rows[pop.frame["alive"].to_numpy()[rows]]


def _distinct(pop: Population, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct genotypes of ``rows`` in order of first carrier: first rows, inverse, counts."""
    _, first, inverse, counts = np.unique(pop.bits[rows], axis=0, return_index=True,
                                          return_inverse=True, return_counts=True)  # fmt: skip
    order = np.argsort(first)
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return rows[first[order]], rank[inverse.reshape(-1)], counts[order]


def _pick(pop: Population, rows: np.ndarray, sample: int, rng: np.random.Generator):
    """The chosen genotypes' bits [K, 100], their /samples rows and the distinct count."""
    firsts, which, _ = _distinct(pop, rows)
    live = pop.frame.iloc[rows]
    chosen = np.sort(rng.choice(len(firsts), min(sample, len(firsts)), replace=False))
    out: dict[str, list] = {k: [] for k in ("id", "n_carriers", "recorded_fertility",
                                            "recorded_accuracy", "n_params", "alpha")}  # fmt: skip
    for u in chosen:
        carriers = live[which == u]
        out["id"].append(int(carriers["id"].iloc[0]))
        out["n_carriers"].append(len(carriers))
        out["recorded_fertility"].append(float(carriers["fertility"].mean()))
        out["recorded_accuracy"].append(float(carriers["accuracy"].mean()))
        out["n_params"].append(int(carriers["n_params"].iloc[0]))
        out["alpha"].append(float(carriers["alpha"].iloc[0]))
    picked = pop.bits[firsts[chosen]].reshape(-1, N_BITS)
    samples = {k: np.asarray(v, np.int64 if k in ("id", "n_carriers", "n_params") else float)
               for k, v in out.items()}  # fmt: skip
    samples["sample"] = np.arange(len(picked), dtype=np.int64)
    samples["genotype"] = _packed(picked)
    return picked, samples, len(firsts)


def _train(config: EvolutionConfig, irs: list, bits: np.ndarray, seeds: np.ndarray, copies: int,
           device: str, executor: cf.Executor, progress: str | None = None,
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """R trainings of each of M genotypes (``None``/dead IRs skipped: NaN).

    bits: [M, 100], seeds: [M, R] → accuracy [M, R], copy error [M, R], copies [M, R, P, 100].
    """
    m, r = seeds.shape
    members = [None if isinstance(ir, Death) else ir for ir in irs for _ in range(r)]
    acc, cerr, made = learn(members, np.repeat(bits, r, 0), seeds.reshape(-1).tolist(), config,
                            copies, device, executor, progress)  # fmt: skip
    return acc.reshape(m, r), cerr.reshape(m, r), made.reshape(m, r, copies, N_BITS)


def _viable(config: EvolutionConfig, bits: np.ndarray) -> np.ndarray:
    """Whether each genotype [M, 100] decodes to a living program [M] (each text judged once)."""
    texts = default_ribosome().decode(torch.from_numpy(np.ascontiguousarray(bits)))
    verdict = {t: not isinstance(config.express(t), Death) for t in set(texts)}
    return np.array([verdict[t] for t in texts], bool)


def _replicas(config: EvolutionConfig, bits: np.ndarray,
              made: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Mutations [M, R, P] and viability [M, R, P] of the copies ``made`` of genotypes ``bits``."""
    m, r, p, _ = made.shape
    n_mut = (made != bits[:, None, None, :]).sum(-1).astype(np.int64)
    alive = _viable(config, made.reshape(-1, N_BITS)).reshape(m, r, p)
    return n_mut, alive


def _seeds(seq: np.random.SeedSequence, m: int, r: int) -> np.ndarray:
    """[m, r] torch seeds: ``seq.spawn(m·r)[i·r + j]`` → generate_state(1, uint64) & 2^63−1."""
    return np.array([int(s.generate_state(1, dtype=np.uint64)[0]) & _MASK
                     for s in seq.spawn(m * r)], np.int64).reshape(m, r)  # fmt: skip


def _packed(bits: np.ndarray) -> np.ndarray:
    """[M, 13] uint8 (also for M = 0)."""
    return pack(torch.from_numpy(bits)) if len(bits) else np.zeros((0, 13), np.uint8)


def _site_pair(pair: str | tuple[int, int]) -> tuple[int, int]:
    """``"A:B"`` or ``(A, B)`` → (A, B)."""
    if isinstance(pair, str):
        a, sep, b = pair.partition(":")
        if not sep or not a.strip().isdigit() or not b.strip().isdigit():
            raise ConfigError(f"{pair!r} is not a site pair; write A:B, e.g. --pairs 37:83 12:40")
        return int(a), int(b)
    a, b = pair
    return int(a), int(b)


def _check_pairs(pairs: list[str] | list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted distinct pairs (a < b) of sites in 0..99."""
    out = []
    for pair in pairs:
        a, b = _site_pair(pair)
        if not (0 <= a < N_BITS and 0 <= b < N_BITS) or a == b:
            raise ConfigError(f"site pair {a}:{b} is not two different sites in 0..{N_BITS - 1}")
        out.append((min(a, b), max(a, b)))
    return sorted(set(out))


def _background(pop: Population, rows: np.ndarray, background: int | None) -> int:
    """The row of the background individual: ``background`` (an id) or the commonest genotype."""
    if background is None:
        firsts, _, counts = _distinct(pop, rows)
        return int(firsts[int(np.argmax(counts))])
    hit = rows[pop.frame["id"].to_numpy()[rows] == background]
    if not len(hit):
        raise ConfigError(f"--background {background} is not a living individual of this "
                          "generation; pick one with `neurosoup analyse RUN lineage`")  # fmt: skip
    return int(hit[0])


def _mutants(base: np.ndarray, pairs: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """Background, single and double mutants: sites [M, 2] (−1: none) and bits [M, 100]."""
    singles = sorted({s for pair in pairs for s in pair})
    sites = [(-1, -1)] + [(s, -1) for s in singles] + list(pairs)
    bits = np.repeat(base[None, :], len(sites), 0)
    for i, pair in enumerate(sites):
        for s in pair:
            if s >= 0:
                bits[i, s] ^= 1
    return np.asarray(sites, np.int64).reshape(-1, 2), bits


def _epistasis_plan(config: EvolutionConfig, pop: Population, rows: np.ndarray, pairs,
                    top_k: int | None, background: int | None,
                    ) -> tuple[list[tuple[int, int]], int]:  # fmt: skip
    """The site pairs and the background row.

    ``pairs`` plus every pair of the ``top_k`` sites that changed frequency most among those
    whose single mutant of the background decodes to a living program (a pair of lethal singles
    has no defined ε).
    """
    pairs = _check_pairs(pairs or [])
    row = _background(pop, rows, background)
    if top_k is not None:
        flips = np.repeat(pop.bits[row][None, :], N_BITS, 0)
        flips[np.arange(N_BITS), np.arange(N_BITS)] ^= 1
        keep = _viable(config, flips)
        sites = top_sites(allele_frequencies(pop), top_k, keep=keep)
        pairs = sorted(set(pairs) | set(all_pairs(sites)))
    return pairs, row


def _epistasis(config: EvolutionConfig, pop: Population, pairs: list[tuple[int, int]], row: int,
               trainings: int, copies: int, seq: np.random.SeedSequence, dev: str,
               executor: cf.Executor, progress: bool = False,
               ) -> tuple[dict, dict, dict]:  # fmt: skip
    """Train the background (``row``) and its single and double mutants R times each.

    Returns the meta entry and the ``/mutants`` and ``/mutant_trainings`` columns.
    """
    sites, bits = _mutants(pop.bits[row], pairs)
    irs = [config.express(t) for t in default_ribosome().decode(torch.from_numpy(bits))]
    alive = np.array([not isinstance(ir, Death) for ir in irs])
    seeds = _seeds(seq, len(bits), trainings)
    acc, _, made = _train(config, irs, bits, seeds, copies, dev, executor,
                          "mutants" if progress else None)  # fmt: skip
    m = np.flatnonzero(alive)
    mutants = {
        "mutant": np.arange(len(bits)), "site_a": sites[:, 0], "site_b": sites[:, 1],
        "genotype": _packed(bits), "alive": alive,
        "n_params": np.array([0 if isinstance(ir, Death) else ir.total_params for ir in irs]),
        "alpha": np.array([np.nan if isinstance(ir, Death) else ir.alpha for ir in irs]),
    }  # fmt: skip
    fert = np.nan_to_num(acc[m]) ** config.fertility_exponent
    n_mut, viable = _replicas(config, bits[m], made[m])
    trained = {"mutant": np.repeat(m, trainings), "training": np.tile(np.arange(trainings), len(m)),
               "seed": seeds[m].reshape(-1), "accuracy": acc[m].reshape(-1),
               "fertility": fert.reshape(-1), "mutations": n_mut.mean(-1).reshape(-1),
               "survival": viable.mean(-1).reshape(-1),
               "fitness": (viable.mean(-1) * fert).reshape(-1)}  # fmt: skip
    meta = {"background_id": int(pop.frame["id"].iloc[row]),
            "background_hex": to_hex(torch.from_numpy(pop.bits[row : row + 1]))[0],
            "pairs": [list(p) for p in pairs]}  # fmt: skip
    return meta, mutants, trained


def evaluate_run(
    path: str | Path,
    generation: int,
    sample: int,
    trainings: int,
    *,
    copies: int = 20,
    seed: int = 0,
    train_steps: int | None = None,
    device: str | None = None,
    executor: cf.Executor | None = None,
    pairs: list[str] | list[tuple[int, int]] | None = None,
    top_k: int | None = None,
    background: int | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Re-train K sampled genotypes of ``generation`` R times each; replicate every adult.

    With ``pairs`` (``"A:B"`` strings or (A, B) tuples) or ``top_k``, also the background's
    single and double mutants (epistasis).
    ``progress``: tqdm bars over the trainings (on a terminal).
    Returns ``{"meta": dict, "samples": cols, "trainings": cols, "copies": cols}`` (+
    ``mutants`` and ``mutant_trainings``; columns as arrays; see the module docstring). Bad
    input raises ``ConfigError``.
    """
    epistasis = bool(pairs) or top_k is not None
    _check_counts(sample, trainings, copies, epistasis)
    sample_seq, train_seq, mutant_seq = np.random.SeedSequence(seed).spawn(3)
    config, pop, rows = _open(path, generation)
    if epistasis:  # checked before anything trains
        plan = _epistasis_plan(config, pop, rows, pairs, top_k, background)
    picked, samples, n_distinct = _pick(pop, rows, sample, np.random.default_rng(sample_seq))
    if train_steps is not None:
        config = config.replace(train_steps=train_steps)
    k, r = picked.shape[0], trainings
    seeds = _seeds(train_seq, k, r)
    dev = device or ("cuda" if torch.cuda.is_available() else "cpu")
    irs = [config.express(t) for t in default_ribosome().decode(torch.from_numpy(picked))]
    for i, ir in enumerate(irs):
        if isinstance(ir, Death):  # cannot happen for a recorded living genotype
            raise ConfigError(f"sample {i} (id {samples['id'][i]}) decodes to a dead program")
    pool = executor or SerialExecutor()
    acc, cerr, made = _train(config, irs, picked, seeds, copies, dev, pool,
                             "trainings" if progress else None)  # fmt: skip
    fert = np.nan_to_num(acc) ** config.fertility_exponent
    n_mut, alive = _replicas(config, picked, made)
    kk, rr, cc = np.meshgrid(np.arange(k), np.arange(r), np.arange(copies), indexing="ij")
    meta = {
        "format": FORMAT, "source": str(path), "generation": int(generation), "seed": int(seed),
        "sample": int(sample), "n_sampled": int(k), "n_distinct": int(n_distinct),
        "trainings": int(r), "copies": int(copies), "train_steps": int(config.train_steps),
        "fertility_exponent": float(config.fertility_exponent), "device": dev,
        "seeds": "SeedSequence(seed).spawn(3): [0] picks the genotypes, [1].spawn(K*R)[k*R+r] "
                 "seeds training r of sample k, [2].spawn(M*R)[m*R+r] training r of mutant m "
                 "(torch seed = generate_state(1, uint64) & 2^63-1)",
    }  # fmt: skip
    result = {
        "meta": meta, "samples": samples,
        "trainings": {
            "sample": np.repeat(np.arange(k), r), "training": np.tile(np.arange(r), k),
            "seed": seeds.reshape(-1), "accuracy": acc.reshape(-1),
            "fertility": fert.reshape(-1), "copy_error": cerr.reshape(-1),
            "mutations": n_mut.mean(-1).reshape(-1), "survival": alive.mean(-1).reshape(-1),
            "fitness": (alive.mean(-1) * fert).reshape(-1),
        },
        "copies": {"sample": kk.reshape(-1), "training": rr.reshape(-1), "copy": cc.reshape(-1),
                   "n_mutations": n_mut.reshape(-1), "alive": alive.reshape(-1)},
    }  # fmt: skip
    if epistasis:
        meta["epistasis"], result["mutants"], result["mutant_trainings"] = _epistasis(
            config, pop, *plan, r, copies, mutant_seq, dev, pool, progress)
        meta["epistasis"]["top_k"] = top_k
    return result


def write_evaluation(result: dict[str, Any], out: str | Path, *, overwrite: bool = False) -> None:
    """Write ``evaluate_run`` output as a plain HDF5 file (written aside, then renamed)."""
    out = Path(out)
    if out.exists() and not overwrite:
        raise ConfigError(f"{out} exists; pass --overwrite to replace it or choose another --out")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    with h5py.File(tmp, "w") as f:
        f.attrs[EVALUATION_ATTR] = json.dumps(result["meta"], sort_keys=True)
        for name in EVALUATION_TABLES:
            if name not in result:
                continue
            group = f.create_group(name)
            for col, values in result[name].items():
                group.create_dataset(col, data=np.asarray(values))
    os.replace(tmp, out)


def summary_text(path: str | Path) -> str:
    """The printed tables: per genotype mean ± sd and the noise shares; then epistasis pairs."""
    ev = read_evaluation(path)
    m = ev.meta
    asked = f" (asked {m['sample']})" if m["sample"] > m["n_sampled"] else ""
    lines = [f"{m['source']} generation {m['generation']}: {m['n_sampled']}{asked} of "
             f"{m['n_distinct']} distinct living genotypes × {m['trainings']} trainings "
             f"({m['train_steps']} steps) "
             f"× {m['copies']} copies, seed {m['seed']} → {path}"]  # fmt: skip
    if len(ev.samples):
        lines += _noise_lines(ev)
    if ev.mutants is not None:
        lines += _epistasis_lines(ev)
    return "\n".join(lines)


def _noise_lines(ev: Evaluation) -> list[str]:
    table = evaluation_summary(ev)
    measures = [k for k in ("accuracy", "fertility", "survival", "fitness", "mutations")
                if f"{k}_mean" in table]  # fmt: skip
    names = {"fertility": "F", "survival": "V", "fitness": "W = V·F", "mutations": "mutations/copy"}
    lines = [f"{'id':>6} {'carriers':>8} {'recorded F':>10}  "
             + "  ".join(f"{names.get(k, k):>15}" for k in measures)]  # fmt: skip
    for _, row in table.iterrows():
        cells = [f"{row[f'{k}_mean']:.3f} ± {row[f'{k}_sd']:.3f}" for k in measures]
        lines.append(f"{int(row['id']):>6} {int(row['n_carriers']):>8} "
                     f"{row['recorded_fertility']:>10.3f}  " + "  ".join(f"{c:>15}" for c in cells))
    noise = developmental_noise(ev)
    shares = ", ".join(f"{k} {noise.loc[k, 'share']:.2f}" for k in noise.index)
    fert = noise.loc["fertility"]
    lines.append(f"developmental-noise share (SS within genotypes / SS total): {shares}")
    lines.append(f"fertility: corr(variance, mean) {fert['corr_var_fitness']:.2f}, "
                 f"corr(recorded, re-evaluated mean) {fert['corr_recorded']:.2f}")
    return lines


def _epistasis_lines(ev: Evaluation) -> list[str]:
    lines: list[str] = []
    for measure in measures_of(ev):
        lines += _epistasis_measure(ev, measure)
    return lines


def _epistasis_measure(ev: Evaluation, measure: str) -> list[str]:
    e = ev.meta["epistasis"]
    pairs = epistasis(ev, measure=measure)
    counts = epistasis_summary(pairs)
    what = {"fitness": "W = V·F", "fertility": "W = fertility",
            "mutations": "the mutation rate (mutations per copy)"}[measure]  # fmt: skip
    lines = [f"epistasis on {what}, background id {e['background_id']} "
             f"({e['background_hex']}), mean over {ev.meta['trainings']} trainings (0: dead "
             "program), flags at 2 standard errors:",
             f"{'a':>3} {'b':>3} {'W0':>6} {'Wa':>6} {'Wb':>6} {'Wab':>6} {'epsilon':>15}  kind"]
    for _, row in pairs.iterrows():
        eps = ("undefined" if np.isnan(row["epsilon"])
               else f"{row['epsilon']:+.3f} ± {row['se_epsilon']:.3f}")  # fmt: skip
        lines.append(f"{row['site_a']:>3} {row['site_b']:>3} {row['w0']:>6.3f} {row['wa']:>6.3f} "
                     f"{row['wb']:>6.3f} {row['wab']:>6.3f} {eps:>15}  {row['kind']}")
    lines.append(f"{counts['pairs']} pairs: {counts['defined']} with ε defined, "
                 f"{counts['significant']} significant, {counts['sign_epistasis']} sign "
                 f"epistasis ({counts['reciprocal']} reciprocal), {counts['synthetic_lethal']} "
                 "synthetic lethal")  # fmt: skip
    return lines
