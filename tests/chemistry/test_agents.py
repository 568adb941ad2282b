"""Mesa agents of small soups: in step with the store, resume ≡ uninterrupted, off above a limit."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from neurosoup.chemistry import agents as agents_mod
from neurosoup.chemistry.agents import ParticleAgent
from neurosoup.chemistry.config import SoupConfig
from neurosoup.chemistry.recorder import record, resume
from neurosoup.chemistry.soup import Soup
from neurosoup.particles import ConfigError

# births (melt offspring, respawn), deaths and organisms (merge) within a few ticks
OPS = [
    {"name": "attack", "rate": 0.3, "pairing": "single"},
    {"name": "melt", "rate": 0.5, "pairing": "single", "mode": "offspring"},
    {"name": "merge", "rate": 0.2, "pairing": "per_actor"},
    {"name": "respawn", "divergent": True, "zero": True},
    {"name": "self_train", "steps": 2},
]


def _cfg(**kw) -> SoupConfig:
    return SoupConfig(**{"n_particles": 12, "steps": 8, "checkpoint_every": 2, "operators": OPS,
                         **kw})  # fmt: skip


def _view(soup: Soup) -> list[tuple]:
    return [(a.unique_id, a.slot, a.type_name, a.organism, a.parent_uid, a.born_at,
             a.weights.tobytes()) for a in soup.agents]  # fmt: skip


def _check_in_step(soup: Soup) -> None:
    store = soup.store
    slots = store.alive_slots()
    expected = dict(zip(store.uid[slots].tolist(), slots.tolist(), strict=True))
    got = {a.uid: a.slot for a in soup.agents}
    assert got == expected
    org_of = {u: oid for oid, members in soup.organisms_by_id().items() for u in members}
    codes = dict(zip(store.uid[slots].tolist(), store.ptype[slots].tolist(), strict=True))
    for a in soup.agents:
        assert a.organism == org_of.get(a.uid)
        assert int(a.ptype) == codes[a.uid]
        np.testing.assert_array_equal(a.weights, store.weights[a.slot].numpy())
    assert [a.uid for a in soup.agents] == sorted(got)  # increasing uid order


def test_agents_follow_the_store_every_tick() -> None:
    soup = Soup(_cfg(), seed=1, device="cpu")
    _check_in_step(soup)
    seen = set(a.uid for a in soup.agents)
    for _ in range(8):
        soup.step()
        _check_in_step(soup)
        seen |= {a.uid for a in soup.agents}
    assert max(seen) >= 12  # births happened and got agents
    assert any(a.organism is not None for a in soup.agents)  # organisms formed
    assert set(soup.agents_by_type) == {ParticleAgent}
    fix = soup.agents.select(lambda a: a.type_name == "fixpoint")
    assert len(fix) == soup.counts()["fixpoint"]
    w = next(iter(soup.agents)).weights
    with pytest.raises(ValueError, match="read-only"):
        w[0] = 1.0


def test_resumed_agents_equal_uninterrupted(tmp_path) -> None:
    whole = Soup(_cfg(), seed=3, device="cpu")
    record(whole, tmp_path / "whole.h5", progress=False)
    record(Soup(_cfg(), seed=3, device="cpu"), tmp_path / "part.h5", 3, progress=False)
    resumed = resume(tmp_path / "part.h5", progress=False)
    assert resumed.steps == whole.steps == 8
    assert len(_view(whole)) == 12
    assert _view(resumed) == _view(whole)


def test_sync_touches_only_changed_slots(monkeypatch) -> None:
    soup = Soup(_cfg(operators=[{"name": "self_train", "steps": 1}]), seed=0, device="cpu")
    made: list[int] = []
    orig = ParticleAgent.__init__

    def counting(self, model, slot, uid) -> None:
        made.append(uid)
        orig(self, model, slot, uid)

    monkeypatch.setattr(ParticleAgent, "__init__", counting)
    before = list(soup.agents)
    soup.step()
    assert made == [] and list(soup.agents) == before  # no birth, no death: nothing touched


def test_above_the_limit_the_set_is_empty_with_one_note(caplog) -> None:
    caplog.set_level(logging.WARNING, logger=agents_mod.__name__)
    soup = Soup(_cfg(n_particles=30), seed=0, device="cpu", agent_limit=10)
    soup.step()
    assert len(soup.agents) == 0 and len(soup.agents) == 0
    notes = [r.getMessage() for r in caplog.records]
    assert len(notes) == 1 and "30 living particles exceed agent_limit 10" in notes[0]
    assert len(Soup(_cfg(n_particles=30), seed=0, device="cpu").agents) == 30  # default 10³
    with pytest.raises(ConfigError, match="agent_limit must be an int >= 0"):
        Soup(_cfg(), seed=0, device="cpu", agent_limit=-1)
