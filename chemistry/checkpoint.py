"""Checkpoint files: a soup's full state as a small HDF5 file, replaced atomically.

Layout: ``/store/<field>`` arrays (``ParticleStore.state_dict``), ``/rng/torch`` (uint8),
``/bonds`` [E, 2], ``/org_uid``, ``/org_id``; attributes ``tick``, ``next_org``,
``next_uid``, ``rng_numpy`` (JSON) and ``observables`` (JSON). Written to ``<path>.tmp``,
flushed, then ``os.replace``d, so a crash leaves either the old or the new checkpoint.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from neurosoup.particles import SnapshotError

_ARRAYS = ("bonds", "org_uid", "org_id")
_STORE_FIELDS = ("weights", "alive", "uid", "parent_uid", "born_at", "ptype", "momentum", "free")


def write_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Write ``Soup.state()`` output to ``path`` atomically."""
    tmp = Path(f"{path}.tmp")
    with h5py.File(tmp, "w") as f:
        f.attrs["format"] = "neurosoup-checkpoint"
        f.attrs["tick"] = int(state["tick"])
        f.attrs["next_org"] = int(state["next_org"])
        f.attrs["next_uid"] = int(state["store"]["next_uid"])
        f.attrs["rng_numpy"] = state["rng"]["numpy"]
        f.attrs["observables"] = state["observables"]
        f.create_dataset("rng/torch", data=np.asarray(state["rng"]["torch"], dtype=np.uint8))
        for name in _STORE_FIELDS:
            f.create_dataset(f"store/{name}", data=np.asarray(state["store"][name]))
        for name in _ARRAYS:
            f.create_dataset(name, data=np.asarray(state[name], dtype=np.int64))
        f.flush()
    os.replace(tmp, path)


def read_checkpoint(path: Path) -> dict[str, Any]:
    """Read a checkpoint back into ``Soup.state()`` form; damage raises ``SnapshotError``."""
    if not path.is_file():
        raise SnapshotError(
            f"checkpoint {path} is missing, so this run cannot be resumed; "
            "start it again with `neurosoup run`"
        )
    try:
        with h5py.File(path, "r") as f:
            if f.attrs.get("format") != "neurosoup-checkpoint":
                raise SnapshotError(f"{path} is not a neurosoup checkpoint; start the run again")
            store = {name: f[f"store/{name}"][()] for name in _STORE_FIELDS}
            store["next_uid"] = int(f.attrs["next_uid"])
            state: dict[str, Any] = {name: f[name][()] for name in _ARRAYS}
            state.update(
                tick=int(f.attrs["tick"]),
                next_org=int(f.attrs["next_org"]),
                observables=str(f.attrs["observables"]),
                store=store,
                rng={"numpy": str(f.attrs["rng_numpy"]), "torch": f["rng/torch"][()]},
            )
    except (OSError, KeyError) as exc:
        raise SnapshotError(
            f"checkpoint {path} is damaged ({exc}); start the run again with `neurosoup run`"
        ) from None
    return state


__all__ = ["read_checkpoint", "write_checkpoint"]
