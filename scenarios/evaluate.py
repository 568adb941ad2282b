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
* ``/trainings``: one row per (sample, training): torch seed, accuracy, fertility, copy error,
  mean mutations per copy, survival of the copies;
* ``/copies``: one row per copy: sample, training, copy, mutations, alive.

Seeds: ``SeedSequence(seed).spawn(2)`` → the sampling stream and the training streams
(``spawn(K·R)``, training r of sample k at k·R + r); each torch seed is recorded.
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
from neurosoup.analysis.evolution import (
    EVALUATION_ATTR,
    developmental_noise,
    evaluation_summary,
    population,
    read_evaluation,
)
from neurosoup.chemistry.evolution import EvolutionConfig, InlineExecutor, Job, run_job
from neurosoup.particles import ConfigError
from neurosoup.particles.serann import default_ribosome
from neurosoup.particles.serann.genotype import N_BITS, pack
from neurosoup.particles.serann.ir import Death

FORMAT = 1
_MASK = (1 << 63) - 1


def _check_counts(sample: int, trainings: int, copies: int) -> None:
    if sample < 1:
        raise ConfigError(f"--sample must be >= 1 (genotypes to re-evaluate), got {sample}")
    if trainings < 2:
        raise ConfigError(f"--trainings must be >= 2 (a variance needs two trainings), got "
                          f"{trainings}")  # fmt: skip
    if copies < 1:
        raise ConfigError(f"--copies must be >= 1, got {copies}")


def _pick(path: str | Path, generation: int, sample: int, rng: np.random.Generator):
    """Config, the chosen genotypes' bits [K, 100] and their /samples rows."""
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
    frame = pop.frame.iloc[rows]
    alive = frame["alive"].to_numpy()
    if not alive.any():
        raise ConfigError(f"generation {generation} of {path} has no living individual")
    bits = pop.bits[rows][alive]
    live = frame[alive]
    _, first, inverse = np.unique(bits, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    order = np.argsort(first)  # genotypes in order of their first carrier
    chosen = np.sort(rng.choice(len(order), min(sample, len(order)), replace=False))
    out: dict[str, list] = {k: [] for k in ("id", "n_carriers", "recorded_fertility",
                                            "recorded_accuracy", "n_params", "alpha")}  # fmt: skip
    for u in order[chosen]:
        carriers = live[inverse == u]
        out["id"].append(int(carriers["id"].iloc[0]))
        out["n_carriers"].append(len(carriers))
        out["recorded_fertility"].append(float(carriers["fertility"].mean()))
        out["recorded_accuracy"].append(float(carriers["accuracy"].mean()))
        out["n_params"].append(int(carriers["n_params"].iloc[0]))
        out["alpha"].append(float(carriers["alpha"].iloc[0]))
    picked = bits[first[order[chosen]]]
    samples = {k: np.asarray(v) for k, v in out.items()}
    samples["sample"] = np.arange(len(picked), dtype=np.int64)
    samples["genotype"] = pack(torch.from_numpy(picked))
    return config, picked, samples, len(order)


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
) -> dict[str, Any]:
    """Re-train K sampled genotypes of ``generation`` R times each; replicate every adult.

    Returns ``{"meta": dict, "samples": cols, "trainings": cols, "copies": cols}`` (columns as
    arrays; see the module docstring). Bad input raises ``ConfigError``.
    """
    _check_counts(sample, trainings, copies)
    sample_seq, train_seq = np.random.SeedSequence(seed).spawn(2)
    config, picked, samples, n_distinct = _pick(path, generation, sample,
                                                np.random.default_rng(sample_seq))  # fmt: skip
    if train_steps is not None:
        config = config.replace(train_steps=train_steps)
    k, r = picked.shape[0], trainings
    seeds = np.array([int(s.generate_state(1, dtype=np.uint64)[0]) & _MASK
                      for s in train_seq.spawn(k * r)], np.int64).reshape(k, r)  # fmt: skip
    dev = device or ("cuda" if torch.cuda.is_available() else "cpu")
    ribo = default_ribosome()
    irs = [config.express(t) for t in ribo.decode(torch.from_numpy(picked))]
    jobs = []
    for i, ir in enumerate(irs):
        if isinstance(ir, Death):  # cannot happen for a recorded living genotype
            raise ConfigError(f"sample {i} (id {samples['id'][i]}) decodes to a dead program")
        stacked = ir.total_params < config.stack_below
        parts = [list(range(r))] if stacked else [[j] for j in range(r)]
        for part in parts:
            job = Job((ir,) * len(part), np.repeat(picked[i : i + 1], len(part), 0),
                      tuple(int(s) for s in seeds[i, part]), config.train_settings, copies,
                      config.task, config.dtype, dev, stacked)  # fmt: skip
            jobs.append((i, part, job))
    pool = executor or InlineExecutor()
    futures = [(i, part, pool.submit(run_job, job)) for i, part, job in jobs]
    acc, cerr = np.full((k, r), np.nan), np.full((k, r), np.nan)
    made = np.zeros((k, r, copies, N_BITS), np.uint8)
    for i, part, future in futures:
        a, e, c = future.result()
        acc[i, part], cerr[i, part], made[i, part] = a, e, c
    fert = np.nan_to_num(acc) ** config.fertility_exponent
    n_mut = (made != picked[:, None, None, :]).sum(-1).astype(np.int64)
    texts = ribo.decode(torch.from_numpy(made.reshape(-1, N_BITS)))
    verdict: dict[str, bool] = {}
    for t in set(texts):
        verdict[t] = not isinstance(config.express(t), Death)
    alive = np.array([verdict[t] for t in texts]).reshape(k, r, copies)
    kk, rr, cc = np.meshgrid(np.arange(k), np.arange(r), np.arange(copies), indexing="ij")
    meta = {
        "format": FORMAT, "source": str(path), "generation": int(generation), "seed": int(seed),
        "sample": int(sample), "n_sampled": int(k), "n_distinct": int(n_distinct),
        "trainings": int(r), "copies": int(copies), "train_steps": int(config.train_steps),
        "fertility_exponent": float(config.fertility_exponent), "device": dev,
        "seeds": "SeedSequence(seed).spawn(2): [0] picks the genotypes, [1].spawn(K*R)[k*R+r] "
                 "seeds training r of sample k (torch seed = generate_state(1, uint64) & 2^63-1)",
    }  # fmt: skip
    trainings_cols = {
        "sample": np.repeat(np.arange(k), r), "training": np.tile(np.arange(r), k),
        "seed": seeds.reshape(-1), "accuracy": acc.reshape(-1), "fertility": fert.reshape(-1),
        "copy_error": cerr.reshape(-1), "mutations": n_mut.mean(-1).reshape(-1),
        "survival": alive.mean(-1).reshape(-1),
    }  # fmt: skip
    copies_cols = {"sample": kk.reshape(-1), "training": rr.reshape(-1), "copy": cc.reshape(-1),
                   "n_mutations": n_mut.reshape(-1), "alive": alive.reshape(-1)}  # fmt: skip
    return {"meta": meta, "samples": samples, "trainings": trainings_cols, "copies": copies_cols}


