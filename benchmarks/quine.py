"""Quine benchmark: epochs per second of one paper-size quine and of a batched population.

Prints: Adamax epochs/s of one 20,100-parameter vanilla quine (paper init, minibatch 10, 2,010
optimiser steps per epoch); quine-epochs/s of a population of 64 small quines (hidden 16,
N = 528) trained batched vs the same 64 trained one at a time in this run, and their ratio;
peak RSS (and peak CUDA memory on a GPU).
Run: `python benchmarks/quine.py [--device cuda] [--epochs 2] [--pop 64] [--threads 1]`.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from neurosoup.particles import QuineOptimiser, QuinePopulation, QuineSpec, draw_epoch, train_epoch


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def epochs_per_second(spec: QuineSpec, q: int, epochs: int, device: torch.device) -> float:
    """Epochs/s of a population of q quines (one warm-up epoch first)."""
    g = torch.Generator(device=device).manual_seed(0)
    pop = QuinePopulation.create(spec, q, g, "paper", device=device)
    opt = QuineOptimiser(["adamax"] * q, spec.n_weights, device=device)
    train_epoch(pop, opt, draw_epoch(pop, g), g)
    sync(device)
    t0 = time.perf_counter()
    for _ in range(epochs):
        train_epoch(pop, opt, draw_epoch(pop, g), g)
    sync(device)
    return epochs / (time.perf_counter() - t0)


def one_at_a_time(spec: QuineSpec, q: int, epochs: int, device: torch.device) -> float:
    """Quine-epochs/s of q quines trained one after another (Q = 1 each)."""
    g = torch.Generator(device=device).manual_seed(0)
    members = []
    for _ in range(q):
        pop = QuinePopulation.create(spec, 1, g, "paper", device=device)
        members.append((pop, QuineOptimiser(["adamax"], spec.n_weights, device=device)))
    train_epoch(*members[0], draw_epoch(members[0][0], g), g)  # warm-up
    sync(device)
    t0 = time.perf_counter()
    for _ in range(epochs):
        for pop, opt in members:
            train_epoch(pop, opt, draw_epoch(pop, g), g)
    sync(device)
    return q * epochs / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--pop", type=int, default=64)
    parser.add_argument("--small-hidden", type=int, default=16)
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    print(f"# quine benchmark, float32, Adamax, device {device}, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads")  # fmt: skip
    big = QuineSpec.vanilla()
    rate = epochs_per_second(big, 1, args.epochs, device)
    print(f"one vanilla quine (N = {big.n_weights:,}): {rate:.2f} epochs/s "
          f"({1 / rate:.2f} s/epoch, {big.n_weights // 10:,} steps/epoch)")  # fmt: skip
    small = QuineSpec.vanilla(args.small_hidden)
    batched = args.pop * epochs_per_second(small, args.pop, args.epochs, device)
    single = one_at_a_time(small, args.pop, args.epochs, device)
    print(f"population of {args.pop} (hidden {args.small_hidden}, N = {small.n_weights:,}): "
          f"batched {batched:.1f} quine-epochs/s, one at a time {single:.1f} quine-epochs/s, "
          f"ratio {batched / single:.1f}x")  # fmt: skip
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    line = f"peak RSS {rss:.0f} MiB"
    if device.type == "cuda":
        line += f", peak CUDA memory {torch.cuda.max_memory_allocated(device) / 2**20:.0f} MiB"
    print(line)


if __name__ == "__main__":
    main()
