"""Hand-built run files for the analysis tests, written with h5py after docs/runfile.md."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np

from neurosoup.particles import TYPE_LABELS, ParticleSpec, runformat

#: the format-1 operator list (these fixtures write version-1 files unless told otherwise)
OPERATORS = ["attack", "apply_to_other", "learn_from", "melt", "merge", "self_apply", "respawn"]
TYPES = TYPE_LABELS
#: every figure a run with snapshots, lineage, organisms and fixpoints yields
ALL_FIGURES = (
    "counts", "final_counts", "trajectories", "lineage", "organisms", "robustness", "basins",
    "basins_linspace", "distances_mim", "complexity", "muller",
)  # fmt: skip


def default_spec(n_particles: int, steps: int, particle: ParticleSpec | None = None) -> dict:
    particle = particle or ParticleSpec()
    return {
        "scenario": "soup/test-v1",
        "seed": 0,
        "steps_planned": steps,
        "device": "cpu",
        "dtype": "float32",
        "config": {"particle": particle.to_dict(), "epsilon": 1e-5, "n_particles": n_particles},
    }


def _series(group: h5py.Group, name: str, step, value, **kw) -> None:
    g = group.create_group(name)
    g.create_dataset("step", data=np.asarray(step, dtype=np.int64))
    g.create_dataset("value", data=value, **kw)


def write_run(
    path: Path,
    *,
    steps: np.ndarray,
    weights: np.ndarray,
    uid: np.ndarray,
    ptype: np.ndarray,
    parent_uid: np.ndarray | None = None,
    born_at: np.ndarray | None = None,
    observables: dict[str, np.ndarray] | None = None,
    obs_steps: np.ndarray | None = None,
    events: dict[str, np.ndarray] | None = None,
    births: dict[str, np.ndarray] | None = None,
    deaths: dict[str, np.ndarray] | None = None,
    bonds: list[np.ndarray] | None = None,
    spec: dict | None = None,
    format_version: int = 1,
) -> Path:
    """Write a run file: snapshots [S, C, ...] plus optional tables."""
    s, c = uid.shape
    parent_uid = np.full((s, c), -1) if parent_uid is None else parent_uid
    born_at = np.zeros((s, c)) if born_at is None else born_at
    with h5py.File(path, "w") as f:
        f.attrs["format"] = runformat.FORMAT
        f.attrs["format_version"] = format_version
        f.attrs["package_version"] = "0.1.0"
        f.attrs["kind"] = "soup"
        spec = spec or default_spec(c, int(steps[-1]))
        f.create_dataset("parameters/spec", data=json.dumps(spec))
        obs = f.create_group("observables")
        if observables is None:  # counts from the snapshots
            obs_steps = steps
            observables = {
                f"count_{t}": (ptype == code).sum(axis=1).astype(np.float64)
                for code, t in enumerate(TYPES)
            }
            observables["n_alive"] = (uid >= 0).sum(axis=1).astype(np.float64)
        for name, value in observables.items():
            _series(obs, name, obs_steps, np.asarray(value, dtype=np.float64))
        part = f.create_group("particles/all")
        _series(part, "weights", steps, weights.astype(np.float32), chunks=(1, c, weights.shape[2]))
        _series(part, "uid", steps, uid.astype(np.int64), compression="gzip")
        _series(part, "parent_uid", steps, parent_uid.astype(np.int64), compression="gzip")
        _series(part, "born_at", steps, born_at.astype(np.int64), compression="gzip")
        _series(part, "ptype", steps, ptype.astype(np.int8), compression="gzip")
        bonds = bonds if bonds is not None else [np.zeros((0, 2), dtype=np.int64)] * s
        b = f.create_group("connectivity/bonds")
        b.create_dataset("step", data=np.asarray(steps, dtype=np.int64))
        b.create_dataset("count", data=np.asarray([len(x) for x in bonds], dtype=np.int64))
        b.create_dataset("value", data=np.concatenate(bonds).reshape(-1, 2).astype(np.int64))
        ev = f.create_group("events")
        ev.attrs["operators"] = json.dumps(OPERATORS)
        events = events or {
            k: np.zeros(0, dtype=np.int64)
            for k in ("tick", "operator", "actor", "counterpart", "changed")
        }
        for k, v in events.items():
            ev.create_dataset(k, data=v)
        if "applied" not in events:
            ev.create_dataset("applied", data=np.ones(len(events["tick"]), dtype=bool))
        if births is not None:
            g = f.create_group("lineage/births")
            for k, v in births.items():
                g.create_dataset(k, data=np.asarray(v))
        if deaths is not None:
            g = f.create_group("lineage/deaths")
            for k, v in deaths.items():
                g.create_dataset(k, data=np.asarray(v))
    return path
