"""SeRANN evolution: seconds per generation, grouped (stacked) vs one by one, peak RSS.

One generation = expression, juvenile learning of every living individual with the default
(calibrated) budget, evaluation, Wright–Fisher and replication. Each row times the first
generations of the same population (same seed) with a different schedule:
``grouped`` (every architecture group stacked under vmap), ``alone`` (one individual at a time,
in-process), ``process`` (one at a time on a pool of 1-thread worker processes). Founders
``ancestor`` (one architecture: stacking's best case) and ``corpus`` (mostly distinct
architectures). Peak RSS of this process (and, for ``process``, of its workers).

    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python benchmarks/serann.py --population 64
    .venv/bin/python benchmarks/serann.py --device cuda      # the same table on a GPU
"""

from __future__ import annotations

import argparse
import resource
import time

import torch

from neurosoup.chemistry.evolution import Evolution, EvolutionConfig

MODES = {
    "grouped": {"stack_below": 10**9},
    "alone": {"stack_below": 0},
    "process": {"stack_below": 0, "executor": "process", "workers": 2},
}


def _rss_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--population", type=int, default=64)
    parser.add_argument("--generations", type=int, default=2)
    parser.add_argument("--founders", default="ancestor,corpus")
    parser.add_argument("--modes", default="grouped,alone,process")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"N = {args.population}, {args.generations} generations, device {args.device}, "
          f"torch threads {torch.get_num_threads()}")  # fmt: skip
    print("| founders | schedule | s / generation (each) | mean fitness | mutation rate | "
          "architectures | peak RSS MB (self / workers) |")
    print("|---|---|---|---|---|---|---|")
    for founders in args.founders.split(","):
        for mode in args.modes.split(","):
            if mode == "process" and args.device != "cpu":
                continue
            cfg = EvolutionConfig(population=args.population, founders=founders,
                                  steps=args.generations, **MODES[mode])  # fmt: skip
            model = Evolution(cfg, seed=0, device=args.device)
            times = []
            start = time.perf_counter()
            model.observables  # noqa: B018 - develops generation 0
            times.append(time.perf_counter() - start)
            for _ in range(args.generations - 1):
                if model.stop_reason:
                    break
                start = time.perf_counter()
                model.step()
                times.append(time.perf_counter() - start)
            obs = model.observables
            model.close()
            each = ", ".join(f"{t:.1f}" for t in times)
            print(f"| {founders} | {mode} | {sum(times) / len(times):.1f} ({each}) | "
                  f"{obs['mean_fitness']:.3f} | {obs['mutation_rate']:.2f} | "
                  f"{int(obs['n_architectures'])} | {_rss_mb(resource.RUSAGE_SELF):.0f} / "
                  f"{_rss_mb(resource.RUSAGE_CHILDREN):.0f} |", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
