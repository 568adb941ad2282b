"""Sweeps: grid points × replicates of one scenario, on any ``concurrent.futures`` executor.

``plan_sweep`` turns a scenario, a grid (``key → values``) and a replicate count into a frozen
``SweepPlan``; every grid point × replicate is a frozen ``RunSpec`` (scenario id, overrides,
seed) whose seed comes from its own ``numpy.random.SeedSequence`` child: entropy = the sweep's
seed, spawn key = (point, replicate). The model's seed is an int drawn from that child; the
child itself is stored in the run file's spec as ``seed_sequence`` ({entropy, spawn_key}).
Adding replicates or grid points later leaves the existing seeds as they were.

``run_sweep`` writes ``DIR/sweep.json`` (the plan), one run file per replicate
(``DIR/runs/pPPP-rRRR.h5``, one writer each, plus ``.json`` with its final figures and the
step it started from once it has finished) and ``DIR/index.csv`` (grid values, seed, file,
status, seconds, the final figures of ``model.result()``), rewritten as replicates finish.
Running the same sweep into the same DIR again resumes it: finished replicates are skipped,
partial ones continue from their checkpoint (``chemistry.recorder.resume``), so the files
equal an uninterrupted sweep's.
Failed replicates are retried (a fresh executor when the old one broke, e.g. a killed pool
worker); Dask reschedules the work of a lost worker by itself.
"""

from __future__ import annotations

import csv
import json
import os
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, as_completed
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from neurosoup.chemistry.checkpoint import checkpoint_step
from neurosoup.chemistry.model_kinds import get_kind
from neurosoup.chemistry.recorder import checkpoint_path, open_run_spec, record, resume
from neurosoup.particles import ConfigError, SnapshotError

from .files import load_scenario_file
from .registry import spec

PLAN_FILE, INDEX_FILE, RUNS = "sweep.json", "index.csv", "runs"
PLAN_FORMAT = "neurosoup-sweep"
#: the index's fixed columns; grid keys come before them, final figures after
INDEX_COLUMNS = ("point", "replicate", "seed", "file", "status", "seconds")
_SEED_BITS = 63


def _json(value: Any) -> Any:
    """A JSON round-trip copy (tuples become lists), so plans compare equal after reading."""
    return json.loads(json.dumps(value))


@dataclass(frozen=True)
class RunSpec:
    """One replicate of one grid point: everything a worker needs, as plain data.

    Attributes:
        point: index of the grid point; replicate: index of the replicate.
        scenario: the registered scenario id.
        overrides: the sweep's fixed overrides plus this point's grid values (JSON-ready).
        grid: this point's grid values, by key.
        entropy: the sweep's seed; the replicate's ``SeedSequence`` is
            ``SeedSequence(entropy, spawn_key=(point, replicate))``.
        file: the run file, relative to the sweep folder.
        device: ``cpu``/``cuda`` or None (the worker's default).
        threads: torch intra-op threads of the worker while it runs this replicate.
    """

    point: int
    replicate: int
    scenario: str
    overrides: dict[str, Any] = field(hash=False)
    grid: dict[str, Any] = field(hash=False)
    entropy: int
    file: str
    device: str | None = None
    threads: int = 1

    @property
    def spawn_key(self) -> tuple[int, int]:
        """The child's spawn key: (point, replicate)."""
        return (self.point, self.replicate)

    def seed_sequence(self) -> np.random.SeedSequence:
        """This replicate's ``SeedSequence`` child of the sweep's seed."""
        return np.random.SeedSequence(self.entropy, spawn_key=self.spawn_key)

    @property
    def seed(self) -> int:
        """The model's int seed, drawn from the child (63 bits)."""
        word = int(self.seed_sequence().generate_state(1, dtype=np.uint64)[0])
        return word >> (64 - _SEED_BITS)

    def spec_extra(self) -> dict[str, Any]:
        """What the run file's spec stores beside the seed: the ``SeedSequence`` child."""
        return {"seed_sequence": {"entropy": self.entropy, "spawn_key": list(self.spawn_key)}}


