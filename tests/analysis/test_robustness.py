from __future__ import annotations

import numpy as np
import pytest
import torch

from neurosoup.analysis import open_run
from neurosoup.analysis.robustness import (
    add_noise,
    clone_movement,
    linspace_clones,
    robustness,
    robustness_summary,
    run_robustness,
    time_to_vergence,
)
from neurosoup.particles import ParticleSpec, self_apply

SPEC = ParticleSpec()
EPS = 1e-5


def _loop(w0: torch.Tensor, cap: int) -> tuple[int, int, bool]:
    """The robustness loop of particles.md §5, one clone at a time."""
    w = w0[None]
    t_verge = t_fix = 0

    def collapsed(x):
        return not torch.isfinite(x).all() or bool((x.abs() <= EPS).all())

    if collapsed(w):
        return 0, 0, False
    for _ in range(cap):
        w = self_apply(SPEC, w)
        t_verge += 1
        if collapsed(w):
            return t_verge, t_fix, False
        if bool(((self_apply(SPEC, w) - w).abs() <= EPS).all()):
            t_fix += 1
    return t_verge, t_fix, True


def test_batched_loop_equals_one_clone_at_a_time(trained_fixpoints):
    gen = torch.Generator().manual_seed(3)
    parents = torch.cat([trained_fixpoints[:2], SPEC.perfect_fixpoint(1)])
    w0 = add_noise(parents.repeat(8, 1), torch.logspace(0, -9, 24).repeat_interleave(1), gen)
    tv, tf, cens = time_to_vergence(SPEC, w0, cap=60, epsilon=EPS)
    ref = [_loop(w, 60) for w in w0]
    assert tv.tolist() == [r[0] for r in ref]
    assert tf.tolist() == [r[1] for r in ref]
    assert cens.tolist() == [r[2] for r in ref]
    assert tf.sum() > 0  # the comparison covers fixpoint steps


def test_collapse_step_counts_as_vergence_only():
    w = SPEC.perfect_fixpoint(3)
    w[0] = 0.0  # zero at the start: nothing happens
    w[1, 12:] = 0.0  # W3 = 0: f ≡ 0, collapses to zero at step 1
    w[1, 1] = 0.5
    tv, tf, cens = time_to_vergence(SPEC, w, cap=50)
    assert tv.tolist() == [0, 1, 50]
    assert tf.tolist() == [0, 0, 50]  # the exact perfect fixpoint is censored at the cap
    assert cens.tolist() == [False, False, True]


def test_perfect_fixpoint_matches_the_anchor_table():
    table = robustness(SPEC, SPEC.perfect_fixpoint(1), clones=100, seed=0)
    summary = robustness_summary(table)
    anchor_verge = [4.9, 6.1, 7.7, 9.0, 10.9, 12.7, 14.2, 15.7, 21.7, 25.1]
    anchor_fix = [0, 0, 0, 0, 0, 0.04, 1.5, 3.4, 9.1, 12.4]
    np.testing.assert_allclose(summary["t_verge"], anchor_verge, atol=1.0)
    np.testing.assert_allclose(summary["t_fix"], anchor_fix, atol=1.0)
    assert not table["censored"].any()


def test_noise_models_scale():
    gen = torch.Generator().manual_seed(0)
    w = torch.zeros(2000, 14)
    for model in ("uniform_sign", "gaussian", "scaled"):
        d = add_noise(w, 1e-3, gen, model)
        assert d.abs().max() < (6e-3 if model == "gaussian" else 1e-3)
        assert d.abs().mean() > 1e-4
    assert add_noise(w, 1e-3, gen, "uniform_sign").mean().abs() < 1e-5


def test_run_robustness_has_both_sources(fixpoint_run):
    with open_run(fixpoint_run) as run:
        table = run_robustness(run, clones=3, cap=200)
    assert set(table["source"]) == {"soup", "perfect"}
    assert len(table) == (6 + 1) * 10 * 3


def test_clones_of_a_fixpoint_and_linspace(trained_fixpoints):
    table = clone_movement(SPEC, trained_fixpoints[:2], sigma=1e-2, clones=4, steps=200)
    assert len(table) == 8
    assert set(table["direction"]) <= {"approaching", "distancing", "stationary"}
    assert (table["mae_pre"] > 0).all() and (table["mae_pre"] <= 1e-2).all()
    np.testing.assert_allclose(table["rel"], (table["mae_pre"] - table["mae_post"]) / 1e-2)
    lin = linspace_clones(SPEC, trained_fixpoints[0], trained_fixpoints[1], n=10, steps=100)
    assert lin["mae_pre"].iloc[0] == 0.0
    assert lin["mae_pre"].is_monotonic_increasing
    assert lin["mae_pre_norm"].min() == 0.0 and lin["mae_pre_norm"].max() == pytest.approx(1.0)
