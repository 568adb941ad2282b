"""The HDF5 run file of any model kind (``docs/runfile.md``): writer, checkpoints, resume.

One writer core for every kind. A model's ``layout()`` names its observables, its series
(fixed frames or ragged rows, written every step or every snapshot) and its append-only
tables; the recorder subscribes to the model's steps and keeps each step's observables, table
rows, step series and snapshots (every k steps) in memory, in one ``Block`` (``run_blocks.py``).
At every checkpoint (every m steps) the block is written — one write per dataset — and
``flush()``ed, then the checkpoint is replaced, so a SIGKILL leaves every step up to the last
checkpoint readable. The checkpoint is a sibling file ``<run>.ckpt`` written under a temporary
name and ``os.replace``d. ``resume`` truncates every series and table to the checkpoint's step
and continues, so a resumed run writes the same file as an uninterrupted one. Output and room
checks live in ``run_output.py``. Nothing read from a file is ever executed: the spec is JSON,
the model class comes from the kinds whitelist.
"""

from __future__ import annotations

import json
from concurrent.futures import Executor
from importlib import metadata
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import torch

from neurosoup.particles import ConfigError, SnapshotError, runformat
from neurosoup.particles.runformat import FORMAT, FORMAT_VERSION
from neurosoup.particles.runformat.common import (
    ATTR_FORMAT,
    ATTR_KIND,
    ATTR_PACKAGE,
    ATTR_VERSION,
    COUNT,
    PARAMETERS,
    STEP,
    VALUE,
)

from .checkpoint import read_checkpoint, write_checkpoint
from .checkpoint_history import DEFAULT_KEEP, drop_history, keep_checkpoint, truncate_history
from .model_kinds import Layout, get_kind
from .run_blocks import Block, column, frames, ragged
from .run_output import (
    NoRoom,
    check_room,
    check_writable,
    checkpoint_path,
    checkpoint_step,
    close_quietly,
    is_write_failure,
    reason,
    write_failed,
)

try:
    PACKAGE_VERSION = metadata.version("neurosoup")
except metadata.PackageNotFoundError:  # running from a source tree that was never installed
    PACKAGE_VERSION = "unknown"

#: a block is written early (with a flush) once it holds this many bytes: big soups write
#: every snapshot as it comes (57 MB at N = 10⁶) instead of holding ``checkpoint_every`` of them
BLOCK_BYTES = 8 << 20