def write_evaluation(result: dict[str, Any], out: str | Path, *, overwrite: bool = False) -> None:
    """Write ``evaluate_run`` output as a plain HDF5 file (written aside, then renamed)."""
    out = Path(out)
    if out.exists() and not overwrite:
        raise ConfigError(f"{out} exists; pass --overwrite to replace it or choose another --out")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    with h5py.File(tmp, "w") as f:
        f.attrs[EVALUATION_ATTR] = json.dumps(result["meta"], sort_keys=True)
        for name in ("samples", "trainings", "copies"):
            group = f.create_group(name)
            for col, values in result[name].items():
                group.create_dataset(col, data=np.asarray(values))
    os.replace(tmp, out)


def summary_text(path: str | Path) -> str:
    """The printed table: per genotype mean ± sd over trainings, then the noise shares."""
    ev = read_evaluation(path)
    table = evaluation_summary(ev)
    m = ev.meta
    asked = f" (asked {m['sample']})" if m["sample"] > m["n_sampled"] else ""
    lines = [f"{m['source']} generation {m['generation']}: {m['n_sampled']}{asked} of "
             f"{m['n_distinct']} distinct living genotypes × {m['trainings']} trainings "
             f"({m['train_steps']} steps) "
             f"× {m['copies']} copies, seed {m['seed']} → {path}",
             f"{'id':>6} {'carriers':>8} {'recorded F':>10}  {'accuracy':>15}  {'fertility':>15}"
             f"  {'mutations/copy':>15}  {'survival':>15}"]  # fmt: skip
    for _, row in table.iterrows():
        cells = [f"{row[f'{k}_mean']:.3f} ± {row[f'{k}_sd']:.3f}" for k in
                 ("accuracy", "fertility", "mutations", "survival")]  # fmt: skip
        lines.append(f"{int(row['id']):>6} {int(row['n_carriers']):>8} "
                     f"{row['recorded_fertility']:>10.3f}  " + "  ".join(f"{c:>15}" for c in cells))
    noise = developmental_noise(ev)
    shares = ", ".join(f"{k} {noise.loc[k, 'share']:.2f}" for k in noise.index)
    fert = noise.loc["fertility"]
    lines.append(f"developmental-noise share (SS within genotypes / SS total): {shares}")
    lines.append(f"fertility: corr(variance, mean) {fert['corr_var_fitness']:.2f}, "
                 f"corr(recorded, re-evaluated mean) {fert['corr_recorded']:.2f}")
    return "\n".join(lines)
