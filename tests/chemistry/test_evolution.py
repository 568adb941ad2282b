"""SeRANN evolution: Wright–Fisher, replication, death, the run file, determinism, resume."""

from __future__ import annotations

import sys

import h5py
import numpy as np
import pytest
from scipy import stats

from neurosoup.chemistry import evolution_jobs as evolution
from neurosoup.chemistry.evolution import Evolution, EvolutionConfig, wright_fisher
from neurosoup.chemistry.recorder import record, resume
from neurosoup.particles import ConfigError
from neurosoup.particles.serann import ancestor, default_ribosome, interpret
from neurosoup.particles.serann.genotype import ANCESTOR_HEX
from neurosoup.particles.serann.ir import Death
from neurosoup.scenarios.cli import main
from tests.chemistry import serann_fakes
from tests.scenarios.helpers import assert_same_file, kill_after_checkpoint

COLUMNS = {"generation": np.int64, "id": np.int64, "parent_id": np.int64,
           "genotype": np.uint8, "alpha": np.float64, "n_params": np.int64, "arch": np.int64,
           "alive": np.bool_, "fertility": np.float64, "accuracy": np.float64,
           "copy_error": np.float64, "n_offspring": np.int64, "n_mutations": np.int64}  # fmt: skip


def _table(path) -> dict[str, np.ndarray]:
    with h5py.File(path, "r") as f:
        return {k: f[f"population/{k}"][()] for k in COLUMNS}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_wright_fisher_counts_follow_fertility(seed: int) -> None:
    rng = np.random.default_rng(seed)
    fert = np.array([0.9, 0.5, 0.5, 0.2, 0.0, 0.1, 0.0, 0.3])
    counts = np.stack([wright_fisher(rng, fert) for _ in range(3000)])
    assert (counts.sum(axis=1) == 8).all() and (counts[:, fert == 0] == 0).all()
    live = fert > 0
    expected = 3000 * 8 * fert[live] / fert.sum()
    chi2 = stats.chisquare(counts[:, live].sum(axis=0), expected)
    assert chi2.pvalue > 1e-3
    assert not wright_fisher(rng, np.zeros(5)).any()


