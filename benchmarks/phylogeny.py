"""Phylogeny export: seconds to write 10⁶ births as ALife-standard CSV (goal ≤ 10 s).

A soup file is built directly in the run-file vocabulary: N particles, then every tick a share
of the slots is replaced by melt offspring of two living particles (births, deaths and one
event each), with a snapshot every ``--every`` ticks. The timed part is
``neurosoup analyse FILE phylogeny --csv OUT`` (best of ``--repeat``), which streams the table.

    .venv/bin/python benchmarks/phylogeny.py [--births 1000000] [--n 10000]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import h5py
import numpy as np

from neurosoup.particles import ParticleSpec, runformat
from neurosoup.scenarios.cli import main


def build(path: Path, births: int, n: int, every: int, seed: int = 0) -> int:
    """Write a soup file with ``births`` births in all (seeds included); returns the ticks."""
    rng = np.random.default_rng(seed)
    per_tick = max(1, n // 2)
    ticks = int(np.ceil((births - n) / per_tick))
    slot_uid = np.arange(n, dtype=np.int64)
    b = {k: [] for k in ("uid", "parent_uid", "co_parent_uid", "born_at", "cause")}
    d = {k: [] for k in ("uid", "died_at", "cause")}
    b["uid"].append(slot_uid.copy())
    b["parent_uid"].append(np.full(n, -1))
    b["co_parent_uid"].append(np.full(n, -1))
    b["born_at"].append(np.zeros(n, np.int64))
    b["cause"].append(np.zeros(n, np.int8))
    snaps_uid, snaps_step = [slot_uid.copy()], [0]
    next_uid = n
    for t in range(1, ticks + 1):
        m = min(per_tick, births - next_uid)
        slots = rng.choice(n, size=m, replace=False)
        a, c = slot_uid[rng.integers(0, n, m)], slot_uid[rng.integers(0, n, m)]
        new = np.arange(next_uid, next_uid + m, dtype=np.int64)
        next_uid += m
        d["uid"].append(slot_uid[slots].copy())
        d["died_at"].append(np.full(m, t))
        d["cause"].append(np.full(m, runformat.REPLACED, np.int8))
        slot_uid[slots] = new
        for k, v in zip(b, (new, a, c, np.full(m, t), np.full(m, runformat.OFFSPRING, np.int8)),
                        strict=True):  # fmt: skip
            b[k].append(v)
        if t % every == 0 or t == ticks:
            snaps_uid.append(slot_uid.copy())
            snaps_step.append(t)
    spec = {"scenario": "soup/bench-v1", "seed": seed, "kind": "soup",
            "config": {"particle": ParticleSpec().to_dict(), "n_particles": n}}  # fmt: skip
    with h5py.File(path, "w") as f:
        f.attrs.update(format=runformat.FORMAT, format_version=runformat.FORMAT_VERSION,
                       kind="soup")  # fmt: skip
        f.create_dataset(runformat.SPEC, data=json.dumps(spec))
        for group, cols in ((runformat.BIRTHS, b), (runformat.DEATHS, d)):
            for k, v in cols.items():
                f.create_dataset(f"{group}/{k}", data=np.concatenate(v), chunks=True)
        born = np.concatenate(b["uid"][1:])
        ev = {"tick": np.concatenate(b["born_at"][1:]), "operator": np.full(len(born), 3, np.int8),
              "actor": np.concatenate(b["parent_uid"][1:]),
              "counterpart": np.concatenate(b["co_parent_uid"][1:]), "changed": born,
              "applied": np.ones(len(born), bool)}  # fmt: skip
        for k, v in ev.items():
            f.create_dataset(f"{runformat.EVENTS}/{k}", data=v, chunks=True)
        f[runformat.EVENTS].attrs["operators"] = json.dumps({"3": "melt"})
        s = len(snaps_step)
        uid = np.stack(snaps_uid)
        for name, value in (("uid", uid), ("ptype", np.full((s, n), 2, np.int8)),
                            ("parent_uid", np.full((s, n), -1)), ("born_at", np.zeros((s, n))),
                            ("weights", np.zeros((s, n, ParticleSpec().n_weights), np.float32))):
            f.create_dataset(f"{runformat.PARTICLES}/{name}/step", data=np.asarray(snaps_step))
            f.create_dataset(f"{runformat.PARTICLES}/{name}/value", data=value,
                             chunks=(1, *value.shape[1:]))  # fmt: skip
    return ticks


def main_(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--births", type=int, default=1_000_000)
    parser.add_argument("--n", type=int, default=10_000, help="particles (store capacity)")
    parser.add_argument("--every", type=int, default=20, help="ticks between snapshots")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        run, out = Path(tmp) / "bench.h5", Path(tmp) / "tree.csv"
        ticks = build(run, args.births, args.n, args.every)
        best, cpu = np.inf, np.inf
        for _ in range(args.repeat):
            start, start_cpu = time.perf_counter(), time.process_time()
            assert main(["analyse", str(run), "phylogeny", "--csv", str(out), "--overwrite"]) == 0
            best = min(best, time.perf_counter() - start)
            cpu = min(cpu, time.process_time() - start_cpu)
        rows = sum(1 for _ in out.open()) - 1
        size = out.stat().st_size / 2**20
    print(f"phylogeny export: {rows:,} births ({args.n:,} particles, {ticks} ticks) → "
          f"{size:.0f} MiB CSV in {best:.2f} s wall, {cpu:.2f} s CPU (best of {args.repeat}; "
          "goal ≤ 10 s)")  # fmt: skip


if __name__ == "__main__":
    main_()
