"""Lazy, read-only access to the particle snapshots of a run file (``/particles/all``).

Each call reads only the frames it needs (HDF5 chunks hold one frame each).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from neurosoup.particles import ConfigError, SnapshotError
from neurosoup.particles.runformat import soup as soup_fmt
from neurosoup.particles.runformat.common import INT_FILL, STEP, VALUE

FIELDS = soup_fmt.FIELDS  # weights, uid, parent_uid, born_at, ptype
WEIGHTS, UID, PTYPE = soup_fmt.WEIGHTS, soup_fmt.UID, soup_fmt.PTYPE
_WHERE = f"/{soup_fmt.PARTICLES}"


def damaged(path: Path, group: str, what: str) -> SnapshotError:
    """The one-line error for a damaged group of a run file."""
    return SnapshotError(
        f"{path}: group {group} is damaged ({what}); re-run the scenario or restore the file"
    )


@dataclass(frozen=True)
class Frame:
    """The occupied slots of one snapshot (``uid >= 0``), in slot order.

    Attributes:
        step: tick of the snapshot.
        uid: [n] int64 particle ids.
        weights: [n, P] weights (non-finite values kept as stored).
        ptype: [n] int8 ``ParticleType`` codes.
        parent_uid: [n] int64 (−1 none).
        born_at: [n] int64.
    """

    step: int
    uid: np.ndarray
    weights: np.ndarray
    ptype: np.ndarray
    parent_uid: np.ndarray
    born_at: np.ndarray


class Snapshots:
    """Lazy access to ``/particles/all``: each call reads only the frames it needs."""

    def __init__(self, path: Path, group: h5py.Group | None) -> None:
        self._path = path
        self._group = group
        self.steps: np.ndarray = np.zeros(0, dtype=np.int64)
        if group is None:
            return
        for field in (WEIGHTS, UID, PTYPE):
            if field not in group:
                raise damaged(path, f"{_WHERE}/{field}", "missing")
        self.steps = self._read(f"{group.name}/{UID}/{STEP}")[()].astype(np.int64)
        for field in FIELDS:
            if field in group:
                n = group[field][VALUE].shape[0] if VALUE in group[field] else -1
                if n != len(self.steps):
                    raise damaged(
                        path, f"{_WHERE}/{field}", f"{n} frames but {len(self.steps)} steps"
                    )

    def _read(self, name: str) -> h5py.Dataset:
        try:
            return self._group.file[name]
        except (KeyError, OSError) as exc:
            raise damaged(self._path, name, str(exc)) from exc

    def __len__(self) -> int:
        return len(self.steps)

    def index(self, step: int | None = None) -> int:
        """Frame index of a snapshot step; ``None`` means the last snapshot."""
        if len(self.steps) == 0:
            raise SnapshotError(f"{self._path}: the run has no snapshots in {_WHERE}")
        if step is None:
            return len(self.steps) - 1
        hits = np.flatnonzero(self.steps == step)
        if len(hits) == 0:
            raise SnapshotError(
                f"{self._path}: no snapshot at step {step}; snapshots exist at steps "
                f"{self.steps[0]}..{self.steps[-1]} ({len(self.steps)} frames), pick one of those"
            )
        return int(hits[0])

    def field(self, name: str, step: int | None = None) -> np.ndarray:
        """One field of one snapshot, all slots: weights [C, P], others [C]."""
        if name not in FIELDS:
            raise ConfigError(f"unknown snapshot field {name!r}; expected one of {FIELDS}")
        s = self.index(step)
        if name not in self._group:
            if name == WEIGHTS:
                raise damaged(self._path, f"{_WHERE}/{WEIGHTS}", "missing")
            return np.full(self._group[UID][VALUE].shape[1], INT_FILL, dtype=np.int64)
        try:
            return self._group[name][VALUE][s]
        except OSError as exc:
            raise damaged(self._path, f"{_WHERE}/{name}", str(exc)) from exc

    def weights(self, step: int | None = None) -> np.ndarray:
        """Weights of every slot at a step: [C, P] (NaN in empty slots)."""
        return self.field(WEIGHTS, step)

    def uids(self, step: int | None = None) -> np.ndarray:
        """Uid of every slot at a step: [C] int64 (−1 empty)."""
        return self.field(UID, step).astype(np.int64)

    def types(self, step: int | None = None) -> np.ndarray:
        """Type code of every slot at a step: [C] int8 (−1 empty)."""
        return self.field(PTYPE, step).astype(np.int8)

    def frame(self, step: int | None = None) -> Frame:
        """The occupied slots of one snapshot."""
        uid = self.uids(step)
        keep = uid >= 0
        return Frame(
            step=int(self.steps[self.index(step)]),
            uid=uid[keep],
            weights=self.weights(step)[keep],
            ptype=self.types(step)[keep],
            parent_uid=self.field(soup_fmt.PARENT_UID, step).astype(np.int64)[keep],
            born_at=self.field(soup_fmt.BORN_AT, step).astype(np.int64)[keep],
        )

    def __iter__(self) -> Iterator[Frame]:
        for step in self.steps:
            yield self.frame(int(step))

    def all_types(self) -> np.ndarray:
        """Type codes of every snapshot: [S, C] int8 (−1 empty). Reads no weights."""
        if len(self.steps) == 0:
            return np.zeros((0, 0), dtype=np.int8)
        return self._group[PTYPE][VALUE][()].astype(np.int8)

    def all_uids(self) -> np.ndarray:
        """Uids of every snapshot: [S, C] int64 (−1 empty). Reads no weights."""
        if len(self.steps) == 0:
            return np.zeros((0, 0), dtype=np.int64)
        return self._group[UID][VALUE][()].astype(np.int64)

    def trajectories(self, every: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Weights aligned by uid over snapshots (slots may change owner).

        Args:
            every: keep every k-th snapshot (the last one is always kept).

        Returns:
            (steps [S'], uids [U] sorted, weights [S', U, P]) with NaN where a uid is not alive.
        """
        if len(self.steps) == 0:
            raise SnapshotError(f"{self._path}: the run has no snapshots in {_WHERE}")
        frames = np.arange(0, len(self.steps), max(1, every))
        if frames[-1] != len(self.steps) - 1:
            frames = np.append(frames, len(self.steps) - 1)
        uid = self._group[UID][VALUE][frames].astype(np.int64)  # [S', C]
        w = self._group[WEIGHTS][VALUE][frames]  # [S', C, P]
        uids = np.unique(uid[uid >= 0])
        out = np.full((len(frames), len(uids), w.shape[2]), np.nan, dtype=np.float64)
        s_idx, c_idx = np.nonzero(uid >= 0)
        out[s_idx, np.searchsorted(uids, uid[s_idx, c_idx])] = w[s_idx, c_idx]
        return self.steps[frames], uids, out


__all__ = ["FIELDS", "Frame", "Snapshots", "damaged"]