def test_a_perfect_copier_makes_no_mutations(monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(evolution, "run_job", serann_fakes.perfect)
    model = Evolution(EvolutionConfig(population=16, founders="corpus", steps=4), seed=2)
    record(model, tmp_path / "p.h5", progress=False)
    t = _table(tmp_path / "p.h5")
    assert model.steps == 4 and (t["n_mutations"] == 0).all()
    with h5py.File(tmp_path / "p.h5", "r") as f:
        assert (f["observables/mutation_rate/value"][:] == 0).all()
    first = t["generation"] == 0
    assert t["alive"][first].all() and len(set(map(bytes, t["genotype"][first]))) > 8


def test_a_noisy_copier_gives_its_rate_and_dead_keep_their_slot(monkeypatch, tmp_path) -> None:
    p = 0.03
    monkeypatch.setattr(evolution, "run_job", serann_fakes.noisy(p))
    n, gens = 64, 3
    path = tmp_path / "n.h5"
    record(Evolution(EvolutionConfig(population=n, steps=gens), seed=1), path, progress=False)
    t = _table(path)
    assert np.bincount(t["generation"]).tolist() == [n] * (gens + 1)  # every slot kept
    kids = t["generation"] > 0
    rate = t["n_mutations"][kids].mean()
    sd = np.sqrt(100 * p * (1 - p) / kids.sum())
    assert abs(rate - 100 * p) < 5 * sd + 0.1, rate
    # n_mutations is the Hamming distance to the parent's genotype in the file
    row = {i: r for r, i in enumerate(t["id"])}
    bits = np.unpackbits(t["genotype"], axis=1)[:, :100]
    for r in np.flatnonzero(kids):
        parent = row[t["parent_id"][r]]
        assert (bits[r] != bits[parent]).sum() == t["n_mutations"][r]
        assert t["generation"][parent] == t["generation"][r] - 1
    assert (t["parent_id"][~kids] == -1).all() and (t["n_mutations"][~kids] == 0).all()
    # the dead: fertility 0, no offspring, never a parent; the living: F = accuracy
    dead = ~t["alive"]
    assert dead.sum() > 0, "a 3 % copier should make some dead programs"
    assert (t["fertility"][dead] == 0).all() and (t["n_offspring"][dead] == 0).all()
    assert np.isnan(t["accuracy"][dead]).all() and (t["arch"][dead] == -1).all()
    assert not set(t["id"][dead]) & set(t["parent_id"])
    np.testing.assert_allclose(t["fertility"][~dead], t["accuracy"][~dead])
    last = t["generation"] < gens
    children = np.bincount(np.searchsorted(t["id"], t["parent_id"][kids]), minlength=len(t["id"]))
    assert (children[last] == t["n_offspring"][last]).all()
    with h5py.File(path, "r") as f:
        archs = f["architectures/arch"][:]
        assert sorted(archs) == list(range(len(archs))) and set(t["arch"][~dead]) <= set(archs)
        text = f["architectures/program"].asstr()[0]
        assert not isinstance(interpret(text), Death)
        for name, dtype in COLUMNS.items():
            assert f[f"population/{name}"].dtype == dtype
        assert f["population/genotype"].shape == (n * (gens + 1), 13)


def test_extinction_ends_the_run_with_one_line(monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(evolution, "run_job", serann_fakes.lethal)
    model = Evolution(EvolutionConfig(population=4, steps=5), seed=0)
    record(model, tmp_path / "x.h5", progress=False)
    assert model.steps == 1 and not model.running
    assert model.summary() == ("population extinct at generation 1: no individual has "
                               "fertility > 0 (0 of 4 programs alive)")  # fmt: skip
    with pytest.raises(ConfigError, match="extinct at generation 1"):
        model.step()
    assert model.steps == 1
    again = resume(tmp_path / "x.h5", progress=False)  # resuming an extinct run does nothing
    assert again.steps == 1 and again.stop_reason == model.stop_reason


def test_real_training_is_deterministic_and_resumes_exactly(tmp_path) -> None:
    cfg = EvolutionConfig(population=4, steps=3, train_steps=300, lr=3e-3, batch=64,
                          first_copies=4)
    whole = Evolution(cfg, seed=7)
    record(whole, tmp_path / "a.h5", progress=False)
    assert whole.steps >= 2, whole.summary()  # may go extinct later: resume must match anyway
    record(Evolution(cfg, seed=7), tmp_path / "b.h5", progress=False)
    assert_same_file(tmp_path / "a.h5", tmp_path / "b.h5")
    record(Evolution(cfg, seed=7), tmp_path / "c.h5", 1, progress=False)
    again = resume(tmp_path / "c.h5", progress=False)
    assert again.steps == whole.steps
    assert_same_file(tmp_path / "a.h5", tmp_path / "c.h5")
    t = _table(tmp_path / "a.h5")
    assert t["alive"][t["generation"] == 0].all()
    assert (t["accuracy"][t["generation"] == 0] > 0.5).all()  # they learnt the digits


CHILD = """
import sys
from neurosoup.chemistry import evolution_jobs as evolution
from tests.chemistry import serann_fakes
evolution.run_job = serann_fakes.noisy(0.02, sleep=0.02)
from neurosoup.chemistry.evolution import Evolution, EvolutionConfig
from neurosoup.chemistry.recorder import record
record(Evolution(EvolutionConfig(population=6, steps=10_000), seed=4), sys.argv[1],
       progress=False)
"""




def test_sigkill_then_resume_equals_uninterrupted(monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(evolution, "run_job", serann_fakes.noisy(0.02, sleep=0.02))
    path = tmp_path / "k.h5"
    step = kill_after_checkpoint([sys.executable, "-c", CHILD, str(path)], path, 4)
    end = step + 3
    resumed = resume(path, end - step, progress=False)
    assert resumed.steps == end
    record(Evolution(EvolutionConfig(population=6, steps=10_000), seed=4), tmp_path / "w.h5",
           end, progress=False)  # fmt: skip
    assert_same_file(path, tmp_path / "w.h5")


def test_smoke_scenario_end_to_end(tmp_path, capsys) -> None:
    out = tmp_path / "smoke.h5"
    assert main(["run", "serann/smoke-v1", "--out", str(out), "--quiet"]) == 0
    text = capsys.readouterr().out
    assert "mean_fitness (gen 0)" in text and "mutation_rate (gen 0)" in text
    with h5py.File(out, "r") as f:
        assert f.attrs["kind"] == "evolution"
        steps = f["observables/mean_fitness/step"][:]
    assert steps[0] == 0 and len(steps) >= 2


@pytest.mark.parametrize(("changes", "message"), [
    ({"population": 1}, "population must be an int >= 2"),
    ({"train_steps": -5}, "train_steps must be an int >= 0"),
    ({"fertility_exponent": -1.0}, "fertility_exponent must be a number >= 0"),
    ({"ancestor_hex": "abc"}, "ancestor_hex must be 26 hex digits"),
    ({"ancestor_hex": "00" * 13}, "decodes to a dead program"),
    ({"founders": "ancestors"}, "Did you mean `ancestor`"),
    ({"populaton": 8}, "Did you mean `population`"),
])
def test_bad_input_is_a_clear_error(changes, message) -> None:
    with pytest.raises(ConfigError, match=message):
        EvolutionConfig().replace(**changes)


def test_the_shipped_ancestor_decodes_to_a_valid_program() -> None:
    ir = interpret(default_ribosome().decode(ancestor())[0])
    assert not isinstance(ir, Death) and 0.3 <= ir.alpha <= 0.5
    assert EvolutionConfig().ancestor_ir() == ir
    assert EvolutionConfig().ancestor_hex == ANCESTOR_HEX
    cfg = EvolutionConfig.from_dict(EvolutionConfig().to_dict())
    assert cfg == EvolutionConfig()
