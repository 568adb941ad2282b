"""Open a neurosoup run file read-only (``docs/runfile.md``, format versions 1 and 2).

``open_run(path)`` returns a ``Run``: the stored JSON spec, observables as a pandas table,
lazy per-snapshot access to the particle arrays, events, the lineage graph and the organisms
(bond components) of a snapshot. Nothing read from the file is ever executed. Snapshot
frames are read lazily through ``snapshots.Snapshots``.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from neurosoup.particles import ConfigError, ParticleSpec, runformat
from neurosoup.particles.runformat import BIRTH_CAUSES, DEATH_CAUSES
from neurosoup.particles.runformat import soup as soup_fmt
from neurosoup.particles.runformat.common import (
    ATTR_PACKAGE,
    COUNT,
    EVENT_COLUMNS,
    EVENT_OPERATOR,
    OPERATORS_ATTR,
    STEP,
    VALUE,
    names,
    observable,
)

from .snapshots import Frame, Snapshots, damaged


class Run:
    """One run file, opened read-only. Use as a context manager or call ``close()``."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._file = runformat.open_h5(self.path)
        try:
            self.format_version, self.kind = runformat.check_root(self._file, self.path)
            self.package_version = str(self._file.attrs.get(ATTR_PACKAGE, "unknown"))
            self.spec: dict[str, Any] = runformat.read_spec(self._file, self.path)
            group = self._get(runformat.PARTICLES)
            self.snapshots = Snapshots(self.path, group)
        except BaseException:
            self._file.close()
            raise

    def _get(self, name: str) -> Any:
        """The group or dataset ``name``; None when absent, ``SnapshotError`` when damaged.

        (``h5py``'s ``get`` answers None for a link whose object header does not load too,
        which would read a damaged group as an empty one.)
        """
        try:
            return self._file[name] if name in self._file else None  # noqa: SIM401 - not get
        except (KeyError, OSError, ValueError, RuntimeError) as exc:
            what = str(exc).split("(")[-1].rstrip(")")
            raise damaged(self.path, "/" + name.strip("/"), what) from None

    def verify(self) -> None:
        """Read every object once; the first damaged group raises ``SnapshotError``."""
        runformat.verify(self._file, self.path)

    def close(self) -> None:
        """Close the underlying HDF5 file."""
        self._file.close()

    def __enter__(self) -> Run:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def config(self) -> dict[str, Any]:
        """The resolved configuration stored in the spec (``{}`` when absent)."""
        return dict(self.spec.get("config") or {})

    @cached_property
    def particle_spec(self) -> ParticleSpec:
        """The ``ParticleSpec`` rebuilt from ``spec["config"]["particle"]``."""
        fields = self.config.get("particle")
        if not isinstance(fields, dict):
            raise damaged(self.path, f"/{runformat.SPEC}", "config.particle missing")
        try:
            return ParticleSpec(**fields)
        except (ConfigError, TypeError) as exc:
            raise damaged(self.path, f"/{runformat.SPEC}", f"bad config.particle: {exc}") from None

    @property
    def epsilon(self) -> float:
        """The classification ε of the run (default 1e-5)."""
        return float(self.config.get("epsilon", 1e-5))

    def _columns(self, name: str, columns: tuple[str, ...]) -> pd.DataFrame:
        group = self._get(name)
        if group is None:
            return pd.DataFrame({c: np.zeros(0, dtype=np.int64) for c in columns})
        try:
            data = {c: group[c][()] for c in columns if c in group}
        except OSError as exc:
            raise damaged(self.path, f"/{name}", str(exc)) from None
        if len({len(v) for v in data.values()}) > 1:
            raise damaged(self.path, f"/{name}", "columns of unequal length")
        return pd.DataFrame(data)

    def has_table(self, name: str) -> bool:
        """True when the file holds a table ``/<name>/<column>`` (e.g. ``population``)."""
        return name in self._file and hasattr(self._file[name], "keys")

    def table(self, name: str) -> dict[str, np.ndarray]:
        """Every column of the table ``/<name>`` as arrays ``[R, ...]`` (``{}`` when absent).

        Columns may be multi-dimensional (e.g. packed genotypes ``[R, 13]``); strings come back
        as ``str``. Raises ``SnapshotError`` when the columns have unequal lengths.
        """
        group = self._get(name)
        if group is None:
            return {}
        try:
            data = {c: group[c][()] for c in group if not hasattr(group[c], "keys")}
        except OSError as exc:
            raise damaged(self.path, f"/{name}", str(exc)) from None
        if len({len(v) for v in data.values()}) > 1:
            raise damaged(self.path, f"/{name}", "columns of unequal length")
        for c, v in data.items():
            if v.dtype.kind == "O":
                data[c] = np.asarray([x.decode() if isinstance(x, bytes) else str(x) for x in v],
                                     dtype=object)  # fmt: skip
        return data

    @cached_property
    def observables(self) -> pd.DataFrame:
        """Every observable as one column, indexed by ``step`` (outer join over names)."""
        group = self._get(runformat.OBSERVABLES)
        series = []
        for name in sorted(group) if group is not None else []:
            where = f"/{observable(name)}"
            try:
                step, value = group[name][STEP][()], group[name][VALUE][()]
            except (KeyError, OSError) as exc:
                raise damaged(self.path, where, str(exc)) from None
            if len(step) != len(value):
                raise damaged(self.path, where, f"{len(step)} steps, {len(value)} values")
            value = value.reshape(len(step), -1)
            for j in range(value.shape[1]):
                col = name if value.shape[1] == 1 else f"{name}_{j}"
                series.append(pd.Series(value[:, j], index=step.astype(np.int64), name=col))
        frame = pd.concat(series, axis=1).sort_index() if series else pd.DataFrame()
        frame.index.name = "step"
        return frame

    def observable(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """One observable as stored: steps [T] int64 and values [T, ...] (e.g. [T, Q]).

        Raises ``SnapshotError`` when the file has no observable ``name``.
        """
        where = f"/{observable(name)}"
        group = self._get(observable(name))
        if group is None:
            raise damaged(self.path, where, "no such observable")
        try:
            step, value = group[STEP][()], group[VALUE][()]
        except (KeyError, OSError) as exc:
            raise damaged(self.path, where, str(exc)) from None
        if len(step) != len(value):
            raise damaged(self.path, where, f"{len(step)} steps, {len(value)} values")
        return step.astype(np.int64), value

    def has_observable(self, name: str) -> bool:
        """True when the file records observable ``name``."""
        return observable(name) in self._file

    def series(self, path: str, index: int = -1) -> tuple[int, np.ndarray]:
        """Frame ``index`` of a series ``<path>/{step,value}`` (a kind's arrays): (step, value).

        E.g. ``run.series("quines/weights")`` → (last snapshot step, weights [Q, N]).
        """
        group = self._get(path)
        if group is None or STEP not in group or VALUE not in group:
            raise damaged(self.path, f"/{path}", "no such series")
        steps = group[STEP][()]
        if len(steps) == 0:
            raise damaged(self.path, f"/{path}", "the series has no frames")
        try:
            return int(steps[index]), group[VALUE][index]
        except (IndexError, OSError) as exc:
            raise damaged(self.path, f"/{path}", str(exc)) from None

    @cached_property
    def events(self) -> pd.DataFrame:
        """One row per action: tick, operator (name), actor, counterpart, changed, applied."""
        frame = self._columns(runformat.EVENTS, names(EVENT_COLUMNS))
        group = self._get(runformat.EVENTS)
        attr = group.attrs.get(OPERATORS_ATTR) if group is not None else None
        labels = runformat.operator_names(attr)
        op = EVENT_OPERATOR
        if len(frame) and labels:
            codes = frame[op].to_numpy().astype(np.int64)
            if not set(np.unique(codes).tolist()) <= labels.keys():
                raise damaged(self.path, f"/{runformat.EVENTS}",
                              f"operator code outside attrs['{OPERATORS_ATTR}']")  # fmt: skip
            frame[op] = pd.Series(codes).map(labels).to_numpy(dtype=object)
        return frame

    @cached_property
    def births(self) -> pd.DataFrame:
        """Birth table: uid, parent_uid, co_parent_uid, born_at, cause (label)."""
        cols = names(soup_fmt.BIRTH_COLUMNS)
        if runformat.BIRTHS in self._file:
            frame = self._columns(runformat.BIRTHS, cols)
        else:  # rebuild from snapshots: first sighting of each uid
            frames = list(self.snapshots)
            if not frames:
                return pd.DataFrame({c: [] for c in cols})
            uid = np.concatenate([f.uid for f in frames])
            first = np.unique(uid, return_index=True)[1]
            parent = np.concatenate([f.parent_uid for f in frames])[first]
            frame = pd.DataFrame(
                {
                    soup_fmt.UID: uid[first],
                    soup_fmt.PARENT_UID: parent,
                    soup_fmt.CO_PARENT_UID: np.full(len(first), runformat.INT_FILL),
                    soup_fmt.BORN_AT: np.concatenate([f.born_at for f in frames])[first],
                    soup_fmt.CAUSE: np.where(parent >= 0, soup_fmt.OFFSPRING, soup_fmt.SEED),
                }
            )
        frame[soup_fmt.CAUSE] = _labels(frame[soup_fmt.CAUSE], BIRTH_CAUSES)
        return frame

    @cached_property
    def deaths(self) -> pd.DataFrame:
        """Death table: uid, died_at, cause (label); empty when the file has none."""
        frame = self._columns(runformat.DEATHS, names(soup_fmt.DEATH_COLUMNS))
        frame[soup_fmt.CAUSE] = _labels(frame[soup_fmt.CAUSE], DEATH_CAUSES)
        return frame

    @cached_property
    def lineage(self) -> nx.DiGraph:
        """Parent → child graph over uids; node attrs born_at, cause, died_at, death_cause.

        Edges carry ``role`` = ``parent`` or ``co_parent``.
        """
        g = nx.DiGraph()
        b = self.births
        for row in b.itertuples(index=False):
            g.add_node(int(row.uid), born_at=int(row.born_at), cause=row.cause, died_at=None)
        for row in self.deaths.itertuples(index=False):
            if row.uid in g:
                g.nodes[int(row.uid)].update(died_at=int(row.died_at), death_cause=row.cause)
        for col, role in ((soup_fmt.PARENT_UID, "parent"), (soup_fmt.CO_PARENT_UID, "co_parent")):
            sel = b[b[col] >= 0]
            g.add_edges_from((int(p), int(c), {"role": role})
                             for p, c in zip(sel[col], sel[soup_fmt.UID], strict=True))  # fmt: skip
        return g

    def bonds(self, step: int | None = None) -> np.ndarray:
        """Bonds (uid pairs) of one snapshot: [E, 2] int64 (empty without merge)."""
        group = self._get(runformat.BONDS)
        if group is None:
            return np.zeros((0, 2), dtype=np.int64)
        if step is None and len(self.snapshots) == 0:
            return np.zeros((0, 2), dtype=np.int64)
        steps = group[STEP][()]
        hits = np.flatnonzero(steps == (self.snapshots.steps[-1] if step is None else step))
        if len(hits) == 0:
            return np.zeros((0, 2), dtype=np.int64)
        count = group[COUNT][()].astype(np.int64)
        if len(count) != len(steps) or count.sum() > group[VALUE].shape[0]:
            raise damaged(self.path, f"/{runformat.BONDS}", "count does not match value rows")
        start = int(count[: hits[0]].sum())
        return group[VALUE][start : start + count[hits[0]]].astype(np.int64).reshape(-1, 2)

    def organisms(self, step: int | None = None) -> list[list[int]]:
        """Organisms of a snapshot: bond components with ≥ 2 members, largest first."""
        g = nx.Graph()
        g.add_edges_from(map(tuple, self.bonds(step).tolist()))
        comps = [sorted(c) for c in nx.connected_components(g) if len(c) >= 2]
        return sorted(comps, key=lambda c: (-len(c), c[0]))


def _labels(codes: pd.Series, names: tuple[str, ...]) -> pd.Series:
    """Map integer codes to labels (``unknown`` outside the table)."""
    arr = codes.to_numpy()
    if arr.dtype.kind not in "iu":
        return codes.astype(object)
    lut = np.asarray([*names, "unknown"], dtype=object)
    return pd.Series(lut[np.where((arr >= 0) & (arr < len(names)), arr, len(names))])


def open_run(path: str | Path) -> Run:
    """Open a run file read-only; raises ``SnapshotError`` for anything but a valid run."""
    return Run(path)


__all__ = ["Frame", "Run", "Snapshots", "open_run"]
