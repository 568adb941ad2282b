"""The mutation-model controls: ``shuffled`` and ``exogenous`` (issue 20 §4).

Chi-square tests at pinned seeds: the shuffled control keeps every copy's number of wrong bits
and puts them at uniform sites; the exogenous control's flips per copy follow Poisson(U).
Determinism and resume ≡ uninterrupted for both presets (injected copier: seconds).
"""

from __future__ import annotations

import h5py
import numpy as np
import pytest
from scipy import stats

from neurosoup.chemistry import evolution_jobs
from neurosoup.chemistry.evolution import Evolution, EvolutionConfig
from neurosoup.chemistry.evolution_replication import (
    apply_mutation_model,
    exogenous_copies,
    mutation_rng,
    shuffle_errors,
)
from neurosoup.chemistry.recorder import record, resume
from neurosoup.particles import ConfigError
from neurosoup.scenarios.cli import main
from tests.chemistry import serann_fakes
from tests.scenarios.helpers import assert_same_file


def _biased_copies(rng: np.random.Generator, parents: np.ndarray, p: int) -> np.ndarray:
    """A directed copier: errors only at sites 0..9 (each with probability 0.3)."""
    flips = np.zeros((parents.shape[0], p, 100), np.uint8)
    flips[..., :10] = rng.random((parents.shape[0], p, 10)) < 0.3
    return parents[:, None, :] ^ flips


@pytest.mark.parametrize("seed", [0, 1])
def test_shuffled_keeps_the_count_and_spreads_the_sites_uniformly(seed: int) -> None:
    rng = np.random.default_rng(seed)
    parents = rng.integers(0, 2, (40, 100), dtype=np.uint8)
    learned = _biased_copies(rng, parents, 50)
    out = shuffle_errors(np.random.default_rng(100 + seed), parents, learned)
    wrong_in, wrong_out = learned != parents[:, None], out != parents[:, None]
    np.testing.assert_array_equal(wrong_out.sum(-1), wrong_in.sum(-1))  # copy by copy
    per_site = wrong_out.sum((0, 1))
    assert per_site[10:].sum() > 0  # the directed sites are gone
    chi2 = stats.chisquare(per_site)  # uniform over the 100 sites
    assert chi2.pvalue > 1e-3, chi2


@pytest.mark.parametrize(("seed", "rate"), [(0, 2.0), (1, 0.5), (2, 6.0)])
def test_exogenous_flips_per_copy_follow_poisson(seed: int, rate: float) -> None:
    rng = np.random.default_rng(seed)
    parents = rng.integers(0, 2, (50, 100), dtype=np.uint8)
    out = exogenous_copies(np.random.default_rng(200 + seed), parents, 80, rate)
    k = (out != parents[:, None]).sum(-1).ravel()
    top = int(stats.poisson.ppf(0.995, rate))
    observed = np.bincount(np.minimum(k, top), minlength=top + 1)
    expected = stats.poisson.pmf(np.arange(top + 1), rate)
    expected[-1] = stats.poisson.sf(top - 1, rate)
    chi2 = stats.chisquare(observed, expected * len(k))
    assert chi2.pvalue > 1e-3, chi2
    per_site = (out != parents[:, None]).sum((0, 1))
    assert stats.chisquare(per_site).pvalue > 1e-3


def test_endogenous_is_untouched_and_the_dead_are_skipped() -> None:
    rng = np.random.default_rng(3)
    parents = rng.integers(0, 2, (6, 100), dtype=np.uint8)
    learned = _biased_copies(rng, parents, 7)
    alive = np.array([1, 0, 1, 1, 0, 1], bool)
    same = apply_mutation_model("endogenous", mutation_rng(1, 0), parents, learned, alive, 2.0)
    assert same is learned
    out = apply_mutation_model("exogenous", mutation_rng(1, 0), parents, learned, alive, 2.0)
    np.testing.assert_array_equal(out[~alive], learned[~alive])
    again = apply_mutation_model("exogenous", mutation_rng(1, 0), parents, learned, alive, 2.0)
    np.testing.assert_array_equal(out, again)  # one stream per (seed, generation)


@pytest.mark.parametrize("model", ["shuffled", "exogenous"])
def test_controls_are_deterministic_and_resume_exactly(monkeypatch, tmp_path, model) -> None:
    monkeypatch.setattr(evolution_jobs, "run_job", serann_fakes.noisy(0.02))
    cfg = EvolutionConfig(population=12, steps=4, mutation_model=model)
    record(Evolution(cfg, seed=6), tmp_path / "a.h5", progress=False)
    record(Evolution(cfg, seed=6), tmp_path / "b.h5", progress=False)
    assert_same_file(tmp_path / "a.h5", tmp_path / "b.h5")
    record(Evolution(cfg, seed=6), tmp_path / "c.h5", 2, progress=False)
    again = resume(tmp_path / "c.h5", progress=False)
    assert again.steps == 4
    assert_same_file(tmp_path / "a.h5", tmp_path / "c.h5")
    with h5py.File(tmp_path / "a.h5", "r") as f:
        assert f["observables/mutation_rate/value"][0] > 0
    if model == "exogenous":  # U measured from the founders' learned copies (2 % of 100 bits)
        assert 1.0 < again.exo_rate < 3.0


def test_shuffled_run_keeps_the_learned_error_counts(monkeypatch, tmp_path) -> None:
    made: dict[int, int] = {}
    noisy = serann_fakes.noisy(0.03)

    def spy(job):
        acc, err, copies = noisy(job)
        for g, s, c in zip(job.genotypes, job.seeds, copies, strict=True):
            made[s] = int((c != g).sum())
        return acc, err, copies

    monkeypatch.setattr(evolution_jobs, "run_job", spy)
    path = tmp_path / "s.h5"
    record(Evolution(EvolutionConfig(population=10, steps=1, mutation_model="shuffled"), seed=2),
           path, progress=False)  # fmt: skip
    with h5py.File(path, "r") as f:
        ids, errors = f["population/id"][()], f["population/site_errors"][()]
        gen, alive = f["population/generation"][()], f["population/alive"][()]
    for i, e, g, a in zip(ids, errors, gen, alive, strict=True):
        if g == 0 and a:  # all of an adult's wrong bits, summed over its copies, are kept
            assert e.sum() == made[evolution_jobs.member_seed(2, int(i))]


@pytest.mark.parametrize(("changes", "message"), [
    ({"mutation_model": "shuffle"}, "Did you mean `shuffled`"),
    ({"mutation_model": "exogenus"}, "Did you mean `exogenous`"),
    ({"exogenous_rate": -1.0}, "exogenous_rate must be a number >= 0"),
])
def test_bad_control_settings_are_one_line(changes, message) -> None:
    with pytest.raises(ConfigError, match=message):
        EvolutionConfig().replace(**changes)


def test_bad_control_on_the_cli_exits_2(capsys) -> None:
    assert main(["run", "serann/smoke-v1", "--set", "mutation_model=shufled", "--steps", "1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and err.count("\n") == 1 and "shuffled" in err
