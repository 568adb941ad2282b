"""Kill a running ``neurosoup run`` with SIGKILL at seeded random moments, resume, compare.

One ``Case`` per model kind: a registered scenario made small with ``--set``, planned far
longer than the test runs (the child never finishes), and ``end``, the step the resumed run
is continued to and the uninterrupted reference run is recorded to. ``kill_and_resume``
waits until the child's checkpoint reaches a seeded random step, sleeps a seeded random part
of a checkpoint interval (so kills land inside steps, flushes and checkpoint writes), kills,
then checks: the file opens; every dataset is a prefix of the reference's (every row before
the last flush intact, nothing half-written visible); the observables reach the checkpoint;
and after ``neurosoup resume`` the file equals the reference file dataset for dataset.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from neurosoup.analysis import open_run as analyse
from neurosoup.chemistry.recorder import open_run_spec, record
from neurosoup.scenarios import make
from neurosoup.scenarios.cli import main
from tests.scenarios.helpers import checkpoint_step, dump, kill_after_checkpoint


@dataclass(frozen=True)
class Case:
    """One kind's scenario, made small; ``end`` = steps of the compared runs."""

    scenario: str
    seed: int
    sets: dict = field(default_factory=dict)
    end: int = 40
    latest_kill: int = 25  # kills wait for a checkpoint at a step in [0, latest_kill]
    jitter_s: float = 0.05  # then sleep U(0, jitter_s)
    planned: int = 5000

    def overrides(self) -> dict:
        return {"steps": self.planned, **self.sets}


CASES = {
    "soup": Case("soup/journal-v1", 9, {"n_particles": 20, "checkpoint_every": 3}),
    "organism": Case("organism/float-addition-v1", 3, {"n_batches": 3, "checkpoint_every": 2}),
    "quine": Case("quine/works-v1", 3, {"hidden": 8, "checkpoint_every": 2}),
    # real SeRANN training: about 1 s per generation; seed 0 stays alive for 9 generations
    "evolution": Case(
        "serann/smoke-v1",
        0,
        {"checkpoint_every": 1},
        end=7,
        latest_kill=4,
        jitter_s=1.0,
        planned=1000,
    ),
}
#: CI's shorter evolution (about 1 s per generation)
SHORT = {**CASES, "evolution": replace(CASES["evolution"], end=3, latest_kill=1, jitter_s=0.5)}


def reference(case: Case, path: Path) -> Path:
    """The uninterrupted run of ``case`` to ``case.end``, recorded once per path."""
    if not path.exists():
        model = make(case.scenario, seed=case.seed, **case.overrides())
        record(model, path, case.end, progress=False)
    return path


def _command(case: Case, path: Path) -> list[str]:
    cmd = [sys.executable, "-m", "neurosoup.scenarios.cli", "run", case.scenario, "--seed",
           str(case.seed), "--out", str(path), "--quiet"]  # fmt: skip
    for key, value in case.overrides().items():
        cmd += ["--set", f"{key}={value}"]
    return cmd


def assert_prefix_of(killed: Path, whole: Path) -> None:
    """Every dataset of ``killed`` equals the leading rows of the same dataset of ``whole``."""
    a, b = dump(killed), dump(whole)
    assert sorted(a) == sorted(b), set(a) ^ set(b)
    for key, x in a.items():
        x, y = np.asarray(x), np.asarray(b[key])
        if "@" in key or x.ndim == 0:
            assert np.array_equal(x, y), key
            continue
        assert x.dtype == y.dtype and x.ndim == y.ndim, key
        assert x.shape[0] <= y.shape[0], f"{key}: killed file ran past end; raise Case.end"
        head = y[tuple(slice(0, n) for n in x.shape)]
        assert np.array_equal(x, head, equal_nan=x.dtype.kind == "f"), key


def kill_and_resume(case: Case, rng: np.random.Generator, path: Path, whole: Path) -> dict:
    """One kill at a seeded random moment, the checks, the resume. Returns what happened."""
    target = int(rng.integers(0, case.latest_kill + 1))
    pause = float(rng.uniform(0, case.jitter_s))
    kill_after_checkpoint(_command(case, path), path, target, timeout=120, linger=pause)
    step = checkpoint_step(path)
    assert 0 <= step <= case.end, (step, case.end)

    file, meta = open_run_spec(path)  # the file opens
    file.close()
    assert meta["steps_planned"] == case.planned
    assert_prefix_of(path, whole)
    rows = assert_reaches(path, whole, step)
    with analyse(path) as run:  # and the analysis reads it
        assert len(run.observables) == rows

    assert main(["resume", str(path), "--steps", str(case.end - step), "--quiet"]) == 0
    return {"target": target, "pause": pause, "checkpoint": step, "rows": rows}


def assert_reaches(killed: Path, whole: Path, step: int) -> int:
    """Every series holds every row the reference recorded up to the checkpoint ``step``.

    Returns the number of observable rows of the killed file.
    """
    a, b = dump(killed), dump(whole)
    for key, ref in b.items():
        if key.endswith("/step") and "@" not in key:
            need = int(np.sum(np.asarray(ref) <= step))
            assert len(a[key]) >= need, f"{key}: {len(a[key])} rows, {need} before the checkpoint"
    return len({s for k, v in a.items() if k.startswith("observables/") and k.endswith("/step")
                for s in np.asarray(v).tolist()})  # fmt: skip