class Recorder:
    """Writes one model's run file; attach with ``Recorder.create`` or ``Recorder.reopen``.

    ``keep_checkpoints``: past checkpoints kept beside the file (``checkpoint_history.py``).
    """

    def __init__(self, path: Path, file: h5py.File, model: Any,
                 keep_checkpoints: int | None = None) -> None:  # fmt: skip
        self.path, self.file, self.model = path, file, model
        self.keep_checkpoints = _keep(keep_checkpoints)
        self.layout: Layout = model.layout()
        self._series = {s.path: s for s in self.layout.series}
        self.block = Block(self.layout, self._series)
        model.subscribe(self.after_step)

    # ---- opening -------------------------------------------------------------------------
    @classmethod
    def create(
        cls,
        path: str | Path,
        model: Any,
        *,
        steps_planned: int | None = None,
        overwrite: bool = False,
        spec_extra: dict[str, Any] | None = None,
        keep_checkpoints: int | None = None,
    ) -> Recorder:
        """Start a new run file for ``model`` (at step 0) and write step 0 and a checkpoint.

        ``spec_extra`` adds JSON entries to ``/parameters/spec`` after the standard ones (a
        sweep stores ``seed_sequence``); they may not replace a standard entry.
        """
        path = Path(path)
        check_writable(path, overwrite=overwrite)
        try:
            file = h5py.File(path, "w")
        except OSError as exc:
            raise ConfigError(
                f"cannot write run file {path} ({reason(exc)}); choose a writable --out"
            ) from None
        checkpoint_path(path).unlink(missing_ok=True)
        drop_history(path)
        try:
            return cls._start(path, file, model, steps_planned, spec_extra, keep_checkpoints)
        except BaseException as exc:  # nothing half-written stays behind a run that never began
            close_quietly(file)
            for p in (path, checkpoint_path(path), Path(f"{checkpoint_path(path)}.tmp")):
                p.unlink(missing_ok=True)
            drop_history(path)
            if isinstance(exc, OSError | RuntimeError) and is_write_failure(exc):
                raise write_failed(path, exc, None) from None
            raise

    @classmethod
    def _start(
        cls,
        path: Path,
        file: h5py.File,
        model: Any,
        steps_planned: int | None,
        spec_extra: dict[str, Any] | None = None,
        keep_checkpoints: int | None = None,
    ) -> Recorder:
        config = model.config.to_dict()
        spec: dict[str, Any] = {
            "kind": model.kind, "scenario": model.scenario, "seed": model.seed,
            "steps_planned": int(model.config.steps if steps_planned is None else steps_planned),
            "device": model.device.type,
        }  # fmt: skip
        if "dtype" in config:
            spec["dtype"] = config["dtype"]
        spec["config"] = config
        spec["code"] = model.provenance()
        for key, value in (spec_extra or {}).items():
            if key in spec:
                raise ConfigError(f"spec_extra may not replace the run file's own {key!r} entry")
            spec[key] = value
        file.attrs.update({ATTR_FORMAT: FORMAT, ATTR_VERSION: FORMAT_VERSION,
                           ATTR_PACKAGE: PACKAGE_VERSION, ATTR_KIND: model.kind})  # fmt: skip
        file.create_group(PARAMETERS).create_dataset(runformat.SPEC.split("/")[1],
                                                     data=json.dumps(spec))  # fmt: skip
        rec = cls(path, file, model, keep_checkpoints)
        obs = file.create_group(runformat.OBSERVABLES)
        for name, shape in rec.layout.observables.items():
            frames(obs.create_group(name), shape, np.float64)
        static = model.static_arrays() if hasattr(model, "static_arrays") else {}
        first = {**model.snapshot(), **static}  # static arrays: written once, with step 0
        for s in rec.layout.series:
            group = file.require_group(s.path)
            if s.ragged:
                ragged(group, s.shape, s.dtype)
            else:
                named = {rec._key(k): v for k, v in first.items()}
                frame = np.shape(named[s.path]) if s.path in named else s.shape
                frames(group, tuple(frame), s.dtype)
        for t in rec.layout.tables:
            group = file.require_group(t.path)
            for name, dtype, *shape in t.columns:
                column(group, name, dtype, tuple(shape[0]) if shape else ())
            group.attrs.update(t.attrs)
        rec.after_step(model, force=True, snapshot=first)
        return rec

    @classmethod
    def reopen(cls, path: str | Path, model: Any, keep_checkpoints: int | None = None) -> Recorder:
        """Reopen a run file for appending after truncating everything to ``model.steps``."""
        path = Path(path)
        file = runformat.open_h5(path, "r+")
        rec = cls(path, file, model, keep_checkpoints)
        rec.truncate(model.steps)
        truncate_history(path, model.steps)
        file.flush()
        model.restore_history(rec.history(model.steps))
        return rec

    # ---- writing -------------------------------------------------------------------------
    def after_step(
        self, model: Any, *, force: bool = False, snapshot: dict[str, np.ndarray] | None = None
    ) -> None:
        """Keep this step's rows (and snapshot, on its cadence); write them at a checkpoint.

        The block of steps since the last write goes to the file, followed by ``flush()``,
        at every checkpoint (then the checkpoint is replaced), at ``close`` and whenever it
        holds ``BLOCK_BYTES``. A reader of the live file, or of a file whose run was killed,
        sees every step up to the last write: at least up to the last checkpoint.
        """
        step, cfg = model.steps, model.config
        self.block.add_rows(step, model.observables, model.step_records())
        if force or step % cfg.snapshot_every == 0:
            arrays = snapshot if snapshot is not None else model.snapshot()
            for key, value in arrays.items():
                self.block.add_frame(self._key(key), step, value)
        ckpt = force or step % cfg.checkpoint_every == 0
        if ckpt or self.block.nbytes >= BLOCK_BYTES:
            self._write_block(ckpt)
        if ckpt:
            self.checkpoint()

    def _write_block(self, ckpt: bool) -> None:
        """Write and flush the block, after checking that it fits (``check_room``)."""
        first = self.block.first_step
        if first is None:
            return
        check_room(self.path, self.block.nbytes, ckpt=ckpt, first_step=first)
        self.block.write(self.file)
        self.file.flush()

    def _key(self, key: str) -> str:
        """A series path, or the leaf name of exactly one series (``weights``)."""
        if key in self._series:
            return key
        hits = [p for p in self._series if p.rsplit("/", 1)[-1] == key]
        if len(hits) != 1:
            raise KeyError(f"{key!r} names no single series of the layout ({list(self._series)})")
        return hits[0]

    def checkpoint(self) -> None:
        """Replace the sibling checkpoint with the model's current state (atomically)."""
        write_checkpoint(checkpoint_path(self.path), self.model.state(),
                         kind=self.model.kind, step=self.model.steps)  # fmt: skip
        keep_checkpoint(self.path, checkpoint_path(self.path), self.model.steps,
                        self.keep_checkpoints)  # fmt: skip

    def close(self) -> None:
        """Write what is buffered, checkpoint the final state and close the file."""
        if self.file.id.valid:
            self._write_block(ckpt=True)
            self.file.flush()
            self.checkpoint()
            self.file.close()
        self.model.unsubscribe(self.after_step)

    def abort(self) -> None:
        """Close after a failed write, adding nothing: the last checkpoint is the resume point."""
        close_quietly(self.file)
        self.block.clear()
        Path(f"{checkpoint_path(self.path)}.tmp").unlink(missing_ok=True)
        self.model.unsubscribe(self.after_step)

    def run(self, n: int | None, *, progress: bool) -> Any:
        """``model.run(n)``, then close; a failed write becomes one ``SnapshotError`` line."""
        try:
            result = self.model.run(n, progress=progress)
            self.close()
        except NoRoom:
            self.abort()  # the file is whole up to its last flush; nothing more is written
            raise
        except (OSError, RuntimeError) as exc:  # h5py reports a failed write as either
            if not is_write_failure(exc):
                self.abort()
                raise
            self.abort()
            raise write_failed(self.path, exc, checkpoint_step(self.path)) from None
        except BaseException:
            try:
                self.close()
            except (OSError, RuntimeError, SnapshotError):
                self.abort()
            raise
        return result

    # ---- resume ----------------------------------------------------------------------------
    def truncate(self, step: int) -> None:
        """Drop every row recorded after ``step`` (observables, series, tables)."""
        groups = [*self.file[runformat.OBSERVABLES].values()]
        groups += [self.file[s.path] for s in self.layout.series if s.path in self.file]
        for g in groups:
            keep = int(np.searchsorted(g[STEP][:], step, side="right"))
            rows = int(g[COUNT][:keep].sum()) if COUNT in g else keep
            for name, ds in g.items():
                ds.resize(rows if name == VALUE else keep, axis=0)
        for t in self.layout.tables:
            g = self.file[t.path]
            keep = int(np.searchsorted(g[t.step][:], step, side="right"))
            for ds in g.values():
                ds.resize(keep, axis=0)

    def history(self, step: int) -> dict[str, list[Any]]:
        """Per-step values recorded up to ``step``: observables and step-cadence series."""
        out: dict[str, list[Any]] = {}
        for name, g in self.file[runformat.OBSERVABLES].items():
            if len(g[STEP]) and g[STEP][-1] == step:
                out[name] = g[VALUE][:].tolist()
        for s in self.layout.series:
            g = self.file[s.path]
            if s.cadence == "step" and s.ragged and len(g[STEP]) and g[STEP][-1] == step:
                ends = np.cumsum(g[COUNT][:])
                out[s.path.rsplit("/", 1)[-1]] = [
                    v.tolist() for v in np.split(g[VALUE][:], ends[:-1])
                ]
        return out


