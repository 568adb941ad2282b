"""Soup engine benchmark: ticks/s, ratio against the per-particle twin, HDF5 cost, peak RSS.

    .venv/bin/python benchmarks/soup.py                 # the full table
    .venv/bin/python benchmarks/soup.py --sizes 1000 --twin-ticks 1 --repeats 2

Journal tick = attack single(0.1) + 20 self-train steps + classification and observables.
Plain tick   = attack single(0.1) + 1 self-train step + classification and observables.
Timings: warm-up, then the best of ``--repeats`` repetitions of ``--ticks`` ticks.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from neurosoup.chemistry.config import SoupConfig
from neurosoup.chemistry.recorder import Recorder
from neurosoup.chemistry.soup import Soup
from tests.reference.soup import ref_step


def journal(n: int, steps: int = 20) -> SoupConfig:
    return SoupConfig(
        n_particles=n, attack_rate=0.1, attack_pairing="single", train_steps=steps, lr=0.04
    )


def ticks_per_s(cfg: SoupConfig, ticks: int, repeats: int, threads: int | None) -> float:
    soup = Soup(cfg, seed=0, device="cpu")
    soup.run(2, progress=False, threads=threads)  # warm-up
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        soup.run(ticks, progress=False, threads=threads)
        best = min(best, time.perf_counter() - t)
    return ticks / best


def twin_ticks_per_s(cfg: SoupConfig, ticks: int) -> float:
    soup = Soup(cfg, seed=0, device="cpu")
    store = soup.store.clone()
    gen = torch.Generator()
    gen.set_state(soup.rngs.torch.get_state())
    t = time.perf_counter()
    for tick in range(1, ticks + 1):
        ref_step(store, cfg, gen, tick, set())
    return ticks / (time.perf_counter() - t)


def hdf5_cost(n: int, snapshots: int) -> tuple[float, float]:
    """Bytes and seconds per snapshot (weights, ids, types, bonds + flush) at size n."""
    soup = Soup(journal(n, 1), seed=0, device="cpu")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.h5"
        rec = Recorder.create(path, soup)
        size0 = path.stat().st_size
        best = float("inf")
        for _ in range(snapshots):
            t = time.perf_counter()
            rec._snapshot(soup.steps, soup.snapshot())
            rec.file.flush()
            best = min(best, time.perf_counter() - t)
        rec.file.flush()
        per = (path.stat().st_size - size0) / snapshots
        rec.close()
    return per, best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--ticks", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--twin-ticks", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)  # also for the twin and the HDF5 measurement
    print(
        f"torch {torch.__version__}, {args.threads} threads, "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}"
    )
    print(
        f"{'N':>8} {'journal ticks/s':>16} {'particle-steps/s':>17} {'plain ticks/s':>14} "
        f"{'snapshot kB':>12} {'snapshot ms':>12}"
    )
    journal_rate = {}
    for n in args.sizes:
        t = max(1, args.ticks if n < 100_000 else args.ticks // 2)
        j = ticks_per_s(journal(n), t, args.repeats, args.threads)
        p = ticks_per_s(journal(n, 1), 4 * t, args.repeats, args.threads)
        size, sec = hdf5_cost(n, 5)
        journal_rate[n] = j
        print(
            f"{n:>8} {j:>16.2f} {j * n * 20:>17.3g} {p:>14.1f} {size / 1e3:>12.1f} "
            f"{sec * 1e3:>12.2f}",
            flush=True,
        )
    if args.twin_ticks and 1_000 in journal_rate:
        twin = twin_ticks_per_s(journal(1_000), args.twin_ticks)
        print(
            f"per-particle twin at N = 1000: {twin:.4f} ticks/s "
            f"({1 / twin:.1f} s per tick); batched / twin = {journal_rate[1_000] / twin:.0f}x"
        )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {rss:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
