"""Every batched operator ≡ its per-particle twin, tick by tick, from the same state and draws."""

from __future__ import annotations

import pytest
import torch

from neurosoup.chemistry import catalogue
from neurosoup.chemistry.config import SoupConfig
from neurosoup.chemistry.soup import Soup, operator_codes
from neurosoup.particles import ParticleSpec
from tests.reference.soup import ref_step

BASE = dict(n_particles=8, dtype="float64", train_steps=2, lr=0.04)

CASES = {
    "journal_single_attack": dict(attack_rate=0.7, attack_pairing="single"),
    "collisions": dict(attack_rate=0.6, attack_pairing="per_actor", apply_to_other_rate=0.3,
                       self_apply_rate=0.3, train_steps=1),
    "learn_from_momentum": dict(learn_from_rate=0.5, learn_from_severity=2, momentum=0.9),
    "epoch_mode": dict(learn_from_rate=0.4, train_mode="epoch", train_steps=1, lr=0.01,
                       particle=ParticleSpec(encoding="alife2019"), epsilon=1e-4, strict=True),
    "melt_in_place": dict(melt_rate=0.5, melt_pairing="per_actor"),
    "melt_offspring": dict(melt_rate=0.6, melt_pairing="per_actor", melt_mode="offspring"),
    "merge": dict(merge_rate=0.4, merge_pairing="per_actor", attack_rate=0.3),
    "mutate": dict(mutate_rate=0.5, mutate_sigma=0.05, attack_rate=0.3),
    "grow": dict(grow_rate=0.6, grow_found_rate=0.3, grow_shape=[2, 2, 2, 1], attack_rate=0.9),
    "respawn": dict(attack_rate=0.5, attack_pairing="per_actor", respawn_divergent=True,
                    respawn_zero=True, self_apply_rate=0.2),
    "second_order_train": {"second_order_train.steps": 2, "self_apply_rate": 0.5},
}  # every built-in operator needs a case here (tests/chemistry/test_catalogue.py)


def expected_ops(cfg: SoupConfig) -> set[int]:
    """Codes of the scheduled operators that write events: each case must exercise them all."""
    codes = operator_codes(cfg)
    return {codes[e.name] for e in cfg.operators if catalogue.lookup(e.name).writes_events}


def event_tuples(soup: Soup) -> list[tuple]:
    out = []
    for ev in soup.last_events:
        for row in zip(ev.actor.tolist(), ev.counterpart.tolist(), ev.changed.tolist(),
                       ev.applied.tolist(), strict=True):
            out.append((ev.operator, *row))
    return out


def assert_same_store(fast, slow) -> None:
    for name in ("alive", "uid", "parent_uid", "born_at", "ptype"):
        assert torch.equal(getattr(fast, name), getattr(slow, name)), name
    assert fast.next_uid == slow.next_uid
    torch.testing.assert_close(fast.weights, slow.weights, rtol=1e-9, atol=1e-11, equal_nan=True)
    torch.testing.assert_close(fast.momentum, slow.momentum, rtol=1e-9, atol=1e-11,
                               equal_nan=True)


@pytest.mark.parametrize("case", sorted(CASES))
def test_batched_tick_equals_reference(case: str) -> None:
    cfg = SoupConfig(**{**BASE, **CASES[case]})
    soup = Soup(cfg, seed=11, device="cpu")
    if case == "respawn":  # plant a divergent and a zero particle
        soup.store.weights[1] = float("nan")
        soup.store.weights[4] = 0.0
    slow = soup.store.clone()
    gen = torch.Generator()
    gen.set_state(soup.rngs.torch.get_state())
    bonds = set(soup.organisms.bond_set())
    positions: dict = {}  # grow: uid → (layer, cell, edge)
    seen_ops, unapplied = set(), 0
    for _ in range(4):
        soup.step()
        events, _ = ref_step(slow, cfg, gen, soup.steps, bonds, positions=positions)
        fast_events = event_tuples(soup)
        assert fast_events == events
        assert_same_store(soup.store, slow)
        assert soup.organisms.bond_set() == bonds
        assert soup.organisms.where == positions
        assert torch.equal(soup.rngs.torch.get_state(), gen.get_state())  # same draws consumed
        seen_ops |= {e[0] for e in events}
        unapplied += sum(1 for e in events if not e[4])
    assert seen_ops == expected_ops(cfg), "the case must exercise its operators"
    if case == "collisions":
        assert unapplied > 0, "several attackers on one target must have occurred"
    if case == "respawn":
        assert 6 in seen_ops
    if case == "grow":  # refusals happened (no free particle or no open position left)
        assert unapplied > 0 and len(positions) >= 8


def test_attack_leaves_attacker_and_keeps_population() -> None:
    cfg = SoupConfig(n_particles=10, attack_rate=1.0, attack_pairing="per_actor", train_steps=0)
    soup = Soup(cfg, seed=3)
    before = soup.store.weights.clone()
    soup.step()
    ev = soup.last_events[0]
    changed = set(ev.changed[ev.applied].tolist())
    untouched = [s for s in range(10) if int(soup.store.uid[s]) not in changed]
    assert untouched, "with 10 random targets some particle is never hit"
    assert torch.equal(soup.store.weights[untouched], before[untouched])
    assert int(soup.store.alive.sum()) == 10
    # each target got exactly one winner
    targets = ev.counterpart.tolist()
    assert sorted(changed) == sorted(set(targets))