def open_run_spec(path: str | Path) -> tuple[h5py.File, dict[str, Any]]:
    """Open a run file read-only and check it; returns the file and its parsed spec."""
    file = runformat.open_h5(path)
    try:
        version, kind = runformat.check_root(file, path)
        spec = runformat.read_spec(file, path)
        spec.setdefault("kind", kind)
        spec["format_version"] = version
    except SnapshotError:
        file.close()
        raise
    return file, spec


def resume(
    path: str | Path,
    steps: int | None = None,
    *,
    device: torch.device | str | None = None,
    progress: bool = True,
    executor: Executor | None = None,
    keep_checkpoints: int | None = None,
) -> Any:
    """Continue a run from its checkpoint: ``steps`` more steps, or up to its planned length.

    ``executor`` runs the model's independent work (``ModelBase.map_work``), if it has any.

    The model class comes from the kinds whitelist; user rules must be registered (import
    ``neurosoup.scenarios`` first) and unchanged. Returns the model; its run file is closed.
    """
    path = Path(path)
    file, spec = open_run_spec(path)
    try:
        runformat.verify(file, path)  # never append to a file whose old rows are damaged
    finally:
        file.close()
    if spec["format_version"] < FORMAT_VERSION:
        raise SnapshotError(
            f"{path} has format_version {spec['format_version']}: this neurosoup analyses it but "
            "cannot resume it; run the scenario again to continue it"
        )
    kind = get_kind(spec.get("kind"), where=str(path))
    try:
        config = kind.config.from_dict(spec["config"])
        seed = int(spec["seed"])
        planned = int(spec["steps_planned"])
    except (KeyError, TypeError, ValueError) as exc:
        raise SnapshotError(f"{path}: /{runformat.SPEC} is incomplete ({exc})") from None
    recorded = str(spec.get("device") or "cpu")
    if device is not None and torch.device(device).type != torch.device(recorded).type:
        raise ConfigError(
            f"{path} was run on {recorded} but resume asked for {torch.device(device).type}; "
            f"resume on the same device type (--device {torch.device(recorded).type}): CPU and "
            "CUDA random streams differ, so the continuation would not match the run"
        )
    model = kind.model(config, seed=seed, device=device or recorded, scenario=spec.get("scenario"))
    _check_code(path, spec.get("code") or {}, model.provenance())
    model.use_executor(executor)
    model.restore(read_checkpoint(checkpoint_path(path)))
    recorder = Recorder.reopen(path, model, keep_checkpoints)
    recorder.run(max(planned - model.steps, 0) if steps is None else steps, progress=progress)
    return model


