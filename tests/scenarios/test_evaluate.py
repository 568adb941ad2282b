"""``neurosoup evaluate``: re-training sampled genotypes of a tiny serann/smoke-v1 run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from neurosoup.analysis.evolution import (
    Evaluation,
    developmental_noise,
    evaluation_summary,
    read_evaluation,
)
from neurosoup.scenarios.cli import main
from neurosoup.scenarios.evaluate import evaluate_run

TINY = ("--train-steps", "10", "--copies", "4")



def test_evaluate_writes_reads_and_prints(corpus_run: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "eval.h5"
    argv = ["evaluate", str(corpus_run), "--generation", "0", "--sample", "3", "--trainings",
            "2", *TINY, "--seed", "5", "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "3 of 8 distinct living genotypes × 2 trainings" in text
    assert "developmental-noise share" in text and "corr(variance, mean)" in text
    ev = read_evaluation(out)
    assert ev.meta["generation"] == 0 and ev.meta["seed"] == 5 and ev.meta["trainings"] == 2
    assert len(ev.samples) == 3 and len(ev.trainings) == 6 and len(ev.copies) == 24
    assert ev.samples["hex"].nunique() == 3  # distinct genotypes
    t = ev.trainings
    seq = np.random.SeedSequence(5).spawn(2)[1].spawn(6)
    want = [int(s.generate_state(1, dtype=np.uint64)[0]) & ((1 << 63) - 1) for s in seq]
    assert t["seed"].tolist() == want  # recorded and derived from SeedSequence(--seed)
    np.testing.assert_allclose(t["fertility"], t["accuracy"])  # λ = 1
    per = ev.copies.groupby(["sample", "training"])
    np.testing.assert_allclose(t["mutations"], per["n_mutations"].mean().to_numpy())
    np.testing.assert_allclose(t["survival"], per["alive"].mean().to_numpy())
    assert ((t["accuracy"] >= 0) & (t["accuracy"] <= 1)).all()
    summary = evaluation_summary(out)
    assert list(summary["id"]) == list(ev.samples["id"])
    assert (summary["fertility_sd"] > 0).all()  # two inits of one genotype differ
    # an evaluation is not a run: the run commands say so in one line
    capsys.readouterr()
    assert main(["analyse", str(out)]) == 2
    err = capsys.readouterr().err
    assert "is a `neurosoup evaluate` file, not a run" in err and err.count("\n") == 1
    # an existing --out is kept unless --overwrite
    assert main(argv) == 2 and "--overwrite" in capsys.readouterr().err
    assert main([*argv, "--overwrite"]) == 0


def test_evaluate_is_deterministic_and_seeded(corpus_run: Path) -> None:
    def go(seed: int) -> dict:
        return evaluate_run(corpus_run, 0, 1, 2, copies=2, seed=seed, train_steps=5)

    a, b, c = go(1), go(1), go(2)
    for name in ("samples", "trainings", "copies"):
        for col, values in a[name].items():
            np.testing.assert_array_equal(values, b[name][col])
    assert set(a["trainings"]["seed"]).isdisjoint(c["trainings"]["seed"])


def test_too_large_a_sample_takes_every_genotype(corpus_run: Path) -> None:
    out = evaluate_run(corpus_run, 0, 50, 2, copies=1, train_steps=1)
    assert out["meta"]["n_sampled"] == 8 and out["meta"]["sample"] == 50
    assert len(set(out["samples"]["id"])) == 8


def _evaluation(values: dict[int, list[float]], recorded: list[float]) -> Evaluation:
    rows = [(k, r, v) for k, vs in values.items() for r, v in enumerate(vs)]
    t = pd.DataFrame(rows, columns=["sample", "training", "fertility"])
    for m in ("accuracy", "mutations", "survival"):
        t[m] = t["fertility"]
    samples = pd.DataFrame({"sample": list(values), "id": list(values),
                            "n_carriers": 1, "recorded_fertility": recorded})  # fmt: skip
    return Evaluation({}, samples, t, pd.DataFrame())


def test_developmental_noise_decomposes_the_sums_of_squares() -> None:
    ev = _evaluation({0: [0.1, 0.3], 1: [0.5, 0.5], 2: [0.8, 1.0]}, [0.2, 0.6, 0.9])
    noise = developmental_noise(ev).loc["fertility"]
    x = np.array([0.1, 0.3, 0.5, 0.5, 0.8, 1.0])
    means = np.array([0.2, 0.2, 0.5, 0.5, 0.9, 0.9])
    ss_total, ss_within = ((x - x.mean()) ** 2).sum(), ((x - means) ** 2).sum()
    assert noise["ss_total"] == pytest.approx(ss_total)
    assert noise["share"] == pytest.approx(ss_within / ss_total)
    assert noise["within_var"] == pytest.approx(np.mean([0.02, 0.0, 0.02]))
    var = np.array([0.02, 0.0, 0.02])
    assert noise["corr_var_fitness"] == pytest.approx(np.corrcoef(var, [0.2, 0.5, 0.9])[0, 1])
    assert noise["corr_recorded"] == pytest.approx(np.corrcoef([0.2, 0.6, 0.9],
                                                               [0.2, 0.5, 0.9])[0, 1])  # fmt: skip
    # identical trainings: no developmental noise; two genotypes: no correlation
    flat = developmental_noise(_evaluation({0: [0.2, 0.2], 1: [0.6, 0.6]}, [0.2, 0.6]))
    assert flat.loc["fertility", "share"] == 0.0
    assert np.isnan(flat.loc["fertility", "corr_var_fitness"])


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--generation", "9"), "generation 9 is not in"),
        (("--generation", "0", "--sample", "0"), "--sample must be >= 1"),
        (("--generation", "0", "--trainings", "1"), "--trainings must be >= 2"),
        (("--generation", "0", "--pairs", "3:3"), "site pair 3:3 is not two different sites"),
        (("--generation", "0", "--pairs", "3:100"), "site pair 3:100 is not two different"),
        (("--generation", "0", "--pairs", "3-4"), "'3-4' is not a site pair; write A:B"),
        (("--generation", "0", "--top-k", "3"), "fewer than two sites changed frequency"),
        (("--generation", "0", "--top-k", "1"), "--top-k must be an int >= 2"),
        (("--generation", "0", "--pairs", "1:2", "--background", "9999"),
         "--background 9999 is not a living individual"),
    ],
)
def test_bad_arguments_are_one_line_errors(corpus_run, tmp_path, capsys, args, needle) -> None:
    out = tmp_path / "e.h5"
    assert main(["evaluate", str(corpus_run), *args, *TINY, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and needle in err and err.count("\n") == 1
    assert not out.exists()


def test_not_an_evolution_file_is_a_one_line_error(tmp_path: Path, capsys) -> None:
    soup = tmp_path / "soup.h5"
    assert main(["run", "soup/journal-v1", "--steps", "1", "--set", "n_particles=4", "--set",
                 "train_steps=1", "--out", str(soup), "--quiet"]) == 0  # fmt: skip
    capsys.readouterr()
    text = tmp_path / "notes.h5"
    text.write_text("not a run")
    for path, needle in ((soup, "is a soup run; evaluate needs an evolution run"),
                         (text, "not an HDF5 file")):  # fmt: skip
        assert main(["evaluate", str(path), "--generation", "0", "--out",
                     str(tmp_path / "e.h5")]) == 2  # fmt: skip
        err = capsys.readouterr().err
        assert err.startswith("error: ") and needle in err and err.count("\n") == 1
    with pytest.raises(Exception, match="not a `neurosoup evaluate` file"):
        read_evaluation(soup)


# ---- epistasis -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def evolved_run(tmp_path_factory) -> Path:
    """Two generations of serann/smoke-v1 from the ancestor (copy errors at 300 steps)."""
    from neurosoup.chemistry.recorder import record
    from neurosoup.scenarios import make

    path = tmp_path_factory.mktemp("evaluate") / "evolved.h5"
    record(make("serann/smoke-v1", seed=0, steps=1), path, progress=False)
    return path


def test_epistasis_mutants_are_the_background_with_the_named_sites_flipped(
    corpus_run: Path, tmp_path: Path, capsys
) -> None:
    from neurosoup.analysis import open_run
    from neurosoup.analysis.epistasis import epistasis
    from neurosoup.analysis.evolution import population
    from neurosoup.particles.serann.genotype import from_hex
    from neurosoup.scenarios.evaluate import _viable

    with open_run(corpus_run) as run:
        pop = population(run)
        config_dict = run.config
    ids = pop.frame["id"].to_numpy()
    out = tmp_path / "epi.h5"
    argv = ["evaluate", str(corpus_run), "--generation", "0", "--sample", "0", "--trainings",
            "2", *TINY, "--pairs", "40:3", "3:77", "--background", str(ids[2]), "--seed", "4",
            "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert f"epistasis on W = V·F, background id {ids[2]}" in text and "2 pairs:" in text
    assert "epistasis on the mutation rate (mutations per copy)" in text
    ev = read_evaluation(out)
    assert len(ev.samples) == 0 and len(ev.trainings) == 0
    assert ev.meta["epistasis"]["pairs"] == [[3, 40], [3, 77]]
    m = ev.mutants
    sites = list(zip(m["site_a"], m["site_b"], strict=True))
    assert sites == [(-1, -1), (3, -1), (40, -1), (77, -1), (3, 40), (3, 77)]
    base = pop.bits[2]
    bits = from_hex(list(m["hex"])).numpy()[:, :100]
    for row, (a, b) in zip(bits, sites, strict=True):
        flipped = sorted(np.flatnonzero(row != base).tolist())
        assert flipped == sorted(s for s in (a, b) if s >= 0)
    from neurosoup.chemistry.evolution import EvolutionConfig

    alive = _viable(EvolutionConfig.from_dict(config_dict), bits)
    np.testing.assert_array_equal(m["alive"].to_numpy(), alive)
    t = ev.mutant_trainings
    assert sorted(set(t["mutant"])) == list(np.flatnonzero(alive))  # the dead are not trained
    assert (t.groupby("mutant").size() == 2).all()
    seq = np.random.SeedSequence(4).spawn(3)[2].spawn(len(m) * 2)
    want = [int(s.generate_state(1, dtype=np.uint64)[0]) & ((1 << 63) - 1) for s in seq]
    assert t["seed"].tolist() == [want[i * 2 + r] for i in t["mutant"].unique() for r in (0, 1)]
    pairs = epistasis(out)
    assert list(zip(pairs["site_a"], pairs["site_b"], strict=True)) == [(3, 40), (3, 77)]
    w = t.groupby("mutant")["fertility"].mean().reindex(m["mutant"], fill_value=0.0).to_numpy()
    ws = w[[0, 1, 2, 4]]  # background, 3, 40, 3+40
    eps = np.log(ws[3] * ws[0] / (ws[1] * ws[2])) if (ws > 0).all() else np.nan
    assert pairs["epsilon"].iloc[0] == pytest.approx(eps, nan_ok=True)


def test_epistasis_top_k_pairs_the_viable_sites_that_moved_most(evolved_run: Path) -> None:
    from neurosoup.analysis import open_run
    from neurosoup.analysis.epistasis import top_sites
    from neurosoup.analysis.evolution import allele_frequencies, population
    from neurosoup.chemistry.evolution import EvolutionConfig
    from neurosoup.scenarios.evaluate import _viable

    with open_run(evolved_run) as run:
        pop = population(run)
        config = EvolutionConfig.from_dict(run.config)
    a = evaluate_run(evolved_run, 1, 0, 2, copies=1, seed=3, train_steps=2, top_k=3)
    b = evaluate_run(evolved_run, 1, 0, 2, copies=1, seed=3, train_steps=2, top_k=3)
    rows = pop.rows_of(1)
    living = rows[pop.frame["alive"].to_numpy()[rows]]
    _, counts = np.unique(pop.bits[living], axis=0, return_counts=True)
    background = a["meta"]["epistasis"]["background_id"]
    base = pop.bits[pop.frame["id"].to_numpy() == background][0]
    assert (pop.bits[living] == base).all(1).sum() == counts.max()  # the commonest genotype
    flips = np.repeat(base[None, :], 100, 0)
    flips[np.arange(100), np.arange(100)] ^= 1
    keep = _viable(config, flips)
    want = top_sites(allele_frequencies(pop), 3, keep=keep)
    assert a["meta"]["epistasis"]["pairs"] == [[x, y] for i, x in enumerate(want)
                                               for y in want[i + 1 :]]  # fmt: skip
    singles = a["mutants"]["site_b"] == -1
    assert a["mutants"]["alive"][singles].all()  # every single mutant lives
    for name in ("mutants", "mutant_trainings"):  # deterministic
        for col, values in a[name].items():
            np.testing.assert_array_equal(values, b[name][col])


def test_progress_bars_count_the_trained_nets(corpus_run: Path, monkeypatch, capsys) -> None:
    import neurosoup.chemistry.evolution_jobs as evolution

    monkeypatch.setattr(evolution, "on_terminal", lambda: True)
    out = evaluate_run(corpus_run, 0, 2, 2, copies=1, train_steps=1, pairs=["1:2"],
                       progress=True)  # fmt: skip
    err = capsys.readouterr().err
    n_mutants = int(out["mutants"]["alive"].sum()) * 2
    assert "trainings: 100%" in err and " 4/4 " in err
    assert "mutants: 100%" in err and f" {n_mutants}/{n_mutants} " in err
    quiet = evaluate_run(corpus_run, 0, 2, 2, copies=1, train_steps=1, pairs=["1:2"])
    assert "trainings" not in capsys.readouterr().err  # no bar unless asked
    np.testing.assert_array_equal(quiet["trainings"]["accuracy"], out["trainings"]["accuracy"])
