"""Soup engine benchmark: ticks/s, ratio against the per-particle twin, HDF5 cost, peak RSS.

    .venv/bin/python benchmarks/soup.py                 # the full table
    .venv/bin/python benchmarks/soup.py --sizes 1000 --twin-ticks 1 --repeats 2
    .venv/bin/python benchmarks/soup.py --sizes 10000 1000000 --twin-ticks 0   # big soups
    .venv/bin/python benchmarks/soup.py --sizes 10000 1000000 --block-rows 0   # unblocked
    .venv/bin/python benchmarks/soup.py --small          # small soups: solo and recorded tick

Measured 2026-12-01 on the shared 2-core machine (load average 2-3), journal tick, particle-
steps/s at N = 10⁴ / 10⁶: unblocked (``--block-rows 0``) 1.11·10⁷ / 2.11·10⁶ with 2 threads,
7.3·10⁶ / 2.5·10⁶ with 1; blocks of 16384 rows 1.21·10⁷ / 1.34·10⁷ with 2 threads, 6.8·10⁶ /
8.1·10⁶ with 1. At 10⁶: store 138 MB (2.46× the 56 MB of weights), journal run peak RSS 618 MB
(866 MB unblocked), 1.1 GB with snapshot writing; 57.5 MB and 110-170 ms per snapshot.

Each size runs in its own process, so its peak RSS is its own. ``store MB`` is the
``ParticleStore`` (every field) against the raw weight bytes (N·P·itemsize); ``run RSS``
is the peak RSS after the journal ticks, ``peak RSS`` the size's whole process (which also
builds the snapshot arrays and writes them).

Journal tick = attack single(0.1) + 20 self-train steps + classification and observables.
Plain tick   = attack single(0.1) + 1 self-train step + classification and observables.
Timings: warm-up, then the best of ``--repeats`` repetitions of ``--ticks`` ticks.

``--small`` prints the small-soup table of issue 24 instead (1 thread, N = 10, 20, 100):
the journal tick (ms, wall and CPU time of this process — CPU time is the fairer figure on
a shared machine) and the recorded tick at N = 20 (snapshot every tick, checkpoint every 10,
set-up included for the recorded figure). Measured 2026-12-02 on the shared 2-core machine,
load average 22-25 (other agents), so wall times are inflated ~10x; CPU ms per tick, old
code (1daabbf, before issue 24) and new (6d630c7) run alternately in one window, two rounds:
tick N = 10 / 20 / 100: 6.0-6.6 / 5.9-6.7 / 6.9-7.5 → 3.7-4.4 / 3.9-4.7 / 4.5-5.1; recorded
N = 20: 20.7-25.5 → 5.8-7.2 (before: a snapshot write and flush every tick; after: one block
per checkpoint). The new code also computes the high_order_entropy observable each tick.
The self-train kernel alone (20 steps; R soups' rows in one ``self_train_steps`` call — what a
batched soup would share; no batched soup exists yet), CPU µs per replicate at R = 1 / 8 / 64
/ 256: N = 10: 1983 / 273 / 73 / 44; N = 20: 1721 / 408 / 98 / 77; N = 100: 1893 / 632 / 370
/ 476 (load average 21). Rows of one call are not always bit-stable against a call on fewer
rows: BLAS takes another path for ≤ 3 rows (float32 and float64) and float64 differed in the
last bit at R·N = 1,300 vs 20: a batched soup needs row-stable reductions or a version bump.
``torch.compile`` of one self-train step (N = 20, measured the same day): 127 → 51 µs CPU per
step, but 155 s to compile and not the same bits (max |Δw| 9.5e-7 after 2,020 steps): unused.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from neurosoup.chemistry import operators as ops
from neurosoup.chemistry.config import SoupConfig
from neurosoup.chemistry.recorder import Recorder
from neurosoup.chemistry.soup import Soup
from neurosoup.particles import self_train_steps
from tests.reference.soup import ref_step


def journal(n: int, steps: int = 20) -> SoupConfig:
    return SoupConfig(
        n_particles=n, attack_rate=0.1, attack_pairing="single", train_steps=steps, lr=0.04
    )


def _timed(fn: Any, repeats: int) -> tuple[float, float]:
    """Best wall and best CPU seconds of ``repeats`` calls of ``fn``."""
    wall = cpu = float("inf")
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        fn()
        wall, cpu = min(wall, time.perf_counter() - t), min(cpu, time.process_time() - c)
    return wall, cpu


def small_table(ticks: int, repeats: int) -> None:
    """Solo tick at N = 10, 20, 100 and the recorded tick at N = 20 (ms per tick)."""
    torch.set_num_threads(1)
    print(f"torch {torch.__version__}, 1 thread, load average {os.getloadavg()[0]:.1f}")
    print(f"{'N':>5} {'tick ms (wall)':>15} {'tick ms (CPU)':>14} {'µs/particle-step':>17}")
    for n in (10, 20, 100):
        soup = Soup(journal(n), seed=0, device="cpu")
        soup.run(2, progress=False, threads=1)
        wall, cpu = _timed(lambda s=soup: s.run(ticks, progress=False, threads=1), repeats)
        print(f"{n:>5} {1e3 * wall / ticks:>15.2f} {1e3 * cpu / ticks:>14.2f} "
              f"{1e6 * cpu / ticks / n:>17.1f}")  # fmt: skip

    def recorded() -> None:
        cfg = journal(20).replace(steps=ticks, snapshot_every=1, checkpoint_every=10)
        soup = Soup(cfg, seed=0, device="cpu")
        with tempfile.TemporaryDirectory() as tmp:
            Recorder.create(Path(tmp) / "r.h5", soup).run(ticks, progress=False)

    wall, cpu = _timed(recorded, repeats)
    print(f"recorded N = 20 (snapshot every tick): {1e3 * wall / ticks:.2f} ms per tick wall, "
          f"{1e3 * cpu / ticks:.2f} CPU (set-up included: the file and step 0)")  # fmt: skip
    print("self-train kernel only (20 steps, R soups' rows in one call; no batched soup yet):")
    print(f"{'N':>5} " + " ".join(f"{f'R={r} µs/replicate':>18}" for r in (1, 8, 64, 256)))
    spec = journal(2).particle
    for n in (10, 20, 100):
        cells = []
        for r in (1, 8, 64, 256):
            w = spec.init(n * r, torch.Generator().manual_seed(0))
            _, cpu = _timed(lambda w=w: self_train_steps(spec, w, 20, 0.04), repeats)
            cells.append(f"{1e6 * cpu / r:>18.0f}")
        print(f"{n:>5} " + " ".join(cells))
    print(f"load average at the end {os.getloadavg()[0]:.1f}")


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
            for key, value in soup.snapshot().items():
                rec.block.add_frame(rec._key(key), soup.steps, value)
            rec._write_block(ckpt=False)  # writes the frame and flushes
            best = min(best, time.perf_counter() - t)
        rec.file.flush()
        per = (path.stat().st_size - size0) / snapshots
        rec.close()
    return per, best


def store_bytes(soup: Soup) -> tuple[int, int]:
    """(bytes of every store field, raw weight bytes)."""
    store = soup.store
    fields = [store.weights, store.momentum, store.alive, store.uid, store.parent_uid,
              store.born_at, store.ptype]  # fmt: skip
    total = sum(t.numel() * t.element_size() for t in fields)
    return total, store.weights.numel() * store.weights.element_size()


def one_size(n: int, args: argparse.Namespace) -> dict[str, float]:
    """Every figure of one size (run in a fresh process so peak RSS is this size's)."""
    if args.block_rows is not None:
        ops.BLOCK_ROWS = args.block_rows
    t = max(1, args.ticks if n < 100_000 else args.ticks // 2 if n < 1_000_000 else 1)
    j = ticks_per_s(journal(n), t, args.repeats, args.threads)
    run_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # the journal soup's
    p = ticks_per_s(journal(n, 1), 4 * t, args.repeats, args.threads)
    store, raw = store_bytes(Soup(journal(n, 1), seed=0, device="cpu"))
    size, sec = hdf5_cost(n, 3 if n >= 1_000_000 else 5)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"n": n, "journal": j, "plain": p, "size": size, "sec": sec, "rss": rss,
            "run_rss": run_rss, "store": store, "raw": raw}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--ticks", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--twin-ticks", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    parser.add_argument(
        "--block-rows",
        type=int,
        default=None,
        help=f"rows per self-train block (default {ops.BLOCK_ROWS}; 0: unblocked)",
    )
    parser.add_argument("--small", action="store_true", help="the small-soup table")
    parser.add_argument("--one", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.small:
        small_table(max(args.ticks, 100), args.repeats)
        return 0
    torch.set_num_threads(args.threads)  # also for the twin and the HDF5 measurement
    if args.one is not None:  # the child process of one size
        print(json.dumps(one_size(args.one, args)))
        return 0
    block = ops.BLOCK_ROWS if args.block_rows is None else args.block_rows
    print(
        f"torch {torch.__version__}, {args.threads} threads, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f}, self-train blocks of {block or 'all'} rows"
    )
    print(
        f"{'N':>8} {'journal ticks/s':>16} {'particle-steps/s':>17} {'plain ticks/s':>14} "
        f"{'snapshot kB':>12} {'snapshot ms':>12} {'store MB':>9} {'x raw':>6} "
        f"{'run RSS MB':>11} {'peak RSS MB':>12}"
    )
    journal_rate = {}
    child = [sys.executable, __file__, "--ticks", str(args.ticks), "--repeats",
             str(args.repeats), "--threads", str(args.threads)]  # fmt: skip
    if args.block_rows is not None:
        child += ["--block-rows", str(args.block_rows)]
    for n in args.sizes:
        out = subprocess.run([*child, "--one", str(n)], capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        j = r["journal"]
        journal_rate[n] = j
        print(
            f"{n:>8} {j:>16.3g} {j * n * 20:>17.3g} {r['plain']:>14.3g} {r['size'] / 1e3:>12.1f} "
            f"{r['sec'] * 1e3:>12.2f} {r['store'] / 1e6:>9.1f} {r['store'] / r['raw']:>6.2f} "
            f"{r['run_rss']:>11.0f} {r['rss']:>12.0f}",
            flush=True,
        )
    print(f"load average at the end {os.getloadavg()[0]:.1f}")
    if args.twin_ticks and 1_000 in journal_rate:
        twin = twin_ticks_per_s(journal(1_000), args.twin_ticks)
        print(
            f"per-particle twin at N = 1000: {twin:.4f} ticks/s "
            f"({1 / twin:.1f} s per tick); batched / twin = {journal_rate[1_000] / twin:.0f}x"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
