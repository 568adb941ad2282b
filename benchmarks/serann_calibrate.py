"""Calibrate the SeRANN ancestor: mutations per replication over independent trainings.

Candidates are held-out corpus genotypes whose *decoded* program is valid (cap 2·10⁵), has a
one-layer trunk (one ``con = Dense(...)`` line) and α in [0.3, 0.5] (science/serann.md,
"Calibration facts"). Each candidate is trained ``--trainings`` times from independent inits and
batches (the model's own member drawing) at each (lr, steps) setting, then copies its own
genotype P = 10 times (each copy paired with a different test image, outputs thresholded at
0.5). Per training: mean mutations per copy (Hamming distance to the parent), share of copies
that decode to a valid program, held-out accuracy. A candidate qualifies when every training
makes 1–6 mean mutations and the mean viable share is ≥ 0.8; the cheapest qualifying
(parameters × steps) is proposed.

    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python benchmarks/serann_calibrate.py \
        --candidates 8 --trainings 5 --json calibration.json
    # the shipped ancestor's rows (held-out #180 and the science doc's recipes):
    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python benchmarks/serann_calibrate.py \
        --include 180,280,23 --trainings 5
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from neurosoup.chemistry.evolution import load_task_tensors
from neurosoup.particles.serann import corpus_genotypes, default_ribosome, interpret, to_hex
from neurosoup.particles.serann.genotype import hamming
from neurosoup.particles.serann.ir import Death
from neurosoup.particles.serann.train import TrainSettings, draw_member, train_group

SETTINGS = ((1e-3, 800), (3e-3, 400), (3e-3, 600))


def candidates(n: int, max_params: int, include: tuple[int, ...] = ()) -> list[tuple[int, str]]:
    """Distinct held-out programs meeting the criteria, spread over parameter counts.

    ``include``: held-out rows to take instead (when given, ``n`` is ignored).
    """
    ribo = default_ribosome()
    held = corpus_genotypes(held_out=True)
    seen, out = set(), []
    for i, text in enumerate(ribo.decode(held)):
        ir = interpret(text)
        if isinstance(ir, Death) or not 0.3 <= ir.alpha <= 0.5 or text.count("con = Dense") != 1:
            continue
        if "con = BatchNormalization" in text or ir.total_params > max_params or text in seen:
            continue
        seen.add(text)
        out.append((i, text))
    if include:
        return [c for c in out if c[0] in include]
    out.sort(key=lambda c: interpret(c[1]).total_params)
    pick = np.unique(np.linspace(0, len(out) - 1, min(n, len(out))).round().astype(int))
    return [out[j] for j in pick]


def main() -> None:
    """Run the calibration grid and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--candidates", type=int, default=8)
    parser.add_argument("--trainings", type=int, default=5)
    parser.add_argument("--max-params", type=int, default=120_000)
    parser.add_argument("--include", default="", help="held-out rows, e.g. 180,280")
    parser.add_argument("--settings", default="",
                        help="lr:steps pairs, e.g. 1e-3:800,3e-3:400 (default: the grid)")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)
    ribo = default_ribosome()
    held = corpus_genotypes(held_out=True)
    task = load_task_tensors("digits")
    sizes = (task.train_images.shape[0], task.copy_genotypes.shape[0], task.test_images.shape[0])
    rows = []
    print("| held-out # | params | α | lr | steps | mutations per copy (mean, min–max of 5) "
          "| viable | accuracy | s/training |")
    print("|---|---|---|---|---|---|---|---|---|")
    include = tuple(int(i) for i in args.include.split(",") if i)
    for index, text in candidates(args.candidates, args.max_params, include):
        ir = interpret(text)
        own = held[index]
        grid = [(float(a), int(b)) for a, b in (x.split(":") for x in args.settings.split(",")
                                                 if x)] or SETTINGS  # fmt: skip
        for lr, steps in grid:
            settings = TrainSettings(steps=steps, lr=lr)
            muts, viable, acc, secs = [], [], [], []
            for t in range(args.trainings):
                gen = torch.Generator().manual_seed(1000 * index + t)
                member = draw_member(ir, own, gen, settings, sizes, 10)
                start = time.perf_counter()
                adult = train_group([member], task, settings)
                secs.append(time.perf_counter() - start)
                copies = adult.copies[0]
                muts.append(float(hamming(copies, own).float().mean()))
                viable.append(float(np.mean([not isinstance(interpret(c), Death)
                                             for c in ribo.decode(copies)])))  # fmt: skip
                acc.append(float(adult.accuracy[0]))
            row = {"index": index, "hex": to_hex(own)[0], "params": ir.total_params,
                   "alpha": ir.alpha, "lr": lr, "steps": steps, "mutations": muts,
                   "viable": viable, "accuracy": acc, "seconds": float(np.mean(secs)),
                   "program": text}  # fmt: skip
            row["qualifies"] = bool(min(muts) >= 1 and max(muts) <= 6 and np.mean(viable) >= 0.8)
            rows.append(row)
            print(f"| {index} | {ir.total_params} | {ir.alpha:.4f} | {lr:g} | {steps} | "
                  f"{np.mean(muts):.2f} ({min(muts):.1f}–{max(muts):.1f}) | "
                  f"{np.mean(viable):.2f} | {np.mean(acc):.3f} | {np.mean(secs):.2f} |"
                  f"{' ✓' if row['qualifies'] else ''}", flush=True)  # fmt: skip
    good = [r for r in rows if r["qualifies"]]
    if good:
        best = min(good, key=lambda r: (r["params"] * r["steps"], abs(np.mean(r["mutations"]) - 3)))
        print(f"\nproposed ancestor: held-out #{best['index']} hex {best['hex']} "
              f"lr {best['lr']:g} steps {best['steps']}\n{best['program']}")  # fmt: skip
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
