"""OrganismTraining: batched schedule ≡ per-particle twin (float64), the train-first latch,
determinism, resume ≡ uninterrupted through a plain-data round trip, config validation, and
the CI science checks of ``science/organism.md``."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
import torch

from neurosoup.analysis.organism import dropout_table
from neurosoup.chemistry.organism_training import (
    OBSERVABLES,
    OrganismConfig,
    OrganismTraining,
)
from neurosoup.particles import ConfigError, OrganismType
from tests.reference.organism import RefOrganism

ADDITION = {
    "task": "addition",
    "layer_sizes": [2, 3, 3, 1],
    "hidden": 3,
    "st_steps_per_batch": 25,
    "batch_size": 20,
    "n_batches": 50,
    "train_first": None,
}


def addition(**kw) -> OrganismConfig:
    return OrganismConfig.from_dict({**ADDITION, **kw})


def digits(**kw) -> OrganismConfig:
    return OrganismConfig(**kw)


def run(cfg: OrganismConfig, seed: int, epochs: int) -> OrganismTraining:
    m = OrganismTraining(cfg, seed=seed, device="cpu")
    for _ in range(epochs):
        m.step()
    return m


# ---- batched ≡ per-particle twin ---------------------------------------------------------
def test_schedule_matches_twin_float64() -> None:
    cfg = addition(dtype="float64", n_batches=3, batch_size=6, st_steps_per_batch=4, steps=2)
    m = OrganismTraining(cfg, seed=3, device="cpu")
    net = m.network
    ref = RefOrganism(net.layer_sizes, net.spec, net.weights)
    task_opt = torch.optim.SGD(ref.parameters(), lr=cfg.lr, momentum=cfg.momentum)
    for _ in range(2):
        gen = torch.Generator().manual_seed(0)
        gen.set_state(m.rngs.torch.get_state())  # replay this epoch's batches for the twin
        m.step()
        sr, tl, err = [], [], []
        for x, y in m.task.batches(gen):
            sr.append(np.mean(ref.self_train_phase(cfg.st_steps_per_batch, cfg.st_lr,
                                                   cfg.st_momentum)))  # fmt: skip
            loss, out = ref.task_step(task_opt, x, y, "mse")
            tl.append(loss)
            err.extend((out - y).abs()[:, 0].tolist())
        torch.testing.assert_close(net.weights, ref.weights(), rtol=1e-9, atol=1e-12)
        assert m.last_epoch["sr_loss"] == pytest.approx(np.mean(sr), rel=1e-8, abs=1e-15)
        assert m.last_epoch["task_loss"] == pytest.approx(np.mean(tl), rel=1e-8, abs=1e-15)
        assert m.last_epoch["train_metric"] == pytest.approx(np.mean(err), rel=1e-8, abs=1e-15)
    assert net.classify().tolist() == ref.classify()
    assert m.observables and m.observables["count_f"] + m.observables["count_sr"] == 18


def test_train_first_latch() -> None:
    # never reached: the run equals one without self-replication, bit for bit
    never = run(digits(train_first=1.0, validate_every=1), 0, 2)
    off = run(digits(train_first=None, st_steps_per_batch=0, validate_every=1), 0, 2)
    assert torch.equal(never.network.weights, off.network.weights) and not never.st_on
    # reached in epoch 1: epoch 1 still without self-replication, epoch 2 with it
    low = OrganismTraining(digits(train_first=0.01, validate_every=1), seed=0, device="cpu")
    low.step()
    assert low.st_on and torch.equal(low.network.weights, run(digits(st_steps_per_batch=0,
                                                                       train_first=None), 0, 1)
                                     .network.weights)  # fmt: skip
    before = low.observables["sr_loss"]
    low.step()
    assert low.observables["sr_loss"] < 0.5 * before  # self-training ran in epoch 2 (≈ 0.11×)


# ---- observables, determinism, resume ----------------------------------------------------
def test_observables_cadence_and_snapshot() -> None:
    m = OrganismTraining(digits(steps=4), seed=1, device="cpu")
    assert tuple(m.observables) == OBSERVABLES  # step 0: the initial organism
    seen = []
    for _ in range(4):
        m.step()
        seen.append(bool(m.observables))
    assert seen == [False, False, True, True]  # epoch 3 (period) and 4 (the last)
    assert m.observables["count_f"] + m.observables["count_sr"] == 395
    snap = m.snapshot()
    assert snap["weights"].shape == (395, 55) and snap["weights"].dtype == np.float32
    assert snap["ptype"].dtype == np.int8 and snap["uid"].dtype == np.int64
    assert snap["uid"].tolist() == list(range(395))
    assert set(snap["ptype"].tolist()) <= {int(t) for t in OrganismType}
    assert "PN_SR" in m.summary() and "reference" in m.summary()


def test_same_seed_same_run_other_seed_differs() -> None:
    a, b, c = (run(digits(validate_every=1), s, 2) for s in (4, 4, 5))
    assert a.observables == b.observables
    np.testing.assert_array_equal(a.snapshot()["weights"], b.snapshot()["weights"])
    assert not np.array_equal(a.snapshot()["weights"], c.snapshot()["weights"])


def plain_round_trip(state: dict) -> dict:
    """Flatten leaves: arrays through an ``.npz`` (no pickle), the rest through JSON."""
    arrays, scalars = {}, {}

    def walk(node, path):
        for key, value in node.items():
            name = f"{path}/{key}"
            if isinstance(value, dict):
                walk(value, name)
            elif isinstance(value, np.ndarray):
                arrays[name] = value
            else:
                assert isinstance(value, int | float | bool | str), (name, type(value))
                scalars[name] = value

    walk(state, "")
    buf = io.BytesIO()
    np.savez(buf, **{k.replace("/", "|"): v for k, v in arrays.items()})
    buf.seek(0)
    with np.load(buf, allow_pickle=False) as z:
        flat = {k.replace("|", "/"): z[k] for k in z.files}
    flat.update(json.loads(json.dumps(scalars)))
    out: dict = {}
    for name, value in flat.items():
        node = out
        *parents, leaf = name.strip("/").split("/")
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = value
    return out


@pytest.mark.parametrize("cfg", [digits(train_first=0.3, validate_every=1, steps=4),
                                 addition(n_batches=5, validate_every=1, steps=4)],
                         ids=["digits", "addition"])  # fmt: skip
def test_resume_equals_uninterrupted(cfg: OrganismConfig) -> None:
    whole = OrganismTraining(cfg, seed=2, device="cpu")
    obs_whole = []
    for _ in range(4):
        whole.step()
        obs_whole.append(whole.observables)
    first = run(cfg, 2, 2)
    state = plain_round_trip(first.state())
    resumed = OrganismTraining(cfg, seed=2, device="cpu")
    resumed.restore(state)
    assert resumed.steps == 2 and resumed.observables == obs_whole[1]
    obs_resumed = []
    for _ in range(2):
        resumed.step()
        obs_resumed.append(resumed.observables)
    assert obs_resumed == obs_whole[2:]
    for key, value in whole.snapshot().items():
        np.testing.assert_array_equal(resumed.snapshot()[key], value)
    np.testing.assert_array_equal(resumed.state()["task_buf"], whole.state()["task_buf"])


# ---- config ------------------------------------------------------------------------------
def test_config_round_trip_and_bad_input() -> None:
    cfg = addition()
    assert OrganismConfig.from_json(cfg.to_json()) == cfg
    assert OrganismConfig.from_dict(cfg.to_dict()) == cfg
    assert cfg.replace(steps=7).steps == 7
    with pytest.raises(ConfigError, match="Did you mean `st_steps_per_batch`"):
        OrganismConfig.from_dict({"st_step_per_batch": 3})
    with pytest.raises(ConfigError, match="do not fit the digits task"):
        OrganismConfig(layer_sizes=(225, 5, 5, 10))
    with pytest.raises(ConfigError, match="do not fit the addition task"):
        addition(layer_sizes=[2, 3, 3, 10])
    with pytest.raises(ConfigError, match="do not fit the fashion_mnist"):
        OrganismConfig(task="fashion_mnist", layer_sizes=(784, 5, 10), image_size=15)
    assert OrganismConfig(task="fashion_mnist", layer_sizes=(225, 5, 10), image_size=15)
    with pytest.raises(ConfigError, match="hidden"):
        OrganismConfig(hidden=0)
    with pytest.raises(ConfigError, match="train_first"):
        addition(train_first=0.85)
    with pytest.raises(ConfigError, match="task"):
        OrganismConfig(task="mnist")
    with pytest.raises(ConfigError, match="lr"):
        OrganismConfig(lr=0.0)
    with pytest.raises(ConfigError, match="activation"):
        OrganismConfig(activation="relu")
    with pytest.raises(ConfigError, match="OrganismConfig"):
        OrganismTraining({"task": "digits"})  # type: ignore[arg-type]


# ---- science (CI size; science/organism.md "Scaling down") -------------------------------
@pytest.mark.parametrize("seed", [0, 1])
def test_addition_30_epochs_all_particles_replicate(seed: int) -> None:
    m = run(addition(steps=30), seed, 30)
    assert m.observables["count_sr"] >= 16
    assert m.observables["test_metric"] < 1e-5


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_digits_40_epochs_sr_dropout_harmless_f_dropout_fatal(seed: int) -> None:
    m = run(digits(steps=40), seed, 40)
    assert m.observables["test_metric"] >= 0.8
    assert m.observables["count_sr"] >= 1
    table = dropout_table(m, (m.task.x_test, m.task.y_test)).set_index("strategy")
    assert table.loc["none", "metric"] == pytest.approx(m.observables["test_metric"])
    assert abs(table.loc["zero_sr", "delta"]) <= 0.01
    assert table.loc["zero_f", "metric"] <= 0.2
    assert table.loc["l1", "n_removed"] == m.observables["count_sr"]


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(10))
def test_addition_full_60_epochs(seed: int) -> None:
    m = run(addition(steps=60), seed, 60)
    assert m.observables["count_sr"] == 18 and m.observables["test_metric"] < 1e-6


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(3))
def test_digits_full_100_epochs(seed: int) -> None:
    m = run(digits(steps=100), seed, 100)
    assert m.observables["test_metric"] >= 0.85 and m.observables["count_sr"] >= 20
    table = dropout_table(m, (m.task.x_test, m.task.y_test)).set_index("strategy")
    assert abs(table.loc["zero_sr", "delta"]) <= 0.005 and table.loc["zero_f", "metric"] <= 0.15
