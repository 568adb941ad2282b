"""Small real run files of every kind, written in-process (seconds), for the viz tests."""

from __future__ import annotations

from pathlib import Path

from neurosoup.chemistry import evolution
from neurosoup.chemistry.evolution import Evolution, EvolutionConfig
from neurosoup.chemistry.recorder import record
from neurosoup.scenarios import make
from tests.chemistry import serann_fakes

#: kind → (scenario, overrides) of the run written for it
SCENARIOS = {
    "soup": ("soup/merge-v1", {"n_particles": 12, "steps": 5, "merge.rate": 0.2}),
    "organism": ("organism/digits-v1", {"steps": 2, "n_batches": 2, "snapshot_every": 1}),
    "quine": ("quine/works-v1", {"steps": 3, "hidden": 8, "snapshot_every": 1}),
}


def write_runs(folder: Path) -> dict[str, Path]:
    """One run file per kind in ``folder``; the evolution run uses a fake copier (no learning)."""
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for kind, (scenario, sets) in SCENARIOS.items():
        out[kind] = folder / f"{kind}.h5"
        record(make(scenario, seed=1, **sets), out[kind], progress=False)
    saved = evolution.run_job
    evolution.run_job = serann_fakes.noisy(0.03)
    try:
        out["evolution"] = folder / "evolution.h5"
        model = Evolution(EvolutionConfig(population=16, steps=4), seed=1,
                          scenario="serann/smoke-v1")  # fmt: skip
        record(model, out["evolution"], progress=False)
    finally:
        evolution.run_job = saved
    return out