def _check_code(path: Path, recorded: dict[str, str], now: dict[str, str]) -> None:
    """Refuse to continue with user code that changed since the run started."""
    for name, digest in recorded.items():
        if now.get(name) != digest:
            raise ConfigError(
                f"{path}: rule `{name}` changed since the run started (source digest {digest} "
                f"then, {now.get(name)} now); restore its code or start a new run"
            )


def record(model: Any, path: str | Path, n: int | None = None, *, overwrite: bool = False,
           progress: bool = True, spec_extra: dict[str, Any] | None = None,
           keep_checkpoints: int | None = None) -> dict[str, float]:  # fmt: skip
    """Run ``model`` for ``n`` steps (default: its planned steps) into a new run file.

    ``spec_extra``: extra JSON entries of ``/parameters/spec`` (see ``Recorder.create``).
    """
    recorder = Recorder.create(path, model, overwrite=overwrite, spec_extra=spec_extra,
                               keep_checkpoints=keep_checkpoints)
    return recorder.run(n, progress=progress)


def _keep(keep: int | None) -> int:
    """A checked ``keep_checkpoints`` (None: the default)."""
    if keep is None:
        return DEFAULT_KEEP
    if isinstance(keep, bool) or not isinstance(keep, int) or keep < 0:
        raise ConfigError(f"--keep-checkpoints must be an int >= 0, got {keep!r}")
    return keep


__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "Recorder",
    "check_writable",
    "checkpoint_path",
    "open_run_spec",
    "record",
    "resume",
]