@dataclass(frozen=True)
class SweepPlan:
    """A sweep: scenario, fixed overrides, grid (key → values), replicates, seed, device."""

    scenario: str
    grid: dict[str, list[Any]] = field(hash=False)
    replicates: int
    seed: int = 0
    overrides: dict[str, Any] = field(default_factory=dict, hash=False)
    device: str | None = None
    threads: int = 1

    def points(self) -> list[dict[str, Any]]:
        """The grid points in order: the last key varies fastest (like ``itertools.product``)."""
        out: list[dict[str, Any]] = [{}]
        for key, values in self.grid.items():
            out = [{**p, key: v} for p in out for v in values]
        return out

    def runs(self) -> list[RunSpec]:
        """Every grid point × replicate, point-major."""
        points = self.points()
        pw, rw = max(3, len(str(len(points) - 1))), max(3, len(str(self.replicates - 1)))
        return [
            RunSpec(i, r, self.scenario, {**self.overrides, **p}, p, self.seed,
                    f"{RUNS}/p{i:0{pw}d}-r{r:0{rw}d}.h5", self.device, self.threads)
            for i, p in enumerate(points) for r in range(self.replicates)
        ]  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (``sweep.json``)."""
        return {"format": PLAN_FORMAT, "version": 1, **_json(asdict(self))}

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "sweep.json") -> SweepPlan:
        """Read ``to_dict`` output; anything else raises ``ConfigError``."""
        if not isinstance(data, dict) or data.get("format") != PLAN_FORMAT:
            raise ConfigError(f"{where} is not a neurosoup sweep plan; choose another --out")
        try:
            return cls(**{k: v for k, v in data.items() if k not in ("format", "version")})
        except TypeError as exc:
            raise ConfigError(f"{where} is damaged ({exc}); choose another --out") from None


# ---- planning ------------------------------------------------------------------------------
def split_values(text: str) -> list[str]:
    """Split ``v1,v2`` at commas outside brackets and quotes (``[1,2],[3,4]`` → 2 values)."""
    parts, depth, quote, start = [], 0, "", 0
    for i, ch in enumerate(text):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts]


def parse_grid(items: Iterable[str]) -> dict[str, list[Any]]:
    """``["key=v1,v2", …]`` → ``{key: [v1, v2]}``; values parse as JSON, else strings."""
    grid: dict[str, list[Any]] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(f"--grid expects key=v1,v2,…, got {item!r}; e.g. --grid lr=0.01,0.04")
        if key in grid:
            raise ConfigError(f"--grid {key} is given twice; list all its values in one --grid")
        values = split_values(raw)
        if not raw.strip() or any(not v for v in values):
            raise ConfigError(
                f"--grid {key} has an empty value ({raw!r}); give values like {key}=1,2,3"
            )
        parsed = []
        for v in values:
            try:
                parsed.append(json.loads(v))
            except json.JSONDecodeError:
                parsed.append(v)
        if len({json.dumps(v, sort_keys=True) for v in parsed}) < len(parsed):
            raise ConfigError(f"--grid {key} lists a value twice ({raw!r}); list each once")
        grid[key] = parsed
    return grid


def plan_sweep(
    target: str,
    grid: dict[str, list[Any]] | None = None,
    replicates: int = 1,
    *,
    sets: dict[str, Any] | None = None,
    seed: int | None = None,
    steps: int | None = None,
    device: str | None = None,
    threads: int = 1,
) -> SweepPlan:
    """Check a sweep and freeze it: every grid point must resolve to a valid config.

    ``target`` is a registered id or a TOML scenario file (its ``seed`` is the sweep's seed
    unless ``seed`` is given). Unknown keys raise with the closest known one.
    """
    grid = dict(grid or {})
    if isinstance(replicates, bool) or not isinstance(replicates, int) or replicates < 1:
        raise ConfigError(f"--replicates must be an int >= 1, got {replicates!r}")
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ConfigError(f"threads must be an int >= 1, got {threads!r}")
    overrides = dict(sets or {})
    file_seed = None
    if target.endswith(".toml") or Path(target).is_file():
        target, from_file, file_seed = load_scenario_file(target)
        overrides = {**from_file, **overrides}
    if steps is not None:
        overrides["steps"] = steps
    seed = seed if seed is not None else (file_seed if file_seed is not None else 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"--seed must be an int >= 0, got {seed!r}")
    sc = spec(target)
    for key, values in grid.items():
        if not values:
            raise ConfigError(f"--grid {key} has no values; give values like {key}=1,2,3")
        if key in overrides:
            raise ConfigError(f"{key} is both swept (--grid) and fixed (--set); keep one")
    plan = SweepPlan(sc.id, _json(grid), replicates, seed, _json(overrides), device, threads)
    for point in plan.points():
        try:
            sc.resolve(**plan.overrides, **point)
        except ConfigError as exc:
            where = ", ".join(f"{k}={json.dumps(v)}" for k, v in point.items())
            raise ConfigError(f"grid point {where or '(none)'}: {exc}") from None
    return plan


# ---- one replicate (runs on a worker) --------------------------------------------------------
def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    os.replace(tmp, path)


def _result_path(path: Path) -> Path:
    return path.with_suffix(".json")


def read_result(out_dir: str | Path, run: RunSpec) -> dict[str, Any] | None:
    """The finished replicate's row, or None while it has not finished (or is unreadable)."""
    try:
        data = json.loads(_result_path(Path(out_dir) / run.file).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    ok = isinstance(data, dict) and data.get("seed") == run.seed
    return data if ok and isinstance(data.get("result"), dict) else None


def _matches(path: Path, run: RunSpec) -> bool:
    """The run file was started by this replicate (same seed and seed sequence)."""
    file, meta = open_run_spec(path)
    file.close()
    return meta.get("seed") == run.seed and meta.get("seed_sequence") == run.spec_extra()[
        "seed_sequence"
    ]


def run_replicate(run: RunSpec, out_dir: str) -> dict[str, Any]:
    """Run (or finish) one replicate into its own run file; returns its index row data.

    A run file that this replicate started continues from its checkpoint; a file without a
    readable checkpoint (killed before the first one) is started again; a file another
    process holds locked fails the replicate (the sweep retries it later).
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(run.threads)
    try:
        return _run_replicate(run, Path(out_dir) / run.file)
    finally:
        torch.set_num_threads(threads)


def _run_replicate(run: RunSpec, path: Path) -> dict[str, Any]:
    start = time.perf_counter()
    model, start_step = None, 0
    if path.exists():
        try:
            if not _matches(path, run):
                raise ConfigError(
                    f"{path} belongs to another run (its seed differs); move it away and rerun"
                )
            start_step = checkpoint_step(checkpoint_path(path)) or 0
            model = resume(path, device=run.device, progress=False)
        except SnapshotError as exc:
            if "locked by another process" in str(exc):  # runformat.open_h5's wording
                raise ConfigError(
                    f"{path} is being written by another process (an earlier sweep still "
                    "running?); stop it, then run the sweep again to resume"
                ) from None
            model, start_step = None, 0  # no usable checkpoint yet: start it again
    if model is None:
        sc = spec(run.scenario)
        model = get_kind(sc.kind).model(sc.resolve(**run.overrides), seed=run.seed,
                                        device=run.device, scenario=sc.id)  # fmt: skip
        record(model, path, overwrite=True, progress=False, spec_extra=run.spec_extra())
    row = {"seed": run.seed, "steps": int(model.steps), "start_step": start_step,
           "result": model.result(),
           "seconds": round(time.perf_counter() - start, 3)}  # fmt: skip
    _write_json(_result_path(path), row)
    return row


# ---- the driver ----------------------------------------------------------------------------
def _index_value(value: Any) -> Any:
    return value if isinstance(value, str | int | float) and not isinstance(value, bool) else (
        json.dumps(value)
    )


def write_index(out_dir: Path, plan: SweepPlan, rows: dict[int, dict[str, Any]]) -> Path:
    """Write ``index.csv`` atomically: one row per replicate, pending ones included."""
    runs = plan.runs()
    figures: list[str] = []
    for row in rows.values():
        figures += [k for k in row.get("result", {}) if k not in figures]
    columns = [*plan.grid, *INDEX_COLUMNS, *figures]
    path = out_dir / INDEX_FILE
    tmp = out_dir / f".{INDEX_FILE}.tmp"
    with tmp.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(columns)
        for i, run in enumerate(runs):
            row = rows.get(i, {})
            result = row.get("result", {})
            values = [*(_index_value(v) for v in run.grid.values()), run.point, run.replicate,
                      run.seed, run.file, row.get("status", "pending"), row.get("seconds", "")]
            values += [result.get(k, "") for k in figures]  # fmt: skip
            writer.writerow(values)
    os.replace(tmp, path)
    return path


def prepare_dir(out_dir: str | Path, plan: SweepPlan) -> Path:
    """Create the sweep folder (or check it holds this same sweep) and write ``sweep.json``."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} is a file; a sweep writes a folder: choose another --out")
    plan_file = out / PLAN_FILE
    if plan_file.exists():
        try:
            old = SweepPlan.from_dict(json.loads(plan_file.read_text(encoding="utf-8")),
                                      str(plan_file))  # fmt: skip
        except ValueError:
            raise ConfigError(f"{plan_file} is damaged; choose another --out") from None
        if old != plan:
            diff = [k for k, v in plan.to_dict().items() if old.to_dict().get(k) != v]
            raise ConfigError(
                f"{out} holds another sweep (it differs in {', '.join(diff)}); rerun it with its "
                "own settings to resume it, or choose another --out"
            )
    elif out.exists() and any(out.iterdir()):
        raise ConfigError(f"--out {out} is not empty and holds no sweep; choose another --out")
    try:
        (out / RUNS).mkdir(parents=True, exist_ok=True)
        if not plan_file.exists():
            _write_json(plan_file, plan.to_dict())
    except OSError as exc:
        raise ConfigError(f"cannot write the sweep folder {out} ({exc.strerror or exc})") from None
    return out


