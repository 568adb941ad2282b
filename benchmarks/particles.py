"""Particle-core benchmark: batched self-train vs the per-particle twin.

Prints, for N ∈ {10³, 10⁴, 10⁵} 4-2-1 particles: batched self-train particle-steps/s (closed
form and autograd), self-apply and classify times; the twin's particle-steps/s at N = 10³;
their ratio; peak RSS. Run: `make bench` or `python benchmarks/particles.py [--device cuda]`.
Goal on the 2-core CPU: ratio ≥ 500× at N = 10⁴ and ≥ 2·10⁶ particle-steps/s.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from neurosoup.particles import ParticleSpec, classify, self_apply, self_train_step
from tests.reference.particles import RefTrainer


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def best_of(fn, repeats: int, device: torch.device) -> float:
    fn()  # warm-up
    best = float("inf")
    for _ in range(repeats):
        sync(device)
        t0 = time.perf_counter()
        fn()
        sync(device)
        best = min(best, time.perf_counter() - t0)
    return best


def batched_rate(spec, n: int, steps: int, device, analytic: bool = True) -> float:
    w = spec.init(n, torch.Generator().manual_seed(0)).to(device)

    def run() -> None:
        x = w
        for _ in range(steps):
            x, _, _ = self_train_step(spec, x, 0.04, analytic=analytic)

    return n * steps / best_of(run, 3, device)


def twin_rate(spec, n: int, steps: int) -> float:
    w = spec.init(n, torch.Generator().manual_seed(0))
    twins = [RefTrainer(spec, row, 0.04) for row in w]
    t0 = time.perf_counter()
    for _ in range(steps):
        for t in twins:
            t.self_train_step()
    return n * steps / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--sizes", default="1000,10000,100000")
    args = parser.parse_args()
    device = torch.device(args.device)
    spec = ParticleSpec()
    print(f"# particle core, 4-2-1 linear, float32, device {device}, "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    twin = twin_rate(spec, 1000, 2)
    print(f"per-particle twin (N = 10^3): {twin:,.0f} particle-steps/s")
    print(f"{'N':>8} {'steps/s closed':>15} {'steps/s autograd':>17} {'ratio vs twin':>14} "
          f"{'self-apply ms':>14} {'classify ms':>12}")
    for n in (int(s) for s in args.sizes.split(",")):
        steps = max(10, min(200, 2_000_000 // n))
        fast = batched_rate(spec, n, steps, device)
        slow = batched_rate(spec, n, max(5, steps // 4), device, analytic=False)
        w = spec.init(n, torch.Generator().manual_seed(1)).to(device)
        t_apply = best_of(lambda w=w: self_apply(spec, w), 5, device)
        t_cls = best_of(lambda w=w: classify(spec, w), 5, device)
        print(f"{n:>8} {fast:>15,.0f} {slow:>17,.0f} {fast / twin:>13,.0f}x "
              f"{t_apply * 1e3:>14.3f} {t_cls * 1e3:>12.3f}")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {rss:.0f} MiB")


if __name__ == "__main__":
    main()
