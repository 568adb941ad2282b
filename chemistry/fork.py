"""Forking a run: a new run file that starts from a parent's stored state at a past step.

The fork is the parent's run file up to step ``at`` (copied, then truncated exactly as a
resume truncates) with the model restored from the parent's checkpoint of that step (its
history, ``checkpoint_history.py``), the ``--set`` changes applied to its config and, with
``reseed``, fresh random streams; then it runs on like a resumed run. Its spec records
``fork = {parent, step, changes, reseed}``. With no change and no reseed the continuation is
the parent's own: the fork's datasets equal the parent's (a resume from an older checkpoint).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import torch

from neurosoup.particles import ConfigError, SnapshotError, runformat

from .checkpoint import read_checkpoint, write_checkpoint
from .checkpoint_history import checkpoint_at, copy_history, keep_checkpoint
from .model_kinds import get_kind
from .recorder import (
    Recorder,
    _check_code,
    _keep,
    check_writable,
    checkpoint_path,
    open_run_spec,
)
from .rng import RunRng, check_seed


def fork_config(kind: str, config: dict[str, Any], sets: dict[str, Any]) -> Any:
    """The parent's config with ``sets`` applied (unknown keys raise ``ConfigError``)."""
    return get_kind(kind).config.from_dict(config).replace(**sets)


def _layout_paths(model: Any) -> set[str]:
    layout = model.layout()
    paths = {f"{runformat.OBSERVABLES}/{name}" for name in layout.observables}
    return paths | {s.path for s in layout.series} | {t.path for t in layout.tables}


def fork(
    parent: str | Path,
    at: int,
    out: str | Path,
    *,
    sets: dict[str, Any] | None = None,
    reseed: int | None = None,
    steps: int | None = None,
    overwrite: bool = False,
    device: torch.device | str | None = None,
    progress: bool = True,
    keep_checkpoints: int | None = None,
) -> Any:
    """Fork ``parent`` at step ``at`` into ``out`` and run it on; returns the model.

    ``steps``: steps to run after ``at`` (default: up to the fork's planned steps).
    """
    parent, out = Path(parent), Path(out)
    sets = dict(sets or {})
    if isinstance(at, bool) or not isinstance(at, int) or at < 0:
        raise ConfigError(f"--at must be a step >= 0, got {at!r}")
    if steps is not None and (isinstance(steps, bool) or steps < 0):
        raise ConfigError(f"--steps must be an int >= 0, got {steps}")
    if reseed is not None:
        check_seed(reseed)
    keep = _keep(keep_checkpoints)
    if out.resolve() == parent.resolve():
        raise ConfigError(f"--out {out} is the parent file; give the fork a new file name")
    file, spec = open_run_spec(parent)
    try:
        runformat.verify(file, parent)
    finally:
        file.close()
    kind = get_kind(spec.get("kind"), where=str(parent))
    ckpt = checkpoint_at(parent, at, checkpoint_path(parent))
    config = fork_config(kind.name, spec["config"], sets)
    check_writable(out, overwrite=overwrite)
    recorded = str(spec.get("device") or "cpu")
    if device is not None and torch.device(device).type != torch.device(recorded).type:
        raise ConfigError(
            f"{parent} was run on {recorded} but fork asked for {torch.device(device).type}; "
            f"fork on the same device type (--device {torch.device(recorded).type})"
        )
    model = kind.model(config, seed=int(spec["seed"]), device=device or recorded,
                       scenario=spec.get("scenario"))  # fmt: skip
    _check_code(parent, spec.get("code") or {}, model.provenance())
    with runformat.open_h5(parent) as f:
        missing = sorted(p for p in _layout_paths(model) if p not in f)
    if missing:
        raise ConfigError(
            f"--set {', '.join(sets) or '(none)'} changes what the run records "
            f"({missing[0]} is new); start a new run with `neurosoup run` instead"
        )
    model.restore(read_checkpoint(ckpt))
    if model.steps != at:
        raise SnapshotError(f"{ckpt} holds step {model.steps}, not {at}; it is damaged")
    if reseed is not None:  # same generator objects, new streams: Mesa's rng follows
        model.rngs.restore(RunRng.from_seed(reseed, model.device).state())
    tmp = out.with_name(f".{out.name}.fork")
    shutil.copyfile(parent, tmp)
    try:
        with runformat.open_h5(tmp, "r+") as f:
            new = dict(spec)
            for key in ("format_version",):
                new.pop(key, None)
            new["config"] = config.to_dict()
            new["steps_planned"] = int(config.steps)
            new["fork"] = {"parent": str(parent), "step": int(at), "changes": sets,
                           "reseed": reseed}  # fmt: skip
            del f[runformat.SPEC]
            f.create_dataset(runformat.SPEC, data=json.dumps(new))
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    checkpoint_path(out).unlink(missing_ok=True)
    copy_history(parent, out, at, keep)
    write_checkpoint(checkpoint_path(out), model.state(), kind=model.kind, step=at)
    keep_checkpoint(out, checkpoint_path(out), at, keep)
    recorder = Recorder.reopen(out, model, keep)
    planned = int(config.steps)
    recorder.run(max(planned - at, 0) if steps is None else steps, progress=progress)
    return model


__all__ = ["fork", "fork_config"]
