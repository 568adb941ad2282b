"""Where a run file goes and what stops a write: output checks, room checks, write failures.

The recorder asks this module before it starts (``check_writable``), before each block it
writes (``check_room``) and when a write failed (``is_write_failure``, ``write_failed``): a
full disk, a file size limit or an I/O error becomes one line naming the resume point.
"""

from __future__ import annotations

import errno
import resource
import shutil
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from neurosoup.particles import ConfigError, SnapshotError

from .outputs import check_output

#: headroom kept free beyond the estimated bytes of a write (HDF5 metadata, chunk rounding)
ROOM_MARGIN = 1 << 20


class NoRoom(SnapshotError):
    """The next write would not fit (disk space or the file size limit): stopped before it."""


def checkpoint_path(path: str | Path) -> Path:
    """The sibling checkpoint file of a run file."""
    return Path(f"{path}.ckpt")


def reason(exc: OSError) -> str:
    """The short cause of an ``OSError`` (its strerror, else the text in its last brackets)."""
    return exc.strerror or str(exc).split("(")[-1].rstrip(")") or type(exc).__name__


def check_writable(path: str | Path, *, overwrite: bool = False) -> None:
    """Refuse a run file's path before any work (``outputs.check_output``); make its folder.

    Refused besides: a file another process is writing (a live run holds it locked).
    """
    path = check_output(path, "file", overwrite=overwrite, noun="run file", example="run.h5")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"cannot write run file {path} ({reason(exc)}); choose a writable --out"
        ) from None
    if path.exists():  # --overwrite: never truncate a file a live run holds open
        try:
            h5py.File(path, "r+").close()
        except OSError as exc:
            if "unable to lock" in str(exc) or getattr(exc, "errno", None) == 11:
                raise ConfigError(
                    f"{path} is being written by another process (a run still going?); wait "
                    "for it to finish or choose another --out"
                ) from None


def nbytes(value: Any) -> int:
    """Bytes of arrays nested in dicts, lists and tuples (an estimate of what a write adds)."""
    if isinstance(value, dict):
        return sum(nbytes(v) for v in value.values())
    if isinstance(value, list | tuple):
        return sum(nbytes(v) for v in value)
    return int(np.asarray(value).nbytes) if value is not None else 0


def check_room(path: Path, need: int, *, ckpt: bool, first_step: int) -> None:
    """Stop cleanly, before writing, when the next write would not fit.

    A write that fails half-way leaves HDF5 unable to reopen the file; checked first, the
    file stays whole and the last checkpoint resumes it once there is room again. ``need``:
    the bytes of the block about to be written; the estimate adds the last checkpoint's size
    (when a checkpoint follows), doubles it and adds ``ROOM_MARGIN``; it is compared with the
    free disk space and ``RLIMIT_FSIZE``. ``first_step``: the block's first step (the message).
    """
    ckpt_size = 0
    if ckpt and checkpoint_path(path).exists():
        ckpt_size = checkpoint_path(path).stat().st_size
    need = 2 * (need + ckpt_size) + ROOM_MARGIN
    free = shutil.disk_usage(path.parent).free
    limit = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
    size = path.stat().st_size
    over_limit = limit != resource.RLIM_INFINITY and size + need > limit
    if free < need or over_limit:
        what = (f"the file size limit is {limit / 1e6:.1f} MB" if over_limit
                else f"{free / 1e6:.1f} MB free on its disk")  # fmt: skip
        at = checkpoint_step(path)
        then = (f"then `neurosoup resume {path}` continues from its checkpoint (step "
                f"{at})" if at is not None else "then run it again")  # fmt: skip
        raise NoRoom(
            f"{path}: stopped before writing step {first_step}: the next write needs about "
            f"{need / 1e6:.1f} MB and {what}; make room, {then}"
        )


def write_failed(path: Path, exc: OSError, step: int | None) -> SnapshotError:
    """The one line for a write that failed mid-run (full disk, file size limit, I/O error)."""
    then = (
        f"free space, then `neurosoup resume {path}` continues from its checkpoint (step {step})"
        if step is not None
        else "free space and run it again"
    )
    return SnapshotError(f"{path}: writing the run file failed ({reason(exc)}); {then}")


def is_write_failure(exc: BaseException) -> bool:
    """True for a full disk, a file size limit or an I/O error while writing."""
    if isinstance(exc, OSError) and exc.errno in (errno.EFBIG, errno.ENOSPC, errno.EIO,
                                                   errno.EDQUOT):  # fmt: skip
        return True
    text = str(exc)
    marks = ("write failed", "File too large", "No space left", "unable to extend file")
    return any(m in text for m in (*marks, "errno = 27", "errno = 28"))


def close_quietly(file: h5py.File) -> None:
    """Close ``file`` if it is open, ignoring the errors of a file whose writes failed."""
    try:
        if file.id.valid:
            file.close()
    except (OSError, RuntimeError):
        pass


def checkpoint_step(path: Path) -> int | None:
    """The step of ``path``'s checkpoint, None when it has none (or it cannot be read)."""
    try:
        with h5py.File(checkpoint_path(path), "r") as f:
            return int(f.attrs["step"])
    except (OSError, KeyError):
        return None


__all__ = [
    "ROOM_MARGIN",
    "NoRoom",
    "check_room",
    "check_writable",
    "checkpoint_path",
    "checkpoint_step",
    "close_quietly",
    "is_write_failure",
    "nbytes",
    "reason",
    "write_failed",
]
