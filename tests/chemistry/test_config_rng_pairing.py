"""SoupConfig validation and JSON round-trip; RNG capture/restore; pairing statistics."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import neurosoup.scenarios  # noqa: F401 - registers the example rule noisy_attack
from neurosoup.chemistry.config import SoupConfig
from neurosoup.chemistry.pairing import draw_pairs, draw_third, winners
from neurosoup.chemistry.rng import RunRng, resolve_device
from neurosoup.chemistry.soup import Soup
from neurosoup.particles import ConfigError, ParticleSpec


def test_json_round_trip() -> None:
    cfg = SoupConfig(particle=ParticleSpec(encoding="per_layer"), attack_rate=0.3,
                     rules=("noisy_attack",), melt_mode="offspring", melt_rate=0.1)
    again = SoupConfig.from_json(cfg.to_json())
    assert again == cfg
    assert cfg.replace(attack_rate=0.5).op("attack")["rate"] == 0.5
    assert cfg.replace(particle={"hidden": 3}).particle == ParticleSpec(
        hidden=3, encoding="per_layer")


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"attack_rate": 1.5}, r"attack.rate must be a probability in \[0, 1\], got 1.5"),
    ({"merge_rate": -0.1}, r"merge.rate must be a probability in \[0, 1\], got -0.1"),
    ({"attack_rate": "0.1"}, r"attack.rate must be a probability .*str"),
    ({"n_particles": 1}, "n_particles must be an int >= 2, got 1"),
    ({"n_particles": 2.5}, "n_particles must be an int >= 2"),
    ({"attack_pairing": "pairs"}, "attack.pairing must be one of 'per_actor', 'single'"),
    ({"lr": 0}, "lr must be a finite number > 0"),
    ({"strict": 1}, "strict must be true or false"),
    ({"train_mode": "adam"}, "train_mode must be one of 'full', 'epoch'"),
    ({"snapshot_every": 0}, "snapshot_every must be an int >= 1"),
])
def test_validation_messages(kwargs, message) -> None:
    with pytest.raises(ConfigError, match=message):
        SoupConfig(**kwargs)


def test_unknown_keys_suggest() -> None:
    with pytest.raises(ConfigError, match="Did you mean `learn_from_rate`"):
        SoupConfig.from_dict({"learn_from_rat": 0.1})
    with pytest.raises(ConfigError, match=r"Did you mean `particle\.encoding`"):
        SoupConfig.from_dict({"particle": {"encodng": "global"}})


def test_rng_restore_reproduces_stream() -> None:
    rng = RunRng.from_seed(7)
    state = rng.state()
    a = (rng.numpy.random(3), torch.rand(3, generator=rng.torch))
    rng.restore(state)
    b = (rng.numpy.random(3), torch.rand(3, generator=rng.torch))
    assert np.array_equal(a[0], b[0]) and torch.equal(a[1], b[1])
    other = RunRng.from_seed(8)
    assert not torch.equal(torch.rand(3, generator=other.torch), a[1])


def test_seed_and_device_errors() -> None:
    with pytest.raises(ConfigError, match="seed must be an int >= 0"):
        Soup(SoupConfig(), seed=-1)
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="CUDA is not available"):
            resolve_device("cuda")


def test_same_seed_same_soup_and_mesa_rng() -> None:
    a, b = Soup(SoupConfig(attack_rate=0.5), seed=3), Soup(SoupConfig(attack_rate=0.5), seed=3)
    a.run(3, progress=False)
    b.run(3, progress=False)
    assert torch.equal(a.store.weights, b.store.weights) and a.steps == b.steps == 3
    assert a.rng.random() == b.rng.random()  # Mesa's numpy generator is seeded too


def test_counterparts_uniform_and_never_self() -> None:
    n, reps = 6, 4000
    gen = torch.Generator().manual_seed(0)
    alive = torch.arange(n)
    hits = np.zeros((n, n))
    for _ in range(reps // 10):
        p = draw_pairs(alive, "per_actor", 1.0, gen)
        np.add.at(hits, (p.actors.numpy(), p.counterparts.numpy()), 1)
    assert np.all(np.diag(hits) == 0)
    expected = hits.sum(axis=1, keepdims=True) / (n - 1)
    off = ~np.eye(n, dtype=bool)
    chi2 = (((hits - expected) ** 2 / expected)[off]).sum()
    # chi-square with n(n-2) = 24 dof: the 99.9 % quantile is 51.2
    assert chi2 < 51.2


def test_single_mode_rate_and_thirds() -> None:
    gen = torch.Generator().manual_seed(1)
    alive = torch.tensor([0, 2, 3, 7, 9])
    events = sum(len(draw_pairs(alive, "single", 0.3, gen)) for _ in range(3000))
    assert abs(events / 3000 - 0.3) < 0.03  # 4.5 sigma for a binomial(3000, 0.3)
    p = draw_pairs(alive, "per_actor", 1.0, gen)
    d = draw_third(alive, p, gen)
    assert bool(((d != p.actors) & (d != p.counterparts)).all())
    assert bool(torch.isin(d, alive).all())


def test_winners_one_per_target() -> None:
    targets = torch.tensor([3, 1, 3, 3, 1, 0])
    keys = torch.tensor([0.5, 0.2, 0.1, 0.9, 0.3, 0.7], dtype=torch.float64)
    assert winners(targets, keys).tolist() == [False, True, True, False, False, True]


def test_schedule_keys_insert_operators_at_their_place_and_round_trip() -> None:
    cfg = SoupConfig(attack_rate=0.1, train_steps=5).replace(**{"mutate.rate": 0.05,
                                                                "respawn.zero": True})
    assert [e.name for e in cfg.operators] == ["attack", "mutate", "self_train", "respawn"]
    assert cfg.op("mutate").to_dict() == {"name": "mutate", "rate": 0.05,
                                          "pairing": "per_actor", "sigma": 0.01}
    assert SoupConfig.from_dict(cfg.to_dict()) == cfg
    explicit = SoupConfig(operators=[{"name": "self_train", "steps": 5},
                                     {"name": "attack", "rate": 0.1}])
    assert [e.name for e in explicit.operators] == ["self_train", "attack"], "given order runs"
    assert SoupConfig(attack_rate=0.0).op("attack") is None, "rate 0 disables"
    with pytest.raises(ConfigError, match="appears twice"):
        SoupConfig(operators=[{"name": "attack", "rate": 0.1}, {"name": "attack", "rate": 0.2}])
    with pytest.raises(ConfigError, match="needs `rate`"):
        SoupConfig(operators=[{"name": "attack"}])


def test_toml_operator_tables(tmp_path) -> None:
    from neurosoup.scenarios.runner import resolve

    path = tmp_path / "s.toml"
    path.write_text('extends = "soup/journal-v1"\n[[operators]]\nname = "mutate"\nrate = 0.2\n'
                    'sigma = 0.001\n[[operators]]\nname = "self_train"\nsteps = 3\n')
    _, cfg, _ = resolve(str(path))
    assert [e.to_dict() for e in cfg.operators] == [
        {"name": "mutate", "rate": 0.2, "pairing": "per_actor", "sigma": 0.001},
        {"name": "self_train", "steps": 3}]
