"""``make demo``: a small, real demonstration of what neurosoup does today.

30 random 4-2-1 particles self-train for 2,000 steps at lr 0.04; the demo prints how many
became ε-fixpoints, zero, divergent, second-order or other, beside the reference figure.
"""

from __future__ import annotations

import time

import torch

from neurosoup.particles import ParticleSpec, classify, count_types, replication_stats
from neurosoup.particles import self_train_step as train_step


def self_training_demo(n: int = 30, steps: int = 2000, lr: float = 0.04, seed: int = 0) -> None:
    """Print the type counts of ``n`` particles after ``steps`` self-train steps."""
    spec = ParticleSpec()
    w = spec.init(n, torch.Generator().manual_seed(seed))
    t0 = time.perf_counter()
    for _ in range(steps):
        w, _, _ = train_step(spec, w, lr)
    elapsed = time.perf_counter() - t0
    counts = count_types(classify(spec, w))
    r2 = replication_stats(spec, w)["r2"]
    print(
        f"{n} random {spec.name} particles, {steps} self-train steps at lr {lr} "
        f"(seed {seed}, {elapsed:.1f} s):"
    )
    for label, count in counts.items():
        print(f"  {label:<13} {count:>3}")
    print(f"  median replication R² {float(r2.median()):.10f}")
    print(
        "reference (journal-era code, 30 nets, 2,000 steps): 25/30 fixpoints, 5 other;"
        " 10 seeds: 27.8 ± 1.4"
    )


def main() -> None:
    """Run every demo."""
    self_training_demo()


if __name__ == "__main__":
    main()
