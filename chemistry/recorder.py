"""The HDF5 run file (``docs/runfile.md``, format version 1): writer, checkpoints, resume.

The run file is append-only. Observables, events and lineage rows are buffered in memory and
written together with each particle snapshot (every k ticks) or checkpoint (every m ticks),
followed by ``flush()``, so a SIGKILL leaves every flushed tick readable. The checkpoint is a
sibling file ``<run>.ckpt`` written under a temporary name and ``os.replace``d. ``resume``
truncates every series to the checkpoint's tick and continues, so a resumed run writes the
same file as an uninterrupted one. Nothing read from a file is ever executed: the spec is JSON.
"""

from __future__ import annotations

import json
from importlib import metadata
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import torch

from neurosoup.particles import ConfigError, SnapshotError

from .checkpoint import read_checkpoint, write_checkpoint
from .config import SoupConfig
from .operators import OPERATOR_CODES
from .soup import Soup, observable_names

FORMAT = "neurosoup-run"
FORMAT_VERSION = 1
try:
    PACKAGE_VERSION = metadata.version("neurosoup")
except metadata.PackageNotFoundError:  # running from a source tree that was never installed
    PACKAGE_VERSION = "unknown"
_INT = np.int64
_CHUNK_BYTES = 4 << 20
_EVENT_COLS = (("tick", _INT), ("operator", np.int8), ("actor", _INT), ("counterpart", _INT),
               ("changed", _INT), ("applied", np.bool_))  # fmt: skip
_BIRTH_COLS = ("uid", "parent_uid", "co_parent_uid", "born_at", "cause")
_DEATH_COLS = ("uid", "died_at", "cause")
_SNAP_FIELDS = (("uid", _INT), ("parent_uid", _INT), ("born_at", _INT), ("ptype", np.int8))


def checkpoint_path(path: str | Path) -> Path:
    """The sibling checkpoint file of a run file."""
    return Path(f"{path}.ckpt")


