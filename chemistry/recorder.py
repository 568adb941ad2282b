"""The HDF5 run file of any model kind (``docs/runfile.md``): writer, checkpoints, resume.

One writer core for every kind. A model's ``layout()`` names its observables, its series
(fixed frames or ragged rows, written every step or every snapshot) and its append-only
tables; the recorder subscribes to the model's steps, buffers each step's observables, table
rows and step series in memory and writes them with each snapshot (every k steps) or
checkpoint (every m steps), followed by ``flush()``, so a SIGKILL leaves every flushed step
readable. The checkpoint is a sibling file ``<run>.ckpt`` written under a temporary name and
``os.replace``d. ``resume`` truncates every series and table to the checkpoint's step and
continues, so a resumed run writes the same file as an uninterrupted one. Nothing read from a
file is ever executed: the spec is JSON, the model class comes from the kinds whitelist.
"""

from __future__ import annotations

import errno
import json
import os
import resource
import shutil
import tempfile
from concurrent.futures import Executor
from importlib import metadata
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import torch

from neurosoup.particles import ConfigError, SnapshotError, runformat
from neurosoup.particles.runformat import FORMAT, FORMAT_VERSION

from .checkpoint import read_checkpoint, write_checkpoint
from .checkpoint_history import DEFAULT_KEEP, drop_history, keep_checkpoint, truncate_history
from .model_kinds import Layout, Series, get_kind

try:
    PACKAGE_VERSION = metadata.version("neurosoup")
except metadata.PackageNotFoundError:  # running from a source tree that was never installed
    PACKAGE_VERSION = "unknown"
_INT = np.int64
_CHUNK_BYTES = 4 << 20


def _check(dtype: Any) -> dict[str, Any]:
    """A fletcher32 checksum on every chunk, so a flipped bit is found on reading (not vlen)."""
    return {} if np.dtype(dtype).kind == "O" else {"fletcher32": True}


def checkpoint_path(path: str | Path) -> Path:
    """The sibling checkpoint file of a run file."""
    return Path(f"{path}.ckpt")


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc).split("(")[-1].rstrip(")") or type(exc).__name__


