"""SeRANN fitness as the paper defines it: V (viable share of an adult's copies), W = V·F.

Answers known by construction: injected copiers whose copies all live (V = 1) or all die
(V = 0), and a noisy copier whose V, W and site errors are recomputed here from the copies.
"""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from neurosoup.analysis import open_run
from neurosoup.analysis.evolution import adaptation, dfe, mutations, population
from neurosoup.chemistry import evolution_jobs
from neurosoup.chemistry.evolution import Evolution, EvolutionConfig
from neurosoup.chemistry.recorder import record
from neurosoup.particles.runformat import evolution as vocab
from tests.chemistry import serann_fakes


def _table(path) -> dict[str, np.ndarray]:
    with h5py.File(path, "r") as f:
        return {c[0]: f[f"{vocab.POPULATION}/{c[0]}"][()] for c in vocab.POPULATION_COLUMNS}


def test_all_copies_viable_gives_v_one_and_w_equal_f(monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(evolution_jobs, "run_job", serann_fakes.perfect)
    path = tmp_path / "p.h5"
    record(Evolution(EvolutionConfig(population=8, founders="corpus", steps=2), seed=3), path,
           progress=False)  # fmt: skip
    t = _table(path)
    assert t["alive"].all()
    np.testing.assert_array_equal(t["viability"], 1.0)
    np.testing.assert_array_equal(t["fitness"], t["fertility"])
    assert (t["site_errors"] == 0).all() and t["site_errors"].shape == (len(t["id"]), 100)
    with h5py.File(path, "r") as f:
        assert (f["observables/mean_viability/value"][:] == 1.0).all()
        assert f[vocab.POPULATION].attrs[vocab.VERSION_ATTR] == vocab.EVOLUTION_VERSION


def test_all_copies_dead_gives_v_zero_and_w_zero(monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(evolution_jobs, "run_job", serann_fakes.lethal)
    path = tmp_path / "x.h5"
    model = Evolution(EvolutionConfig(population=4, steps=3), seed=0)
    record(model, path, progress=False)
    t = _table(path)
    first = t["generation"] == 0
    assert t["alive"][first].all() and (t["fertility"][first] > 0).all()
    np.testing.assert_array_equal(t["viability"][first], 0.0)
    np.testing.assert_array_equal(t["fitness"][first], 0.0)
    # every copy is the all-zero genotype: each adult got every site of its own 1s wrong
    bits = np.unpackbits(t["genotype"], axis=1)[:, :100]
    p = EvolutionConfig().first_copies
    np.testing.assert_array_equal(t["site_errors"][first], bits[first].astype(np.int64) * p)
    with h5py.File(path, "r") as f:
        assert f["observables/mean_fitness/value"][0] == 0.0
        assert f["observables/mean_viability/value"][0] == 0.0


def test_w_is_v_times_f_row_by_row_and_v_is_the_viable_share(monkeypatch, tmp_path) -> None:
    made: dict[int, np.ndarray] = {}
    noisy = serann_fakes.noisy(0.03)

    def spy(job):
        acc, err, copies = noisy(job)
        for s, c in zip(job.seeds, copies, strict=True):
            made[s] = c
        return acc, err, copies

    monkeypatch.setattr(evolution_jobs, "run_job", spy)
    path = tmp_path / "n.h5"
    record(Evolution(EvolutionConfig(population=24, steps=2), seed=1), path, progress=False)
    t = _table(path)
    alive = t["alive"]
    np.testing.assert_allclose(t["fitness"][alive], t["viability"][alive] * t["fertility"][alive])
    assert (t["fitness"][~alive] == 0).all() and np.isnan(t["viability"][~alive]).all()
    assert 0 < np.nanmean(t["viability"]) < 1  # a 3 % copier kills some copies, not all
    # V and site_errors recomputed from the copies the copier made
    cfg = EvolutionConfig()
    from neurosoup.particles.serann import default_ribosome
    from neurosoup.particles.serann.ir import Death

    bits = np.unpackbits(t["genotype"], axis=1)[:, :100]
    ribo = default_ribosome()
    for r in np.flatnonzero(alive)[:6]:
        copies = made[evolution_jobs.member_seed(1, int(t["id"][r]))]
        texts = ribo.decode(__import__("torch").from_numpy(copies))
        v = np.mean([not isinstance(cfg.express(x), Death) for x in texts])
        assert t["viability"][r] == pytest.approx(v)
        np.testing.assert_array_equal(t["site_errors"][r], (copies != bits[r]).sum(0))
    with h5py.File(path, "r") as f:
        w0 = f["observables/mean_fitness/value"][0]
    assert w0 == pytest.approx(t["fitness"][t["generation"] == 0].mean())


def test_analyses_use_w_and_fertility_on_request(monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(evolution_jobs, "run_job", serann_fakes.noisy(0.03))
    path = tmp_path / "a.h5"
    record(Evolution(EvolutionConfig(population=24, steps=3), seed=2), path, progress=False)
    t = _table(path)
    with open_run(path) as run:
        w = population(run).frame
        np.testing.assert_allclose(np.sort(w["fitness"]), np.sort(t["fitness"]))
        paper, fert = adaptation(run), adaptation(run, fitness="fertility")
        g0 = t["generation"] == 0
        assert paper.loc[0, "mean_fitness"] == pytest.approx(t["fitness"][g0].mean())
        f0 = np.where(t["alive"][g0], t["fertility"][g0], 0).mean()
        assert fert.loc[0, "mean_fitness"] == pytest.approx(f0)
        assert paper.loc[0, "mean_viability"] == pytest.approx(np.nanmean(t["viability"][g0]))
        assert "W = V·F" in paper.attrs["fitness"] and "fertility" in fert.attrs["fitness"]
        m = mutations(run)
        assert ((m["class"] == "lethal") == (m["w_child"] == 0)).all()
        assert "W = V·F" in " ".join(dfe(run).attrs["notes"])
        assert "fertility" in " ".join(dfe(run, fitness="fertility").attrs["notes"])


def test_old_files_say_w_is_fertility() -> None:
    from neurosoup.analysis.evolution import population_from_columns

    n = 4
    cols = {c[0]: np.zeros(n, c[1]) for c in vocab.POPULATION_COLUMNS if len(c) == 2}
    cols.update(id=np.arange(n), parent_id=np.full(n, -1), alive=np.ones(n, bool),
                fertility=np.full(n, 0.9), genotype=np.zeros((n, 13), np.uint8))  # fmt: skip
    for new in vocab.FITNESS_COLUMNS:
        cols.pop(new, None)
    pop = population_from_columns(cols)
    assert "fertility" in pop.fitness_label and "predates" in pop.fitness_label
    np.testing.assert_array_equal(pop.frame["fitness"], 0.9)


def test_fitness_flag_on_the_cli(monkeypatch, tmp_path, capsys) -> None:
    from neurosoup.scenarios.cli import main

    monkeypatch.setattr(evolution_jobs, "run_job", serann_fakes.noisy(0.03))
    path = tmp_path / "c.h5"
    record(Evolution(EvolutionConfig(population=12, steps=2), seed=5), path, progress=False)
    capsys.readouterr()
    assert main(["analyse", str(path), "dfe", "--fitness", "fertilty"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error:") and "Did you mean `fertility`" in err
    assert main(["analyse", str(path), "adaptation", "--fitness", "fertility"]) == 0
    assert "W = fertility (0 if dead; --fitness fertility)" in capsys.readouterr().out
    assert main(["plot", str(path), "--out", str(tmp_path / "fig"), "--fitness", "fertility"]) == 0
    assert (tmp_path / "fig" / "adaptation.png").exists()
