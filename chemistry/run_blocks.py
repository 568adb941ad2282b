"""The run file's datasets and the in-memory block of rows the recorder writes at once.

HDF5's cost is per call, not per byte, at the sizes of small soups (DESIGN.md §7): a
snapshot of 20 particles written frame by frame cost ≈ 7 ms, twice the tick. ``Block``
holds every row of the steps since the last write — observables, table rows, step series
and snapshot frames — and ``Block.write`` appends them with one resize and one write per
dataset (per run of equal frame shapes). The file's contents are the same as writing each
step on its own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import h5py
import numpy as np

from neurosoup.particles import ShapeError, runformat
from neurosoup.particles.runformat.common import COUNT, STEP, VALUE, observable

from .model_kinds import Layout, Series
from .run_output import nbytes

_INT = np.int64
_CHUNK_BYTES = 4 << 20


def _check(dtype: Any) -> dict[str, Any]:
    """A fletcher32 checksum on every chunk, so a flipped bit is found on reading (not vlen)."""
    return {} if np.dtype(dtype).kind == "O" else {"fletcher32": True}


def _gzip(dtype: Any) -> dict[str, Any]:
    """Integer and bool fields compress well; floats gain little and write far slower (§7)."""
    return {} if np.dtype(dtype).kind == "f" else {"compression": "gzip"}


def column(group: h5py.Group, name: str, dtype: Any, shape: tuple[int, ...] = ()) -> None:
    """An append-only column ``[R, *shape]`` (``shape`` = () for the 1-D columns of v2 files)."""
    group.create_dataset(name, (0, *shape), maxshape=(None, *shape), dtype=dtype,
                         chunks=(4096, *shape), **_check(dtype))  # fmt: skip


def frames(group: h5py.Group, frame: tuple[int, ...], dtype: Any) -> None:
    """``step [S]`` and ``value [S, *frame]``: one frame per chunk, axis 0 split above 4 MB."""
    group.create_dataset(STEP, (0,), maxshape=(None,), dtype=_INT, chunks=(1024,),
                         **_check(_INT))  # fmt: skip
    chunks: tuple[int, ...] = (1024,)
    if frame:
        per_row = int(np.prod(frame[1:], dtype=np.int64)) * np.dtype(dtype).itemsize
        parts = max(1, -(-frame[0] * per_row // _CHUNK_BYTES))  # equal chunks, no waste
        chunks = (1, max(1, -(-frame[0] // parts)), *frame[1:])
    group.create_dataset(VALUE, (0, *frame), maxshape=(None, *([None] * len(frame))),
                         dtype=dtype, chunks=chunks, fillvalue=runformat.fill_value(dtype),
                         **_gzip(dtype), **_check(dtype))  # fmt: skip


def ragged(group: h5py.Group, shape: tuple[int, ...], dtype: Any) -> None:
    """``step [S]``, ``count [S]`` (rows per step) and ``value [ΣR, *shape]``."""
    column(group, STEP, _INT)
    column(group, COUNT, _INT)
    group.create_dataset(VALUE, (0, *shape), maxshape=(None, *shape), dtype=dtype,
                         chunks=(1024, *shape) if shape else (4096,), **_check(dtype))  # fmt: skip


def append(ds: h5py.Dataset, rows: np.ndarray) -> None:
    """Append ``rows`` along axis 0, widening the other axes when a frame outgrew them.

    Written through the low-level ``H5Dwrite`` on a hyperslab: h5py's ``ds[n:] = rows``
    spends more time on the selection than HDF5 on the write, at these sizes.
    """
    n = ds.shape[0]
    if rows.shape[0] == 0:
        return
    if rows.ndim > 1 and rows.shape[1:] != ds.shape[1:]:
        ds.resize((n, *np.maximum(rows.shape[1:], ds.shape[1:])))
    ds.resize(n + rows.shape[0], axis=0)
    if ds.dtype.kind == "O" or rows.ndim != ds.ndim:
        ds[n:] = rows
        return
    rows = np.ascontiguousarray(rows, dtype=ds.dtype)
    space = ds.id.get_space()
    space.select_hyperslab((n, *([0] * (rows.ndim - 1))), rows.shape)
    ds.id.write(h5py.h5s.create_simple(rows.shape), space, rows)


def write_series(
    g: Callable[[str], h5py.Dataset], s: Series, steps: list[int], values: list[np.ndarray]
) -> None:
    """Append the frames (or ragged row sets) ``values`` of ``steps`` to series ``s``.

    ``g(name)``: the series' dataset ``name`` (``STEP``, ``COUNT``, ``VALUE``).
    """
    if not steps:
        return
    step_col = np.asarray(steps, dtype=_INT)
    if s.ragged:
        rows = [np.asarray(v, dtype=s.dtype).reshape(-1, *s.shape) for v in values]
        append(g(STEP), step_col)
        append(g(COUNT), np.asarray([len(r) for r in rows], dtype=_INT))
        append(g(VALUE), np.concatenate(rows).reshape(-1, *s.shape))
        return
    append(g(STEP), step_col)
    start = 0  # one write per run of equal frame shapes (a store that grew starts a new run)
    for i in range(1, len(values) + 1):
        if i == len(values) or values[i].shape != values[start].shape:
            append(g(VALUE), np.stack(values[start:i]).astype(s.dtype, copy=False))
            start = i


def check_shape(s: Series, value: np.ndarray) -> None:
    """A frame must end with the series' declared shape (ragged: rows ``[R, *shape]``).

    A frame is ``[*lead, *shape]``: the leading axes (a store's capacity, a population) come
    from the first frame and stay fixed; ``shape`` is what the kind declared in ``layout()``.
    """
    n = len(s.shape)
    if s.ragged:
        ok = value.size == 0 or value.shape[1:] == s.shape or (n == 0 and value.ndim == 1)
    else:
        ok = value.ndim >= n and value.shape[value.ndim - n :] == s.shape
    if not ok:
        rows = "rows [R, *shape]" if s.ragged else "frames [..., *shape]"
        raise ShapeError(
            f"series {s.path}: a frame of shape {value.shape} does not match the declared "
            f"shape {s.shape} ({rows}); fix the kind's layout() or its snapshot()"
        )


class Block:
    """Rows of the steps not yet written: observables, tables, step series, snapshots.

    ``add_step`` copies what it keeps (a model may reuse its arrays), so a block written
    later holds each step's values as they were at that step.
    """

    def __init__(self, layout: Layout, series: dict[str, Series]) -> None:
        self.layout, self.series = layout, series
        self.tables = {t.path: t for t in layout.tables}
        self._file: h5py.File | None = None
        self._datasets: dict[str, h5py.Dataset] = {}
        self.clear()

    def clear(self) -> None:
        """Forget every buffered row (after a write)."""
        self.obs: list[tuple[int, dict[str, Any]]] = []
        self.rows: dict[str, list[Any]] = {t: [] for t in self.tables}
        self.frames: dict[str, tuple[list[int], list[np.ndarray]]] = {
            p: ([], []) for p in self.series
        }
        self.nbytes = 0

    @property
    def first_step(self) -> int | None:
        """The earliest step held, None when empty."""
        steps = [t for t, _ in self.obs] + [s[0] for s, _ in self.frames.values() if s]
        return min(steps) if steps else None

    def add_rows(self, step: int, observables: dict[str, Any], records: dict[str, Any]) -> None:
        """Keep one step's observables and ``step_records()`` (tables and step series)."""
        if observables:
            self.obs.append((step, dict(observables)))
            self.nbytes += 8 * 16 * max(1, len(self.layout.observables))
        for key, rows in records.items():
            if key in self.rows:
                batch = rows if isinstance(rows, list) else [rows]
                self.rows[key].extend(batch)
                self.nbytes += nbytes(batch)
            else:
                self.add_frame(key, step, rows)

    def add_frame(self, path: str, step: int, value: Any) -> None:
        """Keep one frame (or ragged row set) of series ``path`` at ``step`` (a copy)."""
        s = self.series[path]
        steps, values = self.frames[path]
        array = np.array(value, dtype=s.dtype)
        check_shape(s, array)
        steps.append(step)
        values.append(array)
        self.nbytes += values[-1].nbytes

    def _get(self, file: h5py.File, path: str) -> Any:
        """``file[path]``, looked up once per file (a lookup costs as much as a small write)."""
        if file is not self._file:
            self._file, self._datasets = file, {}
        if path not in self._datasets:
            self._datasets[path] = file[path]
        return self._datasets[path]

    def write(self, file: h5py.File) -> None:
        """Append everything held to ``file`` (one write per dataset), then clear."""
        get = self._get
        if self.obs:
            steps = np.array([t for t, _ in self.obs], dtype=_INT)
            for name, shape in self.layout.observables.items():
                g = observable(name)
                nan = np.full(shape, np.nan)
                append(get(file, f"{g}/{STEP}"), steps)
                append(get(file, f"{g}/{VALUE}"), np.array([o.get(name, nan) for _, o in self.obs],
                                            dtype=np.float64).reshape(len(steps), *shape))
        for path, (steps, values) in self.frames.items():
            write_series(lambda name, p=path: get(file, f"{p}/{name}"), self.series[path],
                         steps, values)  # fmt: skip
        for key, rows in self.rows.items():
            if rows and isinstance(rows[0], dict):  # one array per column: {name: [R, *shape]}
                for col, *_ in self.tables[key].columns:
                    ds = get(file, f"{key}/{col}")
                    append(ds, np.concatenate([np.asarray(r[col]) for r in rows]).astype(ds.dtype))
            elif rows:  # one 2-D array [R, n_columns] of one dtype
                table = np.concatenate(rows, axis=0)
                for i, (col, *_) in enumerate(self.tables[key].columns):
                    ds = get(file, f"{key}/{col}")
                    append(ds, table[:, i].astype(ds.dtype))
        self.clear()


__all__ = ["Block", "append", "column", "frames", "ragged", "write_series"]