def check_writable(path: str | Path, *, overwrite: bool = False) -> None:
    """Refuse an output path before any work starts.

    Refused: an existing file, an unwritable folder, a file another process is writing.
    Writes (and removes) a one-byte probe file, because permission bits say nothing when
    running as root and a full disk shows only on writing.
    """
    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"--out {path} is a directory; give a file name such as {path}/run.h5")
    if path.exists() and not overwrite:
        raise ConfigError(
            f"refusing to overwrite existing run file {path}; pass --overwrite or choose "
            "another --out"
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".probe", dir=path.parent)
        try:
            os.write(fd, b"0")
        finally:
            os.close(fd)
            os.unlink(probe)
    except OSError as exc:
        raise ConfigError(
            f"cannot write run file {path} ({_reason(exc)}); choose a writable --out"
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


def _nbytes(value: Any) -> int:
    """Bytes of arrays nested in dicts and lists (an estimate of what a write adds)."""
    if isinstance(value, dict):
        return sum(_nbytes(v) for v in value.values())
    if isinstance(value, list | tuple):
        return sum(_nbytes(v) for v in value)
    return int(np.asarray(value).nbytes) if value is not None else 0


class NoRoom(SnapshotError):
    """The next write would not fit (disk space or the file size limit): stopped before it."""


#: headroom kept free beyond the estimated bytes of a write (HDF5 metadata, chunk rounding)
ROOM_MARGIN = 1 << 20


def _write_failed(path: Path, exc: OSError, step: int | None) -> SnapshotError:
    """The one line for a write that failed mid-run (full disk, file size limit, I/O error)."""
    then = (
        f"free space, then `neurosoup resume {path}` continues from its checkpoint (step {step})"
        if step is not None
        else "free space and run it again"
    )
    return SnapshotError(f"{path}: writing the run file failed ({_reason(exc)}); {then}")


# ---- dataset helpers ------------------------------------------------------------------------
def _gzip(dtype: Any) -> dict[str, Any]:
    """Integer and bool fields compress well; floats gain little and write far slower (§7)."""
    return {} if np.dtype(dtype).kind == "f" else {"compression": "gzip"}


def _column(group: h5py.Group, name: str, dtype: Any, shape: tuple[int, ...] = ()) -> None:
    """An append-only column ``[R, *shape]`` (``shape`` = () for the 1-D columns of v2 files)."""
    group.create_dataset(name, (0, *shape), maxshape=(None, *shape), dtype=dtype,
                         chunks=(4096, *shape), **_check(dtype))  # fmt: skip


def _frames(group: h5py.Group, frame: tuple[int, ...], dtype: Any) -> None:
    """``step [S]`` and ``value [S, *frame]``: one frame per chunk, axis 0 split above 4 MB."""
    group.create_dataset("step", (0,), maxshape=(None,), dtype=_INT, chunks=(1024,),
                         **_check(_INT))  # fmt: skip
    chunks: tuple[int, ...] = (1024,)
    if frame:
        per_row = int(np.prod(frame[1:], dtype=np.int64)) * np.dtype(dtype).itemsize
        parts = max(1, -(-frame[0] * per_row // _CHUNK_BYTES))  # equal chunks, no waste
        chunks = (1, max(1, -(-frame[0] // parts)), *frame[1:])
    group.create_dataset("value", (0, *frame), maxshape=(None, *([None] * len(frame))),
                         dtype=dtype, chunks=chunks, fillvalue=runformat.fill_value(dtype),
                         **_gzip(dtype), **_check(dtype))  # fmt: skip


def _ragged(group: h5py.Group, shape: tuple[int, ...], dtype: Any) -> None:
    """``step [S]``, ``count [S]`` (rows per step) and ``value [ΣR, *shape]``."""
    _column(group, "step", _INT)
    _column(group, "count", _INT)
    group.create_dataset("value", (0, *shape), maxshape=(None, *shape), dtype=dtype,
                         chunks=(1024, *shape) if shape else (4096,), **_check(dtype))  # fmt: skip


def _append(ds: h5py.Dataset, rows: np.ndarray) -> None:
    n = ds.shape[0]
    if rows.shape[0] == 0:
        return
    if rows.ndim > 1 and rows.shape[1:] != ds.shape[1:]:
        ds.resize((n, *np.maximum(rows.shape[1:], ds.shape[1:])))
    ds.resize(n + rows.shape[0], axis=0)
    ds[n:] = rows


def _steps(step: int | list[int]) -> np.ndarray:
    return np.asarray(step if isinstance(step, list) else [step], dtype=_INT)


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
        self._tables = {t.path: t for t in self.layout.tables}
        self._obs: list[tuple[int, dict[str, Any]]] = []
        self._rows: dict[str, list[np.ndarray]] = {t: [] for t in self._tables}
        self._step_rows: dict[str, list[tuple[int, np.ndarray]]] = {
            s.path: [] for s in self.layout.series if s.cadence == "step"
        }
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
                f"cannot write run file {path} ({_reason(exc)}); choose a writable --out"
            ) from None
        checkpoint_path(path).unlink(missing_ok=True)
        drop_history(path)
        try:
            return cls._start(path, file, model, steps_planned, spec_extra, keep_checkpoints)
        except BaseException as exc:  # nothing half-written stays behind a run that never began
            _close_quietly(file)
            for p in (path, checkpoint_path(path), Path(f"{checkpoint_path(path)}.tmp")):
                p.unlink(missing_ok=True)
            drop_history(path)
            if isinstance(exc, OSError | RuntimeError) and _is_write_failure(exc):
                raise _write_failed(path, exc, None) from None
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
        file.attrs.update(format=FORMAT, format_version=FORMAT_VERSION,
                          package_version=PACKAGE_VERSION, kind=model.kind)  # fmt: skip
        file.create_group("parameters").create_dataset(runformat.SPEC.split("/")[1],
                                                       data=json.dumps(spec))  # fmt: skip
        rec = cls(path, file, model, keep_checkpoints)
        obs = file.create_group(runformat.OBSERVABLES)
        for name, shape in rec.layout.observables.items():
            _frames(obs.create_group(name), shape, np.float64)
        static = model.static_arrays() if hasattr(model, "static_arrays") else {}
        first = {**model.snapshot(), **static}  # static arrays: written once, with step 0
        for s in rec.layout.series:
            group = file.require_group(s.path)
            if s.ragged:
                _ragged(group, s.shape, s.dtype)
            else:
                named = {rec._key(k): v for k, v in first.items()}
                frame = np.shape(named[s.path]) if s.path in named else s.shape
                _frames(group, tuple(frame), s.dtype)
        for t in rec.layout.tables:
            group = file.require_group(t.path)
            for name, dtype, *shape in t.columns:
                _column(group, name, dtype, tuple(shape[0]) if shape else ())
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
        """Buffer this step's rows; snapshot, flush and checkpoint on their cadences."""
        step, cfg = model.steps, model.config
        if model.observables:
            self._obs.append((step, dict(model.observables)))
        for key, rows in model.step_records().items():
            if key in self._rows:
                self._rows[key].extend(rows if isinstance(rows, list) else [rows])
            else:
                self._step_rows[key].append((step, np.asarray(rows)))
        snap = force or step % cfg.snapshot_every == 0
        ckpt = force or step % cfg.checkpoint_every == 0
        arrays = (snapshot if snapshot is not None else model.snapshot()) if snap else {}
        if snap or ckpt:
            self._check_room(arrays, ckpt)
        if snap:
            self._snapshot(step, arrays)
        if snap or ckpt:
            self._write_buffers()
            self.file.flush()
        if ckpt:
            self.checkpoint()

    def _check_room(self, arrays: dict[str, np.ndarray], ckpt: bool) -> None:
        """Stop cleanly, before writing, when the next write would not fit.

        A write that fails half-way leaves HDF5 unable to reopen the file; checked first, the
        file stays whole and the last checkpoint resumes it once there is room again. The
        estimate: the snapshot's and buffered rows' bytes, the last checkpoint's size, twice,
        plus ``ROOM_MARGIN``; it is compared with the free disk space and ``RLIMIT_FSIZE``.
        """
        need = _nbytes(arrays) + _nbytes(list(self._rows.values()))
        need += 8 * 16 * len(self._obs) * max(1, len(self.layout.observables))
        ckpt_size = 0
        if ckpt and checkpoint_path(self.path).exists():
            ckpt_size = checkpoint_path(self.path).stat().st_size
        need = 2 * (need + ckpt_size) + ROOM_MARGIN
        free = shutil.disk_usage(self.path.parent).free
        limit = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
        size = self.path.stat().st_size
        over_limit = limit != resource.RLIM_INFINITY and size + need > limit
        if free < need or over_limit:
            what = (f"the file size limit is {limit / 1e6:.1f} MB" if over_limit
                    else f"{free / 1e6:.1f} MB free on its disk")  # fmt: skip
            at = _checkpoint_step(self.path)
            then = (f"then `neurosoup resume {self.path}` continues from its checkpoint (step "
                    f"{at})" if at is not None else "then run it again")  # fmt: skip
            raise NoRoom(
                f"{self.path}: stopped before writing step {self.model.steps}: the next write "
                f"needs about {need / 1e6:.1f} MB and {what}; make room, {then}"
            )

    def _key(self, key: str) -> str:
        """A series path, or the leaf name of exactly one series (``weights``)."""
        if key in self._series:
            return key
        hits = [p for p in self._series if p.rsplit("/", 1)[-1] == key]
        if len(hits) != 1:
            raise KeyError(f"{key!r} names no single series of the layout ({list(self._series)})")
        return hits[0]

    def _snapshot(self, step: int, arrays: dict[str, np.ndarray]) -> None:
        for key, value in arrays.items():
            s = self._series[self._key(key)]
            self._write_series(s, step, np.asarray(value, dtype=s.dtype))

    def _write_series(self, s: Series, step: int | list[int], value: np.ndarray) -> None:
        g = self.file[s.path]
        if s.ragged:
            counts = [len(v) for v in value] if isinstance(step, list) else [len(value)]
            rows = np.concatenate(value) if isinstance(step, list) else value
            _append(g["step"], _steps(step))
            _append(g["count"], np.asarray(counts, dtype=_INT))
            _append(g["value"], np.asarray(rows, dtype=s.dtype).reshape(-1, *s.shape))
        else:
            _append(g["step"], _steps(step))
            _append(g["value"], value if isinstance(step, list) else value[None])

    def _write_buffers(self) -> None:
        if self._obs:
            steps = np.array([t for t, _ in self._obs], dtype=_INT)
            for name, shape in self.layout.observables.items():
                g = self.file[f"{runformat.OBSERVABLES}/{name}"]
                nan = np.full(shape, np.nan)
                _append(g["step"], steps)
                _append(g["value"], np.array([o.get(name, nan) for _, o in self._obs],
                                             dtype=np.float64).reshape(len(steps), *shape))
        for key, buffered in self._step_rows.items():
            if buffered:
                s = self._series[key]
                self._write_series(s, [t for t, _ in buffered], [v for _, v in buffered])
        for key, rows in self._rows.items():
            if rows and isinstance(rows[0], dict):  # one array per column: {name: [R, *shape]}
                for col, *_ in self._tables[key].columns:
                    ds = self.file[f"{key}/{col}"]
                    _append(ds, np.concatenate([np.asarray(r[col]) for r in rows]).astype(ds.dtype))
            elif rows:  # one 2-D array [R, n_columns] of one dtype
                table = np.concatenate(rows, axis=0)
                for i, (col, *_) in enumerate(self._tables[key].columns):
                    ds = self.file[f"{key}/{col}"]
                    _append(ds, table[:, i].astype(ds.dtype))
        self._obs = []
        self._rows = {k: [] for k in self._rows}
        self._step_rows = {k: [] for k in self._step_rows}

    def checkpoint(self) -> None:
        """Replace the sibling checkpoint with the model's current state (atomically)."""
        write_checkpoint(checkpoint_path(self.path), self.model.state(),
                         kind=self.model.kind, step=self.model.steps)  # fmt: skip
        keep_checkpoint(self.path, checkpoint_path(self.path), self.model.steps,
                        self.keep_checkpoints)  # fmt: skip

    def close(self) -> None:
        """Write what is buffered, checkpoint the final state and close the file."""
        if self.file.id.valid:
            self._write_buffers()
            self.file.flush()
            self.checkpoint()
            self.file.close()
        self.model.unsubscribe(self.after_step)

    def abort(self) -> None:
        """Close after a failed write, adding nothing: the last checkpoint is the resume point."""
        _close_quietly(self.file)
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
            if not _is_write_failure(exc):
                self.abort()
                raise
            self.abort()
            raise _write_failed(self.path, exc, _checkpoint_step(self.path)) from None
        except BaseException:
            try:
                self.close()
            except (OSError, RuntimeError):
                self.abort()
            raise
        return result

    # ---- resume ----------------------------------------------------------------------------
    def truncate(self, step: int) -> None:
        """Drop every row recorded after ``step`` (observables, series, tables)."""
        groups = [*self.file[runformat.OBSERVABLES].values()]
        groups += [self.file[s.path] for s in self.layout.series if s.path in self.file]
        for g in groups:
            keep = int(np.searchsorted(g["step"][:], step, side="right"))
            rows = int(g["count"][:keep].sum()) if "count" in g else keep
            for name, ds in g.items():
                ds.resize(rows if name == "value" else keep, axis=0)
        for t in self.layout.tables:
            g = self.file[t.path]
            keep = int(np.searchsorted(g[t.step][:], step, side="right"))
            for ds in g.values():
                ds.resize(keep, axis=0)

    def history(self, step: int) -> dict[str, list[Any]]:
        """Per-step values recorded up to ``step``: observables and step-cadence series."""
        out: dict[str, list[Any]] = {}
        for name, g in self.file[runformat.OBSERVABLES].items():
            if len(g["step"]) and g["step"][-1] == step:
                out[name] = g["value"][:].tolist()
        for s in self.layout.series:
            g = self.file[s.path]
            if s.cadence == "step" and s.ragged and len(g["step"]) and g["step"][-1] == step:
                ends = np.cumsum(g["count"][:])
                out[s.path.rsplit("/", 1)[-1]] = [
                    v.tolist() for v in np.split(g["value"][:], ends[:-1])
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
        raise SnapshotError(f"{path}: /parameters/spec is incomplete ({exc})") from None
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


def _is_write_failure(exc: BaseException) -> bool:
    """True for a full disk, a file size limit or an I/O error while writing."""
    if isinstance(exc, OSError) and exc.errno in (errno.EFBIG, errno.ENOSPC, errno.EIO,
                                                   errno.EDQUOT):  # fmt: skip
        return True
    text = str(exc)
    marks = ("write failed", "File too large", "No space left", "unable to extend file")
    return any(m in text for m in (*marks, "errno = 27", "errno = 28"))


def _keep(keep: int | None) -> int:
    """A checked ``keep_checkpoints`` (None: the default)."""
    if keep is None:
        return DEFAULT_KEEP
    if isinstance(keep, bool) or not isinstance(keep, int) or keep < 0:
        raise ConfigError(f"--keep-checkpoints must be an int >= 0, got {keep!r}")
    return keep


def _close_quietly(file: h5py.File) -> None:
    try:
        if file.id.valid:
            file.close()
    except (OSError, RuntimeError):
        pass


def _checkpoint_step(path: Path) -> int | None:
    try:
        with h5py.File(checkpoint_path(path), "r") as f:
            return int(f.attrs["step"])
    except (OSError, KeyError):
        return None


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
