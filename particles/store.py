"""``ParticleStore``: the population as one struct of arrays on one device.

Rows are stable slots: a death clears ``alive[slot]`` and pushes the slot on a free stack, a
birth pops one; rows never shift. When no slot is free the store grows by doubling. uids are
unique for the store's life and never reused. A ``Particle`` is a thin read-only view of one
slot. Kernels in ``chemistry/`` may write the raw tensors; the public write is ``set_weights``,
which marks the cached type stale.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from .classify import ParticleType, classify, count_types
from .errors import ConfigError, ShapeError
from .network import FLOAT_DTYPES, ParticleSpec, check_weights

log = logging.getLogger(__name__)

STALE = -1  # ptype of a slot whose weights changed since the last classification
NO_PARENT = -1
EMPTY_UID = -1

_FIELDS = ("weights", "alive", "uid", "parent_uid", "born_at", "ptype", "momentum")


class ParticleStore:
    """A growable population of particles of one spec.

    Fields (C = capacity, P = n_weights): ``weights [C, P]``, ``alive [C]`` bool,
    ``uid [C]`` int64 (−1 for an empty slot), ``parent_uid [C]`` int64 (−1 none),
    ``born_at [C]`` int64, ``ptype [C]`` int8 (−1 stale), ``momentum [C, P]`` buffer.
    """

    def __init__(
        self,
        spec: ParticleSpec,
        capacity: int = 16,
        device: torch.device | str | None = None,
        dtype: torch.dtype = torch.float32,
    ) -> None:
        if not isinstance(spec, ParticleSpec):
            raise ConfigError(f"spec must be a ParticleSpec, got {type(spec).__name__}")
        if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 0:
            raise ConfigError(f"capacity must be an int >= 0, got {capacity!r}")
        if dtype not in FLOAT_DTYPES:
            raise ConfigError(f"dtype must be torch.float32 or torch.float64, got {dtype}")
        self.spec = spec
        self.device = torch.device(device) if device is not None else torch.device("cpu")
        self.dtype = dtype
        self.next_uid = 0
        self._allocate(capacity)

    # ---- layout -------------------------------------------------------------------------
    def _allocate(self, capacity: int) -> None:
        p, dev = self.spec.n_weights, self.device
        self.weights = torch.zeros(capacity, p, dtype=self.dtype, device=dev)
        self.momentum = torch.zeros(capacity, p, dtype=self.dtype, device=dev)
        self.alive = torch.zeros(capacity, dtype=torch.bool, device=dev)
        self.uid = torch.full((capacity,), EMPTY_UID, dtype=torch.int64, device=dev)
        self.parent_uid = torch.full((capacity,), NO_PARENT, dtype=torch.int64, device=dev)
        self.born_at = torch.zeros(capacity, dtype=torch.int64, device=dev)
        self.ptype = torch.full((capacity,), STALE, dtype=torch.int8, device=dev)
        # free-slot stack: top at the end, so slots fill in increasing order
        self._free = torch.arange(capacity - 1, -1, -1, dtype=torch.int64)
        self._n_free = capacity

    @property
    def capacity(self) -> int:
        """Number of rows (alive or not)."""
        return self.weights.shape[0]

    def __len__(self) -> int:
        return self.capacity - self._n_free

    def alive_slots(self) -> Tensor:
        """Slots of the living particles in increasing order, [N] int64."""
        return torch.nonzero(self.alive, as_tuple=False)[:, 0]

    def grow(self, capacity: int) -> None:
        """Grow to at least ``capacity`` rows (by doubling); slots keep their rows."""
        old = self.capacity
        if capacity <= old:
            return
        new = max(capacity, 2 * old, 1)
        log.info("ParticleStore grows from %d to %d slots", old, new)
        saved = {name: getattr(self, name) for name in _FIELDS}
        free = self._free[: self._n_free]
        self._allocate(new)
        for name, tensor in saved.items():
            getattr(self, name)[:old] = tensor
        added = torch.arange(new - 1, old - 1, -1, dtype=torch.int64)
        self._free = torch.cat([added, free])
        self._n_free = self._free.shape[0]

    # ---- births and deaths --------------------------------------------------------------
    def add(
        self,
        weights: Tensor,
        parent_uid: int | Tensor | None = None,
        born_at: int = 0,
    ) -> Tensor:
        """Place new particles in free slots (growing if needed).

        weights: [n, P]; parent_uid: None, one uid, or [n] int64. Returns their slots, [n].
        """
        check_weights(self.spec, weights, "weights")
        n = weights.shape[0]
        if n > self._n_free:
            self.grow(len(self) + n)
        slots = self._free[self._n_free - n : self._n_free].flip(0).to(self.device)
        self._n_free -= n
        self.weights[slots] = weights.to(dtype=self.dtype, device=self.device)
        self.momentum[slots] = 0.0
        self.alive[slots] = True
        self.uid[slots] = torch.arange(
            self.next_uid, self.next_uid + n, dtype=torch.int64, device=self.device
        )
        self.next_uid += n
        if parent_uid is None:
            parent_uid = NO_PARENT
        self.parent_uid[slots] = torch.as_tensor(parent_uid, dtype=torch.int64).to(self.device)
        self.born_at[slots] = int(born_at)
        self.ptype[slots] = STALE
        return slots

    def replace(
        self, slots: Tensor, weights: Tensor, parent_uid: Tensor | int = NO_PARENT, born_at: int = 0
    ) -> Tensor:
        """Rebirth in place: living ``slots`` get new particles (new uids, zero momentum).

        A death and a birth without touching the free stack (respawn, offspring). slots: [m]
        int64; weights: [m, P]. Returns the new uids, [m].
        """
        slots = self._check_slots(slots, alive=True)
        check_weights(self.spec, weights, "weights")
        m = slots.shape[0]
        uids = torch.arange(self.next_uid, self.next_uid + m, dtype=torch.int64, device=self.device)
        self.next_uid += m
        self.weights[slots] = weights.to(dtype=self.dtype, device=self.device)
        self.momentum[slots] = 0.0
        self.uid[slots] = uids
        self.parent_uid[slots] = torch.as_tensor(parent_uid, dtype=torch.int64).to(self.device)
        self.born_at[slots] = int(born_at)
        self.ptype[slots] = STALE
        return uids

    def remove(self, slots: Tensor | list[int]) -> None:
        """Kill the particles in ``slots`` and free their rows. slots: [m] int64."""
        slots = self._check_slots(slots, alive=True)
        self.alive[slots] = False
        self.uid[slots] = EMPTY_UID
        self.parent_uid[slots] = NO_PARENT
        self.weights[slots] = 0.0
        self.momentum[slots] = 0.0
        self.ptype[slots] = STALE
        m = slots.shape[0]
        self._free = torch.cat([self._free[: self._n_free], slots.flip(0).cpu()])
        self._n_free += m

    def _check_slots(self, slots: Tensor | list[int], *, alive: bool) -> Tensor:
        slots = torch.as_tensor(slots, dtype=torch.int64).reshape(-1).to(self.device)
        if slots.numel() and (int(slots.min()) < 0 or int(slots.max()) >= self.capacity):
            raise ShapeError(f"slots must lie in [0, {self.capacity}), got {slots.tolist()}")
        if alive and slots.numel() and not bool(self.alive[slots].all()):
            dead = slots[~self.alive[slots]].tolist()
            raise ShapeError(f"slots {dead} hold no living particle")
        if slots.unique().numel() != slots.numel():
            raise ShapeError(f"slots must not repeat, got {slots.tolist()}")
        return slots

    # ---- reads and writes ---------------------------------------------------------------
    def set_weights(self, slots: Tensor | list[int], weights: Tensor) -> None:
        """The public write: new weights for living slots; their cached type goes stale."""
        slots = self._check_slots(slots, alive=True)
        check_weights(self.spec, weights, "weights")
        if weights.shape[0] != slots.shape[0]:
            raise ShapeError(f"got {slots.shape[0]} slots but {weights.shape[0]} weight rows")
        self.weights[slots] = weights.to(dtype=self.dtype, device=self.device)
        self.ptype[slots] = STALE

    def update(
        self, slots: Tensor | slice, weights: Tensor, momentum: Tensor | None = None
    ) -> None:
        """The kernels' write: new weights (and momentum rows) for known-valid living slots.

        Unchecked, for operators on the hot path (their slots come from ``alive_slots``);
        the cached types of those slots go stale. slots: [m] int64 or a slice; weights: [m, P].
        """
        self.weights[slots] = weights
        if momentum is not None:
            self.momentum[slots] = momentum
        self.ptype[slots] = STALE

    def set_types(self, slots: Tensor, codes: Tensor) -> None:
        """Cache the classification of living slots. slots: [m] int64; codes: [m] int8."""
        self.ptype[slots] = codes

    def classify(self, epsilon: float = 1e-5, *, strict: bool = False) -> Tensor:
        """Classify every living particle, cache it in ``ptype``; returns the alive codes [N]."""
        slots = self.alive_slots()
        codes = classify(self.spec, self.weights[slots], epsilon, strict=strict)
        self.set_types(slots, codes)
        return codes

    def counts(self, epsilon: float = 1e-5) -> dict[str, int]:
        """Number of living particles per type (classifies stale slots first)."""
        codes = self.ptype[self.alive]
        if bool((codes == STALE).any()):
            codes = self.classify(epsilon)
        return count_types(codes)

    def __getitem__(self, slot: int) -> Particle:
        slot = int(slot)
        if not 0 <= slot < self.capacity or not bool(self.alive[slot]):
            raise IndexError(f"slot {slot} holds no living particle")
        return Particle(self, slot, int(self.uid[slot]))

    def __iter__(self):  # a convenience for small soups, never for hot paths
        return (Particle(self, s, u) for s, u in zip(*self._alive_uids(), strict=True))

    def _alive_uids(self) -> tuple[list[int], list[int]]:
        slots = self.alive_slots()
        return slots.tolist(), self.uid[slots].tolist()

    # ---- state --------------------------------------------------------------------------
    def clone(self) -> ParticleStore:
        """A deep copy (same device and dtype)."""
        other = ParticleStore.__new__(ParticleStore)
        other.spec, other.device, other.dtype = self.spec, self.device, self.dtype
        other.next_uid, other._n_free = self.next_uid, self._n_free
        other._free = self._free.clone()
        for name in _FIELDS:
            setattr(other, name, getattr(self, name).clone())
        return other

    def state_dict(self) -> dict[str, Any]:
        """Plain numpy arrays and ints: everything needed to rebuild the store exactly."""
        state: dict[str, Any] = {name: getattr(self, name).cpu().numpy() for name in _FIELDS}
        state["free"] = self._free[: self._n_free].numpy().copy()
        state["next_uid"] = self.next_uid
        return state

    @classmethod
    def from_state(
        cls,
        spec: ParticleSpec,
        state: dict[str, Any],
        device: torch.device | str | None = None,
    ) -> ParticleStore:
        """Rebuild a store from ``state_dict()`` output."""
        weights = np.asarray(state["weights"])
        dtype = torch.float64 if weights.dtype == np.float64 else torch.float32
        store = cls(spec, 0, device=device, dtype=dtype)
        for name in _FIELDS:
            setattr(store, name, torch.as_tensor(np.asarray(state[name])).to(store.device))
        store._free = torch.as_tensor(np.asarray(state["free"]), dtype=torch.int64).clone()
        store._n_free = store._free.shape[0]
        store.next_uid = int(state["next_uid"])
        return store


@dataclass(frozen=True)
class Particle:
    """A read-only view of one living particle; all state stays in the store."""

    store: ParticleStore
    slot: int
    uid: int

    def _row(self) -> int:
        if int(self.store.uid[self.slot]) != self.uid:
            raise IndexError(f"particle uid {self.uid} no longer lives in slot {self.slot}")
        return self.slot

    @property
    def weights(self) -> Tensor:
        """A copy of the weights, [P]."""
        return self.store.weights[self._row()].clone()

    @property
    def parent_uid(self) -> int | None:
        """The parent's uid, or None for a seeded or respawned particle."""
        p = int(self.store.parent_uid[self._row()])
        return None if p == NO_PARENT else p

    @property
    def born_at(self) -> int:
        """Tick of birth."""
        return int(self.store.born_at[self._row()])

    @property
    def ptype(self) -> ParticleType | None:
        """Latest classification, or None when stale."""
        code = int(self.store.ptype[self._row()])
        return None if code == STALE else ParticleType(code)
