"""Aggregating and recurrent particles (science/particles.md §9) ≡ their per-particle twins."""

from __future__ import annotations

import json

import pytest
import torch

from neurosoup.particles import (
    ConfigError,
    ParticleSpec,
    ParticleStore,
    ParticleType,
    aggregate,
    apply_auxiliary,
    apply_weightwise,
    classify,
    classify_with_stats,
    count_types,
    deaggregate,
    effective_vector,
    encode_positions,
    extracted_weight,
    learn_from_step,
    replication_stats,
    second_order_step,
    self_apply,
    self_train_step,
    train_pass,
)
from tests.reference.particle_kinds import (
    RefKindTrainer,
    collections,
    ref_aggregate,
    ref_kind_apply,
    ref_kind_classify,
)

SPECS = [
    ParticleSpec(kind="aggregating"),
    ParticleSpec(kind="aggregating", aggregation="max"),
    ParticleSpec(kind="aggregating", aggregates=3, weight_init="torch"),  # leftovers: 5, 5, 6
    ParticleSpec(kind="aggregating", hidden=3, depth=4, activation="tanh"),
    ParticleSpec(kind="recurrent"),
    ParticleSpec(kind="recurrent", hidden=3, depth=4, weight_init="torch"),
    ParticleSpec(kind="recurrent", activation="tanh"),
]
IDS = [f"{s.name}-d{s.depth}-{s.activation}-{s.aggregation}" for s in SPECS]
TOL = {"rtol": 1e-10, "atol": 1e-12}


def batch(spec: ParticleSpec, n: int, seed: int) -> torch.Tensor:
    """Random particles; recurrent ones scaled by ½ so that few blow up in a short test."""
    w = spec.init(n, torch.Generator().manual_seed(seed), dtype=torch.float64)
    return 0.5 * w if spec.kind == "recurrent" else w


def test_layouts_follow_the_2019_paper() -> None:
    agg, rec = ParticleSpec(kind="aggregating"), ParticleSpec(kind="recurrent")
    assert agg.n_weights == 20 and agg.layer_shapes == ((2, 4), (2, 2), (4, 2))
    assert rec.n_weights == 17  # (2 + 4) + (4 + 4) + (2 + 1)
    assert rec.layer_shapes == ((2, 1), (2, 2), (2, 2), (2, 2), (1, 2), (1, 1))
    three = ParticleSpec(kind="aggregating", aggregates=3)
    assert [len(c) for c in collections(three)] == [5, 5, 6]


def test_weightwise_dict_is_unchanged_and_kinds_round_trip() -> None:
    old = {
        "n_inputs": 4,
        "hidden": 2,
        "n_outputs": 1,
        "depth": 3,
        "activation": "linear",
        "encoding": "global",
        "weight_init": "xavier",
    }
    assert ParticleSpec().to_dict() == old
    assert json.dumps(ParticleSpec().to_dict()) == json.dumps(old)  # same key order too
    assert ParticleSpec(**old) == ParticleSpec() and ParticleSpec(**old).kind == "weightwise"
    for spec in SPECS:
        data = json.loads(json.dumps(spec.to_dict()))
        assert data["kind"] == spec.kind and "encoding" not in data
        assert ParticleSpec(**data) == spec
    # a kind merged into an old full dict (how soup configs merge overrides) still loads
    assert ParticleSpec(**{**old, **SPECS[4].to_dict()}) == SPECS[4]


def test_aggregate_and_deaggregate_match_reference() -> None:
    for spec in SPECS[:3]:
        w = batch(spec, 4, 0)
        ref = torch.stack([ref_aggregate(spec, row) for row in w])
        torch.testing.assert_close(aggregate(spec, w), ref, **TOL)
        y = torch.arange(spec.aggregates, dtype=torch.float64).expand(2, -1)
        back = deaggregate(spec, y)
        assert back.shape == (2, spec.n_weights)
        for j, idx in enumerate(collections(spec)):
            assert torch.all(back[:, idx] == j)


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_apply_matches_reference(spec: ParticleSpec) -> None:
    actors, targets = batch(spec, 6, 0), batch(spec, 6, 1)
    fast = apply_weightwise(spec, actors, targets)
    slow = torch.stack([ref_kind_apply(spec, a, t) for a, t in zip(actors, targets, strict=True)])
    torch.testing.assert_close(fast, slow, **TOL)
    torch.testing.assert_close(self_apply(spec, actors), apply_weightwise(spec, actors, actors))