def _series(group: h5py.Group, name: str, shape: tuple[int, ...], dtype: Any, fill: Any) -> None:
    g = group.create_group(name)
    g.create_dataset("step", (0,), maxshape=(None,), dtype=_INT, chunks=(1024,))
    gz = {} if np.dtype(dtype).kind == "f" else {"compression": "gzip"}
    chunks: tuple[int, ...] = (1024,)
    if shape:  # one frame per chunk; split the particle axis above ~4 MB (DESIGN.md §7)
        per_particle = int(np.prod(shape[1:], dtype=np.int64)) * np.dtype(dtype).itemsize
        parts = max(1, -(-shape[0] * per_particle // _CHUNK_BYTES))  # equal chunks, no waste
        chunks = (1, max(1, -(-shape[0] // parts)), *shape[1:])
    g.create_dataset("value", (0, *shape), maxshape=(None, *([None] * len(shape))), dtype=dtype,
                     chunks=chunks, fillvalue=fill, **gz)  # fmt: skip


def _column(group: h5py.Group, name: str, dtype: Any) -> None:
    group.create_dataset(name, (0,), maxshape=(None,), dtype=dtype, chunks=(4096,))


def _append(ds: h5py.Dataset, rows: np.ndarray) -> None:
    n = ds.shape[0]
    if rows.shape[0] == 0:
        return
    if rows.ndim > 1 and rows.shape[1:] != ds.shape[1:]:
        ds.resize((n, *np.maximum(rows.shape[1:], ds.shape[1:])))
    ds.resize(n + rows.shape[0], axis=0)
    ds[n:] = rows


class Recorder:
    """Writes one soup's run file; attach with ``Recorder.create`` or ``Recorder.reopen``."""

    def __init__(self, path: Path, file: h5py.File, soup: Soup) -> None:
        self.path, self.file, self.soup = path, file, soup
        self._obs: list[tuple[int, dict[str, float]]] = []
        self._events: list[np.ndarray] = []
        self._births: list[np.ndarray] = []
        self._deaths: list[np.ndarray] = []
        soup.recorder = self

    # ---- opening -------------------------------------------------------------------------
    @classmethod
    def create(
        cls,
        path: str | Path,
        soup: Soup,
        *,
        steps_planned: int | None = None,
        overwrite: bool = False,
    ) -> Recorder:
        """Start a new run file for ``soup`` (at step 0) and write step 0 and a checkpoint."""
        path = Path(path)
        if path.exists() and not overwrite:
            raise ConfigError(
                f"refusing to overwrite existing run file {path}; pass --overwrite or choose "
                "another --out"
            )
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            file = h5py.File(path, "w")
        except OSError as exc:
            raise ConfigError(
                f"cannot write run file {path} ({exc.strerror or exc}); choose a writable --out"
            ) from None
        checkpoint_path(path).unlink(missing_ok=True)
        spec = {
            "scenario": soup.scenario, "seed": soup.seed,
            "steps_planned": int(soup.config.steps if steps_planned is None else steps_planned),
            "device": soup.device.type, "dtype": soup.config.dtype,
            "config": soup.config.to_dict(),
        }  # fmt: skip
        file.attrs.update(format=FORMAT, format_version=FORMAT_VERSION,
                          package_version=PACKAGE_VERSION, kind="soup")  # fmt: skip
        file.create_group("parameters").create_dataset("spec", data=json.dumps(spec))
        obs = file.create_group("observables")
        for name in observable_names(soup.config):
            _series(obs, name, (), np.float64, np.nan)
        parts = file.create_group("particles/all")
        p, c = soup.spec.n_weights, soup.store.capacity
        wdtype = np.float64 if soup.config.dtype == "float64" else np.float32
        _series(parts, "weights", (c, p), wdtype, np.nan)
        for name, dtype in _SNAP_FIELDS:
            _series(parts, name, (c,), dtype, -1)
        bonds = file.create_group("connectivity/bonds")
        _column(bonds, "step", _INT)
        _column(bonds, "count", _INT)
        bonds.create_dataset("value", (0, 2), maxshape=(None, 2), dtype=_INT, chunks=(1024, 2))
        events = file.create_group("events")
        for name, dtype in _EVENT_COLS:
            _column(events, name, dtype)
        events.attrs["operators"] = json.dumps([*OPERATOR_CODES, *soup.config.rules])
        for table, cols in (("births", _BIRTH_COLS), ("deaths", _DEATH_COLS)):
            g = file.create_group(f"lineage/{table}")
            for name in cols:
                _column(g, name, np.int8 if name == "cause" else _INT)
        rec = cls(path, file, soup)
        rec.after_tick(soup, force=True)
        return rec

    @classmethod
    def reopen(cls, path: str | Path, soup: Soup) -> Recorder:
        """Reopen a run file for appending after truncating every series to ``soup.steps``."""
        path = Path(path)
        file = h5py.File(path, "r+")
        truncate(file, soup.steps)
        file.flush()
        _refill_collector(file, soup)
        return cls(path, file, soup)

    # ---- writing -------------------------------------------------------------------------
    def after_tick(self, soup: Soup, *, force: bool = False) -> None:
        """Buffer this tick's rows; snapshot, flush and checkpoint on their cadences."""
        tick, cfg = soup.steps, soup.config
        self._obs.append((tick, dict(soup.observables)))
        for ev in soup.last_events:
            cols = [torch.full_like(ev.actor, tick), torch.full_like(ev.actor, ev.operator),
                    ev.actor, ev.counterpart, ev.changed, ev.applied.long()]  # fmt: skip
            self._events.append(torch.stack(cols, dim=1).cpu().numpy())
        for lin in soup.last_lineage:
            born = torch.full_like(lin.birth_uid, tick)
            b = [lin.birth_uid, lin.birth_parent, lin.birth_co_parent, born, lin.birth_cause]
            self._births.append(torch.stack([x.long() for x in b], dim=1).cpu().numpy())
            d = [lin.death_uid, torch.full_like(lin.death_uid, tick), lin.death_cause.long()]
            self._deaths.append(torch.stack(d, dim=1).cpu().numpy())
        snap = force or tick % cfg.snapshot_every == 0
        ckpt = force or tick % cfg.checkpoint_every == 0
        if snap:
            self._snapshot(soup)
        if snap or ckpt:
            self._write_buffers()
            self.file.flush()
        if ckpt:
            self.checkpoint()

    def _snapshot(self, soup: Soup) -> None:
        store, tick = soup.store, soup.steps
        parts = self.file["particles/all"]
        alive = store.alive.cpu().numpy()
        _append(parts["weights/step"], np.array([tick], dtype=_INT))
        weights = np.where(alive[:, None], store.weights.cpu().numpy(), np.nan)
        _append(parts["weights/value"], weights.astype(parts["weights/value"].dtype)[None])
        for name, dtype in _SNAP_FIELDS:
            value = getattr(store, name).cpu().numpy().astype(dtype)
            value = np.where(alive, value, -1).astype(dtype)
            _append(parts[f"{name}/step"], np.array([tick], dtype=_INT))
            _append(parts[f"{name}/value"], value[None])
        bonds = soup.bonds()
        g = self.file["connectivity/bonds"]
        _append(g["step"], np.array([tick], dtype=_INT))
        _append(g["count"], np.array([bonds.shape[0]], dtype=_INT))
        _append(g["value"], bonds)

    def _write_buffers(self) -> None:
        if self._obs:
            steps = np.array([t for t, _ in self._obs], dtype=_INT)
            for name in self.file["observables"]:
                g = self.file[f"observables/{name}"]
                _append(g["step"], steps)
                _append(g["value"], np.array([o.get(name, np.nan) for _, o in self._obs]))
        for group, cols, rows in (
            ("events", [c for c, _ in _EVENT_COLS], self._events),
            ("lineage/births", _BIRTH_COLS, self._births),
            ("lineage/deaths", _DEATH_COLS, self._deaths),
        ):
            if rows:
                table = np.concatenate(rows, axis=0)
                for i, col in enumerate(cols):
                    ds = self.file[f"{group}/{col}"]
                    _append(ds, table[:, i].astype(ds.dtype))
        self._obs, self._events, self._births, self._deaths = [], [], [], []

    def checkpoint(self) -> None:
        """Replace the sibling checkpoint with the soup's current state (atomically)."""
        write_checkpoint(checkpoint_path(self.path), self.soup.state())

    def close(self) -> None:
        """Write what is buffered, checkpoint the final state and close the file."""
        if self.file.id.valid:
            self._write_buffers()
            self.file.flush()
            self.checkpoint()
            self.file.close()
        self.soup.recorder = None


def truncate(file: h5py.File, tick: int) -> None:
    """Drop every row recorded after ``tick`` (series, bonds, events, lineage)."""
    for group in [*file["observables"].values(), *file["particles/all"].values()]:
        keep = int(np.searchsorted(group["step"][:], tick, side="right"))
        for ds in group.values():
            ds.resize(min(keep, ds.shape[0]), axis=0)
    bonds = file["connectivity/bonds"]
    keep = int(np.searchsorted(bonds["step"][:], tick, side="right"))
    rows = int(bonds["count"][:keep].sum())
    for name, n in (("step", keep), ("count", keep), ("value", rows)):
        bonds[name].resize(n, axis=0)
    for group, col in (("events", "tick"), ("lineage/births", "born_at"),
                       ("lineage/deaths", "died_at")):  # fmt: skip
        keep = int(np.searchsorted(file[f"{group}/{col}"][:], tick, side="right"))
        for ds in file[group].values():
            ds.resize(keep, axis=0)


def open_run(path: str | Path) -> tuple[h5py.File, dict[str, Any]]:
    """Open a run file read-only and check it; returns the file and its parsed spec."""
    path = Path(path)
    if not path.is_file():
        raise SnapshotError(f"run file {path} does not exist; check the path")
    try:
        file = h5py.File(path, "r")
    except OSError:
        raise SnapshotError(
            f"{path} is not a readable HDF5 file (damaged or truncated?); start the run again"
        ) from None
    try:
        if file.attrs.get("format") != FORMAT:
            raise SnapshotError(
                f"{path} is not a neurosoup run file (root attribute format is "
                f"{file.attrs.get('format')!r}, expected {FORMAT!r}); pass a file written by "
                "`neurosoup run --out`"
            )
        version = int(file.attrs.get("format_version", -1))
        if version > FORMAT_VERSION:
            raise SnapshotError(
                f"{path} has format_version {version}, newer than this neurosoup "
                f"({FORMAT_VERSION}); upgrade neurosoup to read it"
            )
        try:
            spec = json.loads(file["parameters/spec"][()])
        except (KeyError, ValueError, TypeError):
            raise SnapshotError(
                f"{path}: group /parameters/spec is missing or not JSON; the file is damaged"
            ) from None
    except SnapshotError:
        file.close()
        raise
    return file, spec


def _refill_collector(file: h5py.File, soup: Soup) -> None:
    """Give a resumed soup's DataCollector the run's history, steps 0 … checkpoint tick.

    Reporters the file does not hold (``organism_sizes``) get None before the checkpoint.
    """
    columns = soup.datacollector.model_vars
    for name, values in columns.items():
        group = file.get(f"observables/{name}")
        if group is not None and len(group["step"]) and group["step"][-1] == soup.steps:
            values[:] = group["value"][:].tolist()
    longest = max((len(v) for v in columns.values()), default=0)
    for values in columns.values():
        values[:0] = [None] * (longest - len(values))


def resume(
    path: str | Path,
    steps: int | None = None,
    *,
    device: torch.device | str | None = None,
    progress: bool = True,
) -> Soup:
    """Continue a run from its checkpoint: ``steps`` more ticks, or up to its planned length.

    The soup's custom rules must be registered (import ``neurosoup.scenarios`` first).
    Returns the soup after the run; its run file is closed.
    """
    path = Path(path)
    file, spec = open_run(path)
    file.close()
    state = read_checkpoint(checkpoint_path(path))
    try:
        config = SoupConfig.from_dict(spec["config"])
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
    soup = Soup(config, seed=seed, device=device or recorded, scenario=spec.get("scenario"))
    soup.restore(state)
    recorder = Recorder.reopen(path, soup)
    try:
        n = max(planned - soup.steps, 0) if steps is None else steps
        soup.run(n, progress=progress)
    finally:
        recorder.close()
    return soup


def record(soup: Soup, path: str | Path, n: int | None = None, *, overwrite: bool = False,
           progress: bool = True) -> dict[str, int]:  # fmt: skip
    """Run ``soup`` for ``n`` ticks (default: its planned steps) into a new run file."""
    recorder = Recorder.create(path, soup, overwrite=overwrite)
    try:
        counts = soup.run(n, progress=progress)
    finally:
        recorder.close()
    return counts


__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "Recorder",
    "checkpoint_path",
    "open_run",
    "record",
    "resume",
    "truncate",
]
