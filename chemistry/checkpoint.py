"""Checkpoint files: any model's ``state()`` — a nested dict of arrays and plain scalars.

Layout: a dict is a group; a numpy array (or torch tensor, stored as its numpy array) is a
dataset; a string is a scalar string dataset marked ``type = "str"``; an int, float or bool is
an attribute. Nothing is pickled, so reading executes nothing. Written to ``<path>.tmp``,
flushed, then ``os.replace``d, so a crash leaves either the old or the new checkpoint.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import torch

from neurosoup.particles import SnapshotError, runformat


def _write(group: h5py.Group, state: dict[str, Any], where: str) -> None:
    for key, value in state.items():
        if not isinstance(key, str) or "/" in key or not key:
            raise TypeError(f"checkpoint key {key!r} at {where or '/'} must be a plain string")
        if isinstance(value, dict):
            _write(group.create_group(key), value, f"{where}/{key}")
        elif isinstance(value, str):
            ds = group.create_dataset(key, data=value, dtype=h5py.string_dtype())
            ds.attrs["type"] = "str"
        elif isinstance(value, bool | int | float | np.bool_ | np.integer | np.floating):
            group.attrs[key] = value
        elif isinstance(value, torch.Tensor):
            group.create_dataset(key, data=value.detach().cpu().numpy())
        elif isinstance(value, np.ndarray):
            group.create_dataset(key, data=value)
        else:
            raise TypeError(
                f"checkpoint value {where}/{key} is a {type(value).__name__}; state() must "
                "return dicts, arrays, strings and numbers only"
            )


def _scalar(value: Any) -> Any:
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value.decode() if isinstance(value, bytes) else value


def _read(group: h5py.Group) -> dict[str, Any]:
    out: dict[str, Any] = {k: _scalar(v) for k, v in group.attrs.items()}
    for key, item in group.items():
        if isinstance(item, h5py.Group):
            out[key] = _read(item)
        elif item.attrs.get("type") == "str":
            out[key] = item.asstr()[()]
        else:
            out[key] = item[()]
    return out


def write_checkpoint(path: Path, state: dict[str, Any], *, kind: str, step: int) -> None:
    """Write ``state`` (a model's ``state()``) to ``path`` atomically."""
    tmp = Path(f"{path}.tmp")
    with h5py.File(tmp, "w") as f:
        f.attrs.update(format=runformat.CHECKPOINT_FORMAT,
                       format_version=runformat.CHECKPOINT_VERSION, kind=kind, step=int(step))
        _write(f.create_group("state"), state, "")
        f.flush()
    os.replace(tmp, path)


def read_checkpoint(path: Path) -> dict[str, Any]:
    """Read a checkpoint back into ``state()`` form; damage raises ``SnapshotError``."""
    if not path.is_file():
        raise SnapshotError(
            f"checkpoint {path} is missing, so this run cannot be resumed; "
            "start it again with `neurosoup run`"
        )
    try:
        f = runformat.open_h5(path)
    except SnapshotError as exc:
        raise SnapshotError(
            f"checkpoint {exc} — it is damaged, so the run cannot be resumed; start it again "
            "with `neurosoup run`"
        ) from None
    try:
        with f:
            if f.attrs.get("format") != runformat.CHECKPOINT_FORMAT:
                raise SnapshotError(f"{path} is not a neurosoup checkpoint; start the run again")
            version = int(f.attrs.get("format_version", 1))
            if version != runformat.CHECKPOINT_VERSION:
                raise SnapshotError(
                    f"{path} is a format-{version} checkpoint; this neurosoup resumes format "
                    f"{runformat.CHECKPOINT_VERSION} only: start the run again (its run file "
                    "can still be analysed)"
                )
            return _read(f["state"])
    except (OSError, KeyError) as exc:
        raise SnapshotError(
            f"checkpoint {path} is damaged ({exc}); start the run again with `neurosoup run`"
        ) from None


def checkpoint_step(path: Path) -> int | None:
    """The step a checkpoint holds, without reading its state (None: missing or unreadable)."""
    try:
        with h5py.File(path, "r") as f:
            return int(f.attrs["step"])
    except (OSError, KeyError, TypeError, ValueError):
        return None


__all__ = ["checkpoint_step", "read_checkpoint", "write_checkpoint"]