@pytest.mark.parametrize("momentum", [0.0, 0.9])
@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_self_train_matches_reference(spec: ParticleSpec, momentum: float) -> None:
    w = batch(spec, 5, 2)
    lr = 0.01 if momentum == 0.0 else 0.004
    twins = [RefKindTrainer(spec, row, lr, momentum) for row in w]
    buf = None
    for _ in range(6):
        w, loss, buf = self_train_step(spec, w, lr, momentum=momentum, buf=buf)
        ref_loss = torch.tensor([t.self_train_step() for t in twins], dtype=torch.float64)
        # random linear recurrent nets may blow up: NaN must match NaN there
        torch.testing.assert_close(loss, ref_loss, equal_nan=True, **TOL)
        ref_w = torch.stack([t.weights for t in twins])
        torch.testing.assert_close(w, ref_w, equal_nan=True, **TOL)
    assert int(torch.isfinite(w).all(dim=1).sum()) >= 3  # the comparison saw real numbers


@pytest.mark.parametrize("spec", [SPECS[0], SPECS[4]], ids=[IDS[0], IDS[4]])
def test_learn_from_and_pass_match_reference(spec: ParticleSpec) -> None:
    learners, teachers = batch(spec, 5, 4), batch(spec, 5, 5)
    twins = [RefKindTrainer(spec, row, 0.01) for row in learners]
    for _ in range(4):
        learners, loss, _ = learn_from_step(spec, learners, teachers, 0.01)
        ref = [t.step_on(b) for t, b in zip(twins, teachers, strict=True)]
        torch.testing.assert_close(loss, torch.tensor(ref, dtype=torch.float64), **TOL)
        torch.testing.assert_close(learners, torch.stack([t.weights for t in twins]), **TOL)
    # one epoch-mode pass is one step on the kind's single sample; no random draws
    g = torch.Generator().manual_seed(0)
    passed = train_pass(spec, learners, teachers, 0.01, g)
    stepped = learn_from_step(spec, learners, teachers, 0.01)
    assert torch.equal(passed[0], stepped[0]) and torch.equal(passed[1], stepped[1])
    assert torch.equal(g.get_state(), torch.Generator().manual_seed(0).get_state())