ExecutorSource = Executor | Callable[[], AbstractContextManager[Executor]]


def run_sweep(
    plan: SweepPlan,
    out_dir: str | Path,
    executor: ExecutorSource,
    *,
    retries: int = 1,
    on_done: Callable[[RunSpec, dict[str, Any]], None] | None = None,
    index_every: float = 2.0,
) -> list[dict[str, Any]]:
    """Run every unfinished replicate of ``plan`` into ``out_dir``; returns the index rows.

    Args:
        plan: the frozen sweep (``plan_sweep``).
        out_dir: the sweep folder (created, or checked to hold this same sweep).
        executor: an open ``Executor``, or a factory of context managers yielding one (a
            fresh one is opened for each retry round, so a broken process pool is replaced).
        retries: rounds of retrying failed replicates (each resumes from its checkpoint).
        on_done: called in the driver after each replicate finishes.
        index_every: seconds between rewrites of ``index.csv`` while the sweep runs.
    """
    out = prepare_dir(out_dir, plan)
    runs = plan.runs()
    rows: dict[int, dict[str, Any]] = {}
    for i, run in enumerate(runs):
        done = read_result(out, run)
        if done is not None:
            rows[i] = {**done, "status": "done"}
    write_index(out, plan, rows)
    for _round in range(retries + 1):
        todo = [i for i in range(len(runs)) if rows.get(i, {}).get("status") != "done"]
        if not todo:
            break
        source = nullcontext(executor) if isinstance(executor, Executor) else executor()
        with source as ex:
            futures = {ex.submit(run_replicate, runs[i], str(out)): i for i in todo}
            last = time.monotonic()
            for future in as_completed(futures):
                i = futures[future]
                try:
                    rows[i] = {**future.result(), "status": "done"}
                except Exception as exc:  # bad run, broken pool, lost worker: retried
                    rows[i] = {"status": "failed", "error": _one_line(exc)}
                else:
                    if on_done is not None:
                        on_done(runs[i], rows[i])
                if time.monotonic() - last > index_every:
                    write_index(out, plan, rows)
                    last = time.monotonic()
        write_index(out, plan, rows)
    return [rows.get(i, {"status": "pending"}) for i in range(len(runs))]


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"


def summary_line(plan: SweepPlan, rows: list[dict[str, Any]], seconds: float) -> str:
    """``12/12 replicates done in 3.4 s`` (+ how many failed)."""
    done = sum(r.get("status") == "done" for r in rows)
    failed = [r for r in rows if r.get("status") == "failed"]
    text = f"{plan.scenario}: {done}/{len(rows)} replicates done in {seconds:.1f} s"
    if failed:
        text += f"; {len(failed)} failed (first: {failed[0].get('error')})"
    return text


__all__ = [
    "INDEX_COLUMNS",
    "INDEX_FILE",
    "PLAN_FILE",
    "RunSpec",
    "SweepPlan",
    "parse_grid",
    "plan_sweep",
    "prepare_dir",
    "read_result",
    "run_replicate",
    "run_sweep",
    "split_values",
    "summary_line",
    "write_index",
]
