"""Cost of the per-tick ``high_order_entropy`` observable against a journal tick (goal ≤ 5 %).

A ``soup/journal-v1`` soup of N particles (default 10⁴) runs a few ticks; each tick's wall
time (the observable included) is compared with the observable alone on the same weights,
best of k for both, interleaved so that a busy machine slows both alike.

    .venv/bin/python benchmarks/complexity.py [--n 10000] [--ticks 3]
"""

from __future__ import annotations

import argparse
import time

from neurosoup.particles.complexity import high_order_entropy
from neurosoup.scenarios import make


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--ticks", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=20, help="observable timings per tick")
    args = parser.parse_args(argv)
    soup = make("soup/journal-v1", n_particles=args.n, seed=0, device="cpu")
    soup.step()  # warm-up
    tick, obs = float("inf"), float("inf")
    for _ in range(args.ticks):
        start = time.perf_counter()
        soup.step()
        tick = min(tick, time.perf_counter() - start)
        w = soup.store.weights[soup.store.alive_slots()]
        for _ in range(args.repeat):
            start = time.perf_counter()
            value = high_order_entropy(w)
            obs = min(obs, time.perf_counter() - start)
    print(f"high_order_entropy at N = {args.n:,}: {obs * 1e3:.2f} ms per tick; journal tick "
          f"{tick * 1e3:.0f} ms (observable included) → {100 * obs / tick:.1f} % (goal ≤ 5 %); "
          f"value {value:.3f} bits/byte at tick {soup.steps}")  # fmt: skip


if __name__ == "__main__":
    main()