def aggregate_fixpoint(dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """An aggregating 4-2-4 particle whose aggregates are a fixpoint but whose weights are not.

    W1 = [z; 0], W2 = [[1, 0], [0, 0]], W3 = [u, 0] give f(x) = u·(z·x); with the aggregates
    a = u and z·u = 1, f(a) = a. The aggregates are (Σz/5, 1/5, (u0 + u1)/5, (u2 + u3)/5).
    """
    u0 = 0.3
    u = [u0, 0.2, (u0 + 0.2) / 5, (u0 + 0.2) / 20]
    # z = (p, q, 0, 0) with p + q = 5·u0 and p·u0 + q·u1 = 1
    q = (5 * u0 * u0 - 1) / (u0 - u[1])
    z = [5 * u0 - q, q, 0.0, 0.0]
    w3 = [v for ui in u for v in (ui, 0.0)]
    return torch.tensor([z + [0.0] * 4 + [1.0, 0.0, 0.0, 0.0] + w3], dtype=dtype)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_aggregate_fixpoint_is_classified_as_one(dtype: torch.dtype) -> None:
    spec = ParticleSpec(kind="aggregating")
    w = aggregate_fixpoint(dtype)
    once = self_apply(spec, w)
    assert (once - w).abs().max() > 0.1  # the weights are not reproduced …
    torch.testing.assert_close(aggregate(spec, once), aggregate(spec, w))  # … the aggregates are
    codes, stats = classify_with_stats(spec, w)
    assert codes.tolist() == [ParticleType.FIXPOINT]
    assert float(stats["max_abs"][0]) < 1e-6
    assert ref_kind_classify(spec, w[0].double()) == ParticleType.FIXPOINT


def mixed_population(spec: ParticleSpec) -> torch.Tensor:
    """Random, zero, NaN, Inf, near-zero, trained and hand-made fixpoint particles."""
    w = batch(spec, 10, 8)
    w[0] = 0.0
    w[1, 3] = float("nan")
    w[2, 0] = float("inf")
    w[3] = 1e-7 * w[3]
    trained = batch(spec, 3, 9)
    steps, lr = (1000, 0.04) if spec.kind == "aggregating" else (300, 0.01)
    for _ in range(steps):  # max-aggregating particles reach fixpoints by then
        trained, _, _ = self_train_step(spec, trained, lr)
    w[4:7] = trained
    if spec.kind == "aggregating":
        w[7] = aggregate_fixpoint()[0]
    else:
        w[7] = spec.perfect_fixpoint(1, dtype=torch.float64)[0]
        w[8] = w[7].clone()
        w[8, 0] = -1.0  # f(x)_t = −x_t: a 2-cycle
    return w


@pytest.mark.parametrize("spec", [SPECS[0], SPECS[1], SPECS[4]], ids=[IDS[0], IDS[1], IDS[4]])
def test_classify_matches_reference(spec: ParticleSpec) -> None:
    w = mixed_population(spec)
    codes = classify(spec, w).tolist()
    assert codes == [ref_kind_classify(spec, row) for row in w]
    assert set(codes) >= {0, 1, 2, 4}
    if spec.kind == "recurrent":
        assert codes[7:9] == [ParticleType.FIXPOINT, ParticleType.SECOND_ORDER]
    stats = replication_stats(spec, w)
    again = classify_with_stats(spec, w)[1]["max_abs"]
    torch.testing.assert_close(stats["max_abs"], again, rtol=0, atol=0, equal_nan=True)


def test_recurrent_perfect_fixpoint_is_exact() -> None:
    spec = ParticleSpec(kind="recurrent", hidden=3)
    w = spec.perfect_fixpoint(2)
    x = w
    for _ in range(20):
        x = self_apply(spec, x)
    assert torch.equal(x, w)


@pytest.mark.parametrize("spec", [SPECS[0], SPECS[4]], ids=[IDS[0], IDS[4]])
def test_store_rows_and_determinism(spec: ParticleSpec) -> None:
    def run(seed: int) -> tuple[torch.Tensor, dict[str, int]]:
        store = ParticleStore(spec, 4)
        store.add(spec.init(6, torch.Generator().manual_seed(seed)))
        slots = store.alive_slots()
        w, _, _ = self_train_step(spec, store.weights[slots], 0.01)
        store.set_weights(slots, w)
        return store.weights.clone(), store.counts()

    a, b, c = run(0), run(0), run(1)
    assert torch.equal(a[0], b[0]) and a[1] == b[1] and sum(a[1].values()) == 6
    assert not torch.equal(a[0], c[0])


def test_empty_batches() -> None:
    for spec in (SPECS[0], SPECS[4]):
        w = spec.init(0)
        assert apply_weightwise(spec, w, w).shape == (0, spec.n_weights)
        assert self_train_step(spec, w, 0.01)[0].shape == (0, spec.n_weights)
        assert count_types(classify(spec, w))["other"] == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": "fft"}, r"unknown kind 'fft'; expected one of 'weightwise', 'aggregating'"),
        ({"kind": "aggregating", "aggregates": 0}, r"aggregates must be >= 1 .*got 0; the 2019"),
        ({"kind": "aggregating", "aggregates": -3}, r"aggregates must be >= 1 .*got -3"),
        ({"kind": "aggregating", "aggregates": 2.5}, r"aggregates must be an int, got 2.5"),
        ({"kind": "aggregating", "aggregation": "median"}, r"unknown aggregation 'median'"),
        ({"aggregates": 5}, r"aggregates applies to aggregating particles only"),
        ({"kind": "recurrent", "aggregation": "max"}, r"aggregation applies to aggregating"),
        ({"kind": "aggregating", "encoding": "alife2019"}, r"encoding applies to weightwise"),
        ({"kind": "recurrent", "n_inputs": 5}, r"n_inputs applies to weightwise particles only"),
    ],
)
def test_bad_kind_spec(kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        ParticleSpec(**kwargs)


def test_unsupported_operations_say_which_kind() -> None:
    agg, rec = SPECS[0], SPECS[4]
    wa, wr = agg.init(2), rec.init(2)
    cases = [
        (lambda: apply_auxiliary(agg, wa, torch.ones(2)), "auxiliary application"),
        (lambda: extracted_weight(rec, wr), "auxiliary application"),
        (lambda: effective_vector(rec, wr), "effective_vector"),
        (lambda: second_order_step(agg, wa, 0.04), "second_order_step"),
        (lambda: encode_positions(rec), "recurrent particles have no position encoding"),
        (lambda: agg.perfect_fixpoint(1), "aggregating particles have no hand-made"),
    ]
    for call, message in cases:
        with pytest.raises(ConfigError, match=message) as info:
            call()
        assert "\n" not in str(info.value)
