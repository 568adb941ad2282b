"""The quine soup: operators ≡ their per-member twins, schedule config, per-member λ, recording."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from neurosoup.chemistry.quine_operators import QUINE_OPERATORS
from neurosoup.chemistry.quine_training import QuineConfig, QuineTraining
from neurosoup.chemistry.recorder import record, resume
from neurosoup.particles import ConfigError
from tests.reference.quine import RefQuine
from tests.reference.quine_soup import REF_QUINE_OPERATORS, ref_main_epoch

OPTS = ["adamax", "adam", "adamax", "sgd", "adamax"]
ALL_OPS = [
    {"name": "overwrite", "rate": 0.4},
    {"name": "learn_from", "rate": 0.4},
    {"name": "regenerate", "rate": 0.3},
    {"name": "self_train", "rate": 0.3, "epochs": 2},
]


def soup_config(**kw) -> QuineConfig:
    base = dict(hidden=4, population=5, init="paper", optimiser=OPTS, minibatch=7,
                dtype="float64", steps=4, operators=ALL_OPS)  # fmt: skip
    return QuineConfig(**{**base, **kw})


def test_codes_are_stable() -> None:
    assert {n: op.code for n, op in QUINE_OPERATORS.items()} == {
        "regenerate": 0, "self_train": 1, "learn_from": 2, "overwrite": 3,
    }  # fmt: skip
    assert set(REF_QUINE_OPERATORS) == set(QUINE_OPERATORS)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_operators_equal_per_member_twins(seed: int) -> None:
    """Whole steps (epoch, then every operator) of the kind ≡ a loop over RefQuines (float64)."""
    cfg = soup_config()
    model = QuineTraining(cfg, seed=seed, device="cpu")
    gen = torch.Generator().manual_seed(0)
    gen.set_state(model.rngs.torch.get_state())
    spec, pop = model.pop.spec, model.pop
    quines = [
        RefQuine(list(spec.layer_shapes), pop.weights[i].clone(), pop.projection, None, o, lr)
        for i, (o, lr) in enumerate(zip(cfg.optimisers, cfg.learning_rates, strict=True))
    ]
    ancestor = list(range(cfg.population))
    n_events = 0
    for _ in range(cfg.steps):
        model.step()
        ref_main_epoch(quines, gen, cfg.minibatch)
        ref_events = []
        for entry in cfg.operators:
            params = {k: v for k, v in entry.items() if k != "name"}
            rows = REF_QUINE_OPERATORS[entry["name"]](quines, ancestor, params, gen, cfg.minibatch)
            code = QUINE_OPERATORS[entry["name"]].code
            ref_events += [(model.steps, code, a, b, c, int(w)) for a, b, c, w in rows]
        want = torch.stack([q.flat() for q in quines])
        assert torch.isfinite(want).all()
        torch.testing.assert_close(model.pop.weights, want, rtol=1e-9, atol=1e-10)
        assert model.ancestor.tolist() == ancestor
        got = np.concatenate(model.step_records()["events"]).tolist()
        assert got == [list(r) for r in ref_events]
        n_events += len(got)
    assert n_events > 10  # the rates are high enough that every operator acted


def test_schedule_config() -> None:
    cfg = QuineConfig(population=4, hidden=8, operators=[{"name": "overwrite", "rate": 0.1}])
    assert cfg.operators == ({"name": "overwrite", "rate": 0.1, "pairing": "per_actor"},)
    assert QuineConfig.from_json(cfg.to_json()) == cfg
    assert "operators" not in QuineConfig().to_dict()  # absent when empty: old files unchanged
    assert QuineConfig(operators=[{"name": "overwrite", "rate": 0.0}]).operators == ()
    dotted = QuineConfig(population=4).replace(**{"learn_from.rate": 0.2})
    assert dotted.operators[0]["name"] == "learn_from" and dotted.operators[0]["epochs"] == 1
    assert dotted.replace(**{"learn_from.epochs": 3}).operators[0]["epochs"] == 3
    with pytest.raises(ConfigError, match=r"attack.*undefined for quines"):
        QuineConfig(operators=[{"name": "attack", "rate": 0.1}])
    with pytest.raises(ConfigError, match="Did you mean `overwrite`"):
        QuineConfig(operators=[{"name": "overwrit", "rate": 0.1}])
    with pytest.raises(ConfigError, match="rate"):
        QuineConfig(operators=[{"name": "overwrite", "rate": 2.0}])
    with pytest.raises(ConfigError, match="listed twice"):
        QuineConfig(operators=[{"name": "overwrite", "rate": 0.1}] * 2)
    with pytest.raises(ConfigError, match="network = 'vanilla'"):
        QuineConfig(network="auxiliary", operators=[{"name": "overwrite", "rate": 0.1}])


def test_per_member_task_weight_equals_each_alone() -> None:
    """A λ sweep as one population ≡ each λ in its own run (float64, shared init)."""
    base = dict(network="auxiliary", hidden=8, dtype="float64", steps=2, shared_init=True)
    sweep = QuineTraining(QuineConfig(population=2, task_weight=[0.0, 0.5], **base), seed=4,
                          device="cpu")  # fmt: skip
    sweep.run(progress=False)
    for i, lam in enumerate((0.0, 0.5)):
        alone = QuineTraining(QuineConfig(population=2, task_weight=lam, **base), seed=4,
                              device="cpu")  # fmt: skip
        alone.run(progress=False)
        torch.testing.assert_close(sweep.pop.weights[i], alone.pop.weights[i])
    with pytest.raises(ConfigError, match="task_weight λ must be a finite number >= 0, got -1"):
        QuineConfig(network="auxiliary", population=2, task_weight=[0.01, -1])
    with pytest.raises(ConfigError, match="task_weight lists 3 entries but population = 2"):
        QuineConfig(network="auxiliary", population=2, task_weight=[0.01, 0.1, 1.0])


def test_soup_records_events_and_resumes(tmp_path) -> None:
    cfg = soup_config(dtype="float32", steps=6, checkpoint_every=2)
    full = tmp_path / "full.h5"
    record(QuineTraining(cfg, seed=5, device="cpu"), full, progress=False)
    part = tmp_path / "part.h5"
    record(QuineTraining(cfg, seed=5, device="cpu"), part, 3, progress=False)
    resume(part, progress=False)
    from neurosoup.analysis import open_run

    with open_run(full) as a, open_run(part) as b:
        assert len(a.events) > 0
        assert set(a.events["operator"]) <= set(QUINE_OPERATORS)
        for name in ("r2", "ancestor", "applied_overwrite"):
            np.testing.assert_array_equal(a.observable(name)[1], b.observable(name)[1])
        np.testing.assert_array_equal(a.series("quines/weights")[1], b.series("quines/weights")[1])
        pd_a, pd_b = a.events, b.events
        assert pd_a.equals(pd_b)
