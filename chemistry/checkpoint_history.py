"""The checkpoint history of a run: past checkpoints kept beside the run file, for ``fork``.

Every time the recorder replaces ``<run>.ckpt``, the new checkpoint is also kept as
``<run>.ckpts/step-<step>.ckpt`` — a hard link to the same bytes (a copy where links are
not possible), so keeping it costs no write; the bytes stay on disk once the next checkpoint
replaces ``<run>.ckpt``. The run file itself is untouched: its datasets are the same with or
without a history. At most ``keep`` entries stay (the newest; ``keep = 0`` keeps none), so the
disk cost is at most ``keep`` × the size of one checkpoint (``checkpoint_bytes``).
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from neurosoup.particles import ConfigError

from .checkpoint import checkpoint_step

#: checkpoints kept per run by default (``--keep-checkpoints``)
DEFAULT_KEEP = 100
_ENTRY = re.compile(r"^step-(\d+)\.ckpt$")


def history_dir(run: str | Path) -> Path:
    """The folder of a run file's past checkpoints."""
    return Path(f"{run}.ckpts")


def entry_path(run: str | Path, step: int) -> Path:
    """The history entry of ``step``."""
    return history_dir(run) / f"step-{int(step):010d}.ckpt"


def history_steps(run: str | Path) -> list[int]:
    """Steps with a kept checkpoint, ascending (the history only)."""
    folder = history_dir(run)
    if not folder.is_dir():
        return []
    return sorted(int(m.group(1)) for p in folder.iterdir() if (m := _ENTRY.match(p.name)))


def keep_checkpoint(run: str | Path, checkpoint: Path, step: int, keep: int) -> None:
    """Add the fresh ``checkpoint`` (of ``step``) to the history; drop the oldest past ``keep``."""
    if keep <= 0:
        return
    folder = history_dir(run)
    folder.mkdir(exist_ok=True)
    dest = entry_path(run, step)
    tmp = folder / f".{dest.name}.tmp"
    tmp.unlink(missing_ok=True)
    try:
        os.link(checkpoint, tmp)
    except OSError:  # no hard links here (another file system): a copy
        shutil.copyfile(checkpoint, tmp)
    os.replace(tmp, dest)
    for old in history_steps(run)[:-keep]:
        entry_path(run, old).unlink(missing_ok=True)


def drop_history(run: str | Path) -> None:
    """Remove a run file's history (a new run replaces the old file)."""
    shutil.rmtree(history_dir(run), ignore_errors=True)


def checkpoint_at(run: str | Path, step: int, latest: Path) -> Path:
    """The checkpoint file holding ``step``: a history entry, or the run's latest checkpoint.

    Raises:
        ConfigError: no stored state at ``step``; the one line names the nearest steps.
    """
    if entry_path(run, step).is_file():
        return entry_path(run, step)
    if checkpoint_step(latest) == step:
        return latest
    stored = sorted({*history_steps(run), *([s] if (s := checkpoint_step(latest)) is not None
                                              else [])})  # fmt: skip
    if not stored:
        raise ConfigError(f"{run} has no stored checkpoint; it cannot be forked")
    below = [s for s in stored if s < step]
    above = [s for s in stored if s > step]
    near = [str(x) for x in (below[-1:] + above[:1])]
    raise ConfigError(
        f"{run} has no stored state at step {step}; the nearest are {' and '.join(near)} "
        f"(stored: {_span(stored)}); pass one of them to --at"
    )


def _span(steps: list[int]) -> str:
    """``0, 5, 10 … 95 (20 steps)`` — short even for long histories."""
    if len(steps) <= 6:
        return ", ".join(map(str, steps))
    return f"{', '.join(map(str, steps[:3]))} … {steps[-1]} ({len(steps)} steps)"


def copy_history(src: str | Path, dst: str | Path, upto: int, keep: int) -> None:
    """Give a fork the parent's history entries before ``upto`` (hard links; newest ``keep``)."""
    drop_history(dst)
    if keep <= 0:
        return
    chosen = [s for s in history_steps(src) if s < upto][-(keep - 1):] if keep > 1 else []
    if chosen:
        history_dir(dst).mkdir(exist_ok=True)
    for step in chosen:
        try:
            os.link(entry_path(src, step), entry_path(dst, step))
        except OSError:
            shutil.copyfile(entry_path(src, step), entry_path(dst, step))


def truncate_history(run: str | Path, step: int) -> None:
    """Drop history entries after ``step`` (a resume from ``step`` rewrites them)."""
    for s in history_steps(run):
        if s > step:
            entry_path(run, s).unlink(missing_ok=True)


def checkpoint_bytes(run: str | Path) -> int:
    """Bytes of one checkpoint of the run (the latest), i.e. the disk cost per history entry."""
    latest = Path(f"{run}.ckpt")
    return latest.stat().st_size if latest.is_file() else 0


__all__ = [
    "DEFAULT_KEEP",
    "checkpoint_at",
    "checkpoint_bytes",
    "copy_history",
    "drop_history",
    "entry_path",
    "history_dir",
    "history_steps",
    "keep_checkpoint",
    "truncate_history",
]
