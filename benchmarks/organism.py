"""Organism benchmark: one epoch of the paper's MNIST-size ON, batched vs the per-particle twin.

225-5-5-10, h 5 (1,200 particles × 55 weights), batch 2,000, 10 self-train steps per batch,
30 batches, on random data (inputs U(0, 1), labels uniform in 0..9). Prints seconds per epoch
split into self-train and task time, the twin's time measured in the same run on fewer batches
and steps (scaled to one epoch), their ratio, and peak RSS.
Run: `python benchmarks/organism.py [--device cuda] [--twin-batches 1] [--twin-st 2]`.
Reference loop code ≈ 140 s per such epoch on a 2-core CPU; goal ≤ 1 s per epoch (≥ 140×).
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from neurosoup.chemistry.organism_training import self_train_phase, task_step
from neurosoup.particles import OrganismNetwork
from tests.reference.organism import RefOrganism

SIZES = (225, 5, 5, 10)
HIDDEN, BATCH, ST, BATCHES, LR, MU = 5, 2000, 10, 30, 0.004, 0.9


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def data(device: torch.device, n: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    gen = torch.Generator().manual_seed(1)
    return [
        (torch.rand(BATCH, SIZES[0], generator=gen).to(device),
         torch.randint(0, 10, (BATCH,), generator=gen).to(device))
        for _ in range(n)
    ]  # fmt: skip


def batched_epoch(net: OrganismNetwork, batches) -> tuple[float, float]:
    """(self-train seconds, task seconds) of one epoch."""
    device = net.device
    w, buf, t_st, t_task = net.store.weights, None, 0.0, 0.0
    for x, y in batches:
        sync(device)
        t0 = time.perf_counter()
        w, _ = self_train_phase(net.spec, w, ST, LR, MU)
        sync(device)
        t1 = time.perf_counter()
        w, buf, _, _ = task_step(net, w, buf, x, y, "cross_entropy", LR, MU)
        sync(device)
        t_st, t_task = t_st + t1 - t0, t_task + time.perf_counter() - t1
    return t_st, t_task


def twin_epoch(net: OrganismNetwork, batches, st_steps: int) -> tuple[float, float]:
    """Twin (self-train, task) seconds, scaled to one full epoch."""
    ref = RefOrganism(net.layer_sizes, net.spec, net.weights.cpu())
    opt = torch.optim.SGD(ref.parameters(), lr=LR, momentum=MU)
    t_st = t_task = 0.0
    for x, y in batches:
        t0 = time.perf_counter()
        ref.self_train_phase(st_steps, LR, MU)
        t1 = time.perf_counter()
        ref.task_step(opt, x.cpu(), y.cpu(), "cross_entropy")
        t_st, t_task = t_st + t1 - t0, t_task + time.perf_counter() - t1
    n = len(batches)
    return t_st * (BATCHES * ST) / (n * st_steps), t_task * BATCHES / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=3, help="batched epochs (best is shown)")
    parser.add_argument("--twin-batches", type=int, default=1)
    parser.add_argument("--twin-st", type=int, default=2, help="twin self-train steps per batch")
    parser.add_argument("--no-twin", action="store_true")
    args = parser.parse_args()
    device = torch.device(args.device)
    net = OrganismNetwork(SIZES, HIDDEN, generator=torch.Generator().manual_seed(0))
    net = OrganismNetwork(SIZES, HIDDEN, weights=net.weights.to(device), device=device)
    batches = data(device, BATCHES)
    print(f"# organism 225-5-5-10, h 5, {net.n_particles} particles, batch {BATCH}, {ST} ST "
          f"steps/batch, {BATCHES} batches, float32, device {device}, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads")  # fmt: skip
    batched_epoch(net, batches[:2])  # warm-up
    best = min((batched_epoch(net, batches) for _ in range(args.repeats)), key=sum)
    print(f"batched: {sum(best):.3f} s/epoch (self-train {best[0]:.3f} s, task {best[1]:.3f} s)")
    if not args.no_twin:
        twin = twin_epoch(net, batches[: args.twin_batches], args.twin_st)
        print(f"twin (scaled from {args.twin_batches} batch(es) × {args.twin_st} ST steps): "
              f"{sum(twin):.1f} s/epoch (self-train {twin[0]:.1f} s, task {twin[1]:.1f} s)")
        print(f"ratio twin / batched: {sum(twin) / sum(best):,.0f}× "
              f"(self-train {twin[0] / best[0]:,.0f}×, task {twin[1] / best[1]:,.0f}×)")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {rss:.0f} MiB")
    if device.type == "cuda":
        print(f"peak CUDA memory: {torch.cuda.max_memory_allocated() / 2**20:.0f} MiB")


if __name__ == "__main__":
    main()
