"""The 2019 kind comparison as pure functions: small-scale science checks and determinism.

Thresholds come from the 2019 logs (science/particles.md §9) with wide binomial margins; the
small sizes keep the file well under a few seconds.
"""

from __future__ import annotations

import pytest

from neurosoup.particles import TYPE_LABELS, ParticleSpec
from neurosoup.particles.experiments import (
    alife2019_specs,
    compare_kinds_2019,
    fixpoint_density,
    mixed_fixpoint_counts,
    second_order_counts,
    self_application_counts,
    train_counts,
)

SPECS = alife2019_specs()


@pytest.mark.parametrize("kind", sorted(SPECS))
def test_random_particles_of_every_kind_are_other(kind: str) -> None:
    counts = fixpoint_density(SPECS[kind], 100)
    assert tuple(counts) == TYPE_LABELS and counts["other"] == 100


@pytest.mark.parametrize("kind", sorted(SPECS))
def test_self_application_collapses_random_particles(kind: str) -> None:
    # 2019: only divergent or zero after 100 self-applications, for every kind
    counts = self_application_counts(SPECS[kind], 20, 100)
    assert counts["divergent"] + counts["zero"] == 20, counts
    # recurrent nets mostly blow up (46 / 4 of 50), aggregating ones mostly vanish (4 / 46)
    if kind == "recurrent":
        assert counts["divergent"] >= 12, counts
    if kind == "aggregating":
        assert counts["zero"] >= 12, counts


def test_only_weightwise_training_makes_non_trivial_fixpoints() -> None:
    # 2019, 1,000 passes: weightwise 50/50 fixpoints, aggregating 50 other, recurrent no
    # fixpoint (38 divergent, 12 other). 600 passes of 10 particles keep this fast; the
    # weightwise ones are there by then (epoch mode: P updates per pass).
    ww = train_counts(SPECS["weightwise"], 10, 600)
    agg = train_counts(SPECS["aggregating"], 10, 600)
    rec = train_counts(SPECS["recurrent"], 10, 600)
    assert ww["fixpoint"] >= 7, ww
    assert agg["fixpoint"] == agg["zero"] == 0, agg
    assert rec["fixpoint"] == 0, rec


def test_mixed_counts_and_determinism() -> None:
    spec = SPECS["aggregating"]
    a = mixed_fixpoint_counts(spec, (0, 5), trials=6, rounds=2, seed=1)
    assert a == mixed_fixpoint_counts(spec, (0, 5), trials=6, rounds=2, seed=1)
    assert len(a) == 2 and all(sum(c.values()) == 6 for c in a)
    one = compare_kinds_2019(
        seed=2, n_train=3, passes=2, n_apply=3, applications=3, n_density=3, ks=(1,), trials=2
    )
    assert one == compare_kinds_2019(
        seed=2, n_train=3, passes=2, n_apply=3, applications=3, n_density=3, ks=(1,), trials=2
    )
    assert sorted(one) == sorted(SPECS) and len(one["recurrent"]["mixed"]) == 1


def test_second_order_counts_seeded() -> None:
    spec = ParticleSpec(encoding="per_layer", weight_init="torch")
    a = second_order_counts(spec, 4, 10, seed=5)
    assert a == second_order_counts(spec, 4, 10, seed=5) and sum(a.values()) == 4


@pytest.mark.slow
def test_paper_scale_2019_comparison() -> None:
    # 2019 logs (50 nets): training → weightwise 50/50 fixpoints, aggregating 50 other,
    # recurrent 38 divergent + 12 other; 100 self-applications → only divergent or zero.
    ww = train_counts(SPECS["weightwise"])
    agg = train_counts(SPECS["aggregating"])
    rec = train_counts(SPECS["recurrent"])
    assert ww["fixpoint"] >= 48, ww
    assert agg["other"] >= 45, agg
    assert rec["fixpoint"] == 0 and rec["divergent"] >= 20, rec
    for spec in SPECS.values():
        counts = self_application_counts(spec)
        assert counts["divergent"] + counts["zero"] == 50, counts


@pytest.mark.slow
def test_second_order_counts_over_three_seeds() -> None:
    # journal code: 14, 16, 14 of 20; binomial(60, 0.7) below 30 has probability < 1e-3
    spec = ParticleSpec(encoding="per_layer", weight_init="torch")
    total = sum(second_order_counts(spec, seed=s)["second_order"] for s in range(3))
    assert total >= 30, total
