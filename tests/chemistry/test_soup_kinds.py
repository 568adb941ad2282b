"""Soups of every particle kind and the second-order operator ≡ their per-particle twins.

Aggregating and recurrent soups run every operator of the catalogue (``science/particles.md``
§9); an operator a kind does not support is refused when the config is built.
"""

from __future__ import annotations

import pytest
import torch

from neurosoup.chemistry import catalogue
from neurosoup.chemistry.config import SoupConfig
from neurosoup.chemistry.rules import particle_rule
from neurosoup.chemistry.soup import Soup
from neurosoup.particles import ConfigError, ParticleSpec, ParticleType
from tests.chemistry.test_operators import (
    BASE,
    CASES,
    assert_same_store,
    event_tuples,
    expected_ops,
)
from tests.reference.soup import ref_step

KIND_SPECS = {
    "aggregating": ParticleSpec(kind="aggregating"),
    "recurrent": ParticleSpec(kind="recurrent"),
}
KIND_CASES = {  # the weightwise cases, minus the alife2019 encoding (weightwise only)
    **{k: v for k, v in CASES.items() if k not in ("epoch_mode", "second_order_train")},
    "epoch_mode": dict(learn_from_rate=0.4, train_mode="epoch", train_steps=2, lr=0.01,
                       epsilon=1e-4, strict=True),
}
SECOND_ORDER = dict(n_particles=8, dtype="float64", lr=0.04,
                    operators=[{"name": "attack", "rate": 0.5, "pairing": "per_actor"},
                               {"name": "second_order_train", "steps": 3}])


def run_against_twin(cfg: SoupConfig, ticks: int = 4, *, plant: bool = False,
                     scale: float = 1.0) -> set[int]:
    """Run the soup and its twin side by side; return the operator codes seen."""
    soup = Soup(cfg, seed=11, device="cpu")
    soup.store.weights.mul_(scale)
    if plant:  # a divergent and a zero particle
        soup.store.weights[1] = float("nan")
        soup.store.weights[4] = 0.0
    slow = soup.store.clone()
    gen = torch.Generator()
    gen.set_state(soup.rngs.torch.get_state())
    bonds = set(soup.organisms.bond_set())
    seen, positions = set(), {}  # grow: uid → (layer, cell, edge), kept across ticks
    for _ in range(ticks):
        soup.step()
        events, _ = ref_step(slow, cfg, gen, soup.steps, bonds, positions=positions)
        assert event_tuples(soup) == events
        assert_same_store(soup.store, slow)
        assert soup.organisms.bond_set() == bonds
        assert soup.organisms.where == positions
        assert torch.equal(soup.rngs.torch.get_state(), gen.get_state())
        seen |= {e[0] for e in events}
    return seen


@pytest.mark.parametrize("case", sorted(KIND_CASES))
@pytest.mark.parametrize("kind", sorted(KIND_SPECS))
def test_kind_soup_tick_equals_reference(kind: str, case: str) -> None:
    spec = KIND_SPECS[kind]
    cfg = SoupConfig(**{**BASE, **KIND_CASES[case], "particle": spec})
    # recurrent particles blow up quickly from Glorot init (2019: 46/50 under self-application)
    scale = 0.5 if kind == "recurrent" else 1.0
    seen = run_against_twin(cfg, 8, plant=case == "respawn", scale=scale)
    assert seen == expected_ops(cfg), "the case must exercise its operators"


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_second_order_operator_equals_reference(momentum: float) -> None:
    cfg = SoupConfig(**SECOND_ORDER, momentum=momentum)
    assert cfg.op("second_order_train")["steps"] == 3
    assert run_against_twin(cfg, plant=True) == {0}  # only attack writes events


