"""Output paths: one check, before any work, for every file or folder a command writes.

``check_output(path, "file" | "folder")`` refuses, with one line that names the path and the
fix: a folder where a file is expected, a regular file where a folder is expected (also as
any ancestor of the path), an existing file without ``overwrite``, and a place this process
cannot write (probed with a one-byte file in the nearest existing folder, because permission
bits say nothing to root and a read-only mount shows only on writing). Nothing is created:
a refused command leaves no folder behind.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Literal

from neurosoup.particles import ConfigError

What = Literal["file", "folder"]


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc).split("(")[-1].rstrip(")") or type(exc).__name__


def _nearest_existing(path: Path) -> Path:
    """``path`` or its nearest ancestor that exists (the current folder at worst)."""
    for candidate in (path, *path.parents):
        if candidate.exists() or candidate.is_symlink():
            return candidate
    return Path.cwd()


def check_output(
    path: str | Path,
    what: What = "file",
    *,
    overwrite: bool = False,
    option: str = "--out",
    noun: str | None = None,
    example: str = "out.h5",
) -> Path:
    """Refuse an output path this command cannot use (``ConfigError``); returns it as a Path.

    Args:
        path: the file or folder the command will write.
        what: ``file`` (a file is written at ``path``) or ``folder`` (files go inside it; an
            existing folder is fine: sweeps resume and figures are redrawn into it).
        overwrite: an existing file may be replaced (``--overwrite``).
        option: the command-line option that named the path, for the fix in the message.
        noun: what is written, e.g. ``run file`` (default: ``file`` or ``folder``).
        example: a file name to suggest when a folder was given for a file.
    """
    path = Path(path)
    noun = noun or what
    if what == "file" and path.is_dir():
        raise ConfigError(
            f"{option} {path} is a folder, but a {noun} is written there; give a file name "
            f"such as {path / example}"
        )
    if what == "folder" and path.exists() and not path.is_dir():
        raise ConfigError(
            f"{option} {path} is a file, but a {noun} is written there; choose another {option}"
        )
    if what == "file" and path.exists() and not overwrite:
        raise ConfigError(
            f"refusing to overwrite existing {noun} {path}; pass --overwrite or choose "
            f"another {option}"
        )
    base = _nearest_existing(path.parent if what == "file" else path)
    if not base.is_dir():
        raise ConfigError(
            f"cannot write {noun} {path} ({base} is a file, not a folder); choose a writable "
            f"{option}"
        )
    try:
        fd, probe = tempfile.mkstemp(prefix=".neurosoup-", suffix=".probe", dir=base)
        try:
            os.write(fd, b"0")
        finally:
            os.close(fd)
            os.unlink(probe)
    except OSError as exc:
        raise ConfigError(
            f"cannot write {noun} {path} ({_reason(exc)} in {base}); choose a writable {option}"
        ) from None
    return path


__all__ = ["check_output"]
