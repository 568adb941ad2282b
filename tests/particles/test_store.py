"""ParticleStore: slots, uids, growth, views, state round-trip."""

from __future__ import annotations

import pytest
import torch

from neurosoup.particles import ParticleSpec, ParticleStore, ParticleType, ShapeError

SPEC = ParticleSpec()


def fresh(n: int, seed: int = 0) -> torch.Tensor:
    return SPEC.init(n, torch.Generator().manual_seed(seed))


def test_add_fills_slots_in_order_and_assigns_unique_uids() -> None:
    store = ParticleStore(SPEC, capacity=4)
    slots = store.add(fresh(3))
    assert slots.tolist() == [0, 1, 2]
    assert store.uid[:3].tolist() == [0, 1, 2]
    assert store.uid[3] == -1 and len(store) == 3
    assert store.parent_uid[:3].tolist() == [-1, -1, -1]


def test_remove_frees_slots_and_uids_are_never_reused() -> None:
    store = ParticleStore(SPEC, capacity=4)
    store.add(fresh(4))
    store.remove(torch.tensor([1, 2]))
    assert len(store) == 2 and store.alive.tolist() == [True, False, False, True]
    assert store.uid.tolist() == [0, -1, -1, 3]
    slots = store.add(fresh(2, 1), parent_uid=torch.tensor([0, 3]), born_at=5)
    assert sorted(slots.tolist()) == [1, 2]
    assert sorted(store.uid[slots].tolist()) == [4, 5]
    assert store.parent_uid[slots].tolist() == [0, 3]
    assert store.born_at[slots].tolist() == [5, 5]
    assert len(set(store.uid.tolist())) == 4


def test_growth_by_doubling_keeps_rows() -> None:
    store = ParticleStore(SPEC, capacity=2)
    first = fresh(2)
    store.add(first)
    store.add(fresh(3, 1))
    assert store.capacity == 5 and len(store) == 5  # max(needed, 2 × 2)
    assert torch.equal(store.weights[:2], first)
    assert store.uid[:5].tolist() == [0, 1, 2, 3, 4]
    store.add(fresh(1, 2))
    assert store.capacity == 10 and len(store) == 6  # doubled


def test_zero_capacity_store_grows() -> None:
    store = ParticleStore(SPEC, capacity=0)
    assert len(store) == 0 and store.alive_slots().numel() == 0
    store.add(fresh(3))
    assert len(store) == 3


def test_particle_view_is_read_only_and_detects_stale_slot() -> None:
    store = ParticleStore(SPEC, capacity=2)
    store.add(fresh(2))
    p = store[1]
    w = p.weights
    w[:] = 99.0
    assert not torch.any(store.weights[1] == 99.0)
    assert p.uid == 1 and p.parent_uid is None and p.born_at == 0 and p.ptype is None
    store.classify()
    assert p.ptype == ParticleType.OTHER
    store.remove([1])
    with pytest.raises(IndexError, match="no longer lives"):
        _ = p.weights
    with pytest.raises(IndexError, match="no living particle"):
        store[1]
    assert [q.uid for q in store] == [0]


def test_set_weights_marks_type_stale() -> None:
    store = ParticleStore(SPEC, capacity=3)
    store.add(fresh(3))
    store.classify()
    store.set_weights([2], SPEC.perfect_fixpoint(1))
    assert store.ptype.tolist() == [ParticleType.OTHER, ParticleType.OTHER, -1]
    assert store.counts() == {
        "divergent": 0, "zero": 0, "fixpoint": 1, "second_order": 0, "other": 2
    }


def test_bad_slots_are_rejected() -> None:
    store = ParticleStore(SPEC, capacity=3)
    store.add(fresh(2))
    with pytest.raises(ShapeError, match="hold no living particle"):
        store.remove([2])
    with pytest.raises(ShapeError, match=r"must lie in \[0, 3\)"):
        store.remove([7])
    with pytest.raises(ShapeError, match="must not repeat"):
        store.remove([0, 0])
    with pytest.raises(ShapeError, match="2 slots but 1 weight rows"):
        store.set_weights([0, 1], fresh(1))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_state_round_trip_and_clone(dtype: torch.dtype) -> None:
    store = ParticleStore(SPEC, capacity=4, dtype=dtype)
    store.add(fresh(4))
    store.remove([0, 2])
    store.momentum[1] = 0.5
    state = store.state_dict()
    again = ParticleStore.from_state(SPEC, state)
    for other in (again, store.clone()):
        for field in ("weights", "alive", "uid", "parent_uid", "born_at", "ptype", "momentum"):
            assert torch.equal(getattr(other, field), getattr(store, field)), field
        assert other.dtype == dtype
        # the same next births
        assert other.add(fresh(3, 9)).tolist() == store.clone().add(fresh(3, 9)).tolist()
        assert other.next_uid == 7


def test_large_store_add_remove_is_vectorised() -> None:
    store = ParticleStore(SPEC, capacity=1000)
    store.add(fresh(100_000))
    assert len(store) == 100_000
    dead = torch.arange(0, 100_000, 2)
    store.remove(dead)
    assert len(store) == 50_000
    store.add(fresh(50_000, 1))
    assert len(store) == 100_000 and store.capacity == 100_000  # freed slots reused
    assert int(store.uid.max()) == 149_999


def test_replace_is_a_rebirth_in_place() -> None:
    store = ParticleStore(SPEC, capacity=3)
    store.add(fresh(3))
    store.momentum[:] = 1.0
    store.classify()
    new = fresh(2, 5)
    uids = store.replace(torch.tensor([2, 0]), new, parent_uid=torch.tensor([1, -1]), born_at=4)
    assert uids.tolist() == [3, 4] and store.next_uid == 5 and len(store) == 3
    assert store.uid.tolist() == [4, 1, 3]
    assert torch.equal(store.weights[torch.tensor([2, 0])], new)
    assert store.parent_uid.tolist() == [-1, -1, 1] and store.born_at.tolist() == [4, 0, 4]
    assert store.momentum[0].abs().sum() == 0 and store.momentum[1].abs().sum() > 0
    assert store.ptype.tolist() == [-1, ParticleType.OTHER, -1]
    assert store.add(fresh(1)).tolist() == [3]  # the free stack was not touched
    with pytest.raises(ShapeError, match="must not repeat"):
        store.replace(torch.tensor([1, 1]), fresh(2))