def test_second_order_operator_grows_two_cycles_and_stops_non_finite() -> None:
    cfg = SoupConfig(n_particles=6, lr=0.04, operators=[{"name": "second_order_train",
                                                          "steps": 100}])
    soup = Soup(cfg, seed=0)
    soup.store.weights[2] = float("inf")
    soup.run(10, progress=False)
    codes = soup.store.ptype[soup.store.alive_slots()]
    assert int(codes[2]) == int(ParticleType.DIVERGENT)
    assert torch.isinf(soup.store.weights[2]).all()  # it stopped: inf stays inf, no NaN
    # 1,000 steps: most journal-era particles become 2-cycles (journal: 14-16 of 20)
    assert int((codes == int(ParticleType.SECOND_ORDER)).sum()) >= 2


@pytest.mark.parametrize("kind", sorted(KIND_SPECS))
def test_unsupported_operator_refused_when_the_config_is_built(kind: str) -> None:
    particle = {"kind": kind}
    with pytest.raises(ConfigError) as err:
        SoupConfig.from_dict({"particle": particle,
                              "operators": [{"name": "second_order_train", "steps": 5}]})
    msg = str(err.value)
    assert "\n" not in msg and "second_order_train" in msg and repr(kind) in msg
    assert "weightwise" in msg
    with pytest.raises(ConfigError, match="second_order_train"):  # also via an override key
        SoupConfig(particle=KIND_SPECS[kind], **{"second_order_train.steps": 2})
    assert SoupConfig(particle=KIND_SPECS[kind], **{"second_order_train.steps": 0}).op(
        "second_order_train") is None  # disabled: nothing to refuse


def test_rule_restricted_to_a_kind_is_refused_for_others() -> None:
    @particle_rule(rate=1.0, name="test_kinds_only_ww", kinds=("weightwise",))
    def shrink(w, noise):
        return 0.5 * w

    try:
        SoupConfig(rules=["test_kinds_only_ww"])  # weightwise: fine
        with pytest.raises(ConfigError, match="works on weightwise particles only") as err:
            SoupConfig(particle=KIND_SPECS["recurrent"], rules=["test_kinds_only_ww"])
        assert "\n" not in str(err.value)
        with pytest.raises(ConfigError, match="kinds must name particle kinds"):
            particle_rule(name="test_kinds_bad", kinds=("convolutional",))(shrink.fn)
    finally:
        catalogue.RULES.pop("test_kinds_only_ww", None)
        from neurosoup.chemistry import rules

        rules._RULE_OBJECTS.pop("test_kinds_only_ww", None)


def test_unknown_particle_kind_is_one_line() -> None:
    with pytest.raises(ConfigError) as err:
        SoupConfig.from_dict({"particle": {"kind": "convolutional"}})
    msg = str(err.value)
    assert "\n" not in msg and "unknown kind 'convolutional'" in msg and "'recurrent'" in msg
    with pytest.raises(ConfigError, match="applies to weightwise particles only"):
        SoupConfig.from_dict({"particle": {"kind": "aggregating", "encoding": "alife2019"}})


@pytest.mark.parametrize("kind", sorted(KIND_SPECS))
def test_kind_soup_is_deterministic_and_round_trips(kind: str) -> None:
    cfg = SoupConfig(particle=KIND_SPECS[kind], n_particles=10, attack_rate=0.3,
                     attack_pairing="per_actor", learn_from_rate=0.2, train_steps=3,
                     melt_rate=0.5, melt_mode="offspring")
    assert SoupConfig.from_json(cfg.to_json()) == cfg
    a, b = Soup(cfg, seed=4), Soup(cfg, seed=4)
    a.run(5, progress=False)
    b.run(5, progress=False)
    torch.testing.assert_close(a.store.weights, b.store.weights, rtol=0, atol=0, equal_nan=True)
    assert torch.equal(a.store.uid, b.store.uid) and torch.equal(a.store.ptype, b.store.ptype)
    assert a.counts() == b.counts()
    assert a.store.weights.shape[1] == KIND_SPECS[kind].n_weights
