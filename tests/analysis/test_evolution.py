"""Evolution analyses: hand-built run files with known answers, and one recorded smoke run."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest

from neurosoup.analysis import evolution as ev
from neurosoup.analysis import open_run
from neurosoup.analysis.evolution_plots import muller_stack
from neurosoup.analysis.report import run_figures, write_figures
from neurosoup.particles import ConfigError, runformat
from neurosoup.particles.runformat.evolution import FITNESS_COLUMNS
from neurosoup.particles.serann.genotype import N_BITS, pack
from neurosoup.scenarios.cli import main

# one individual: (parent id or -1, derived sites, fertility, alive)
Ind = tuple[int, set[int], float, bool]


def write_evolution(path: Path, generations: list[list[Ind]], founders: str = "corpus") -> Path:
    """An evolution run file with a planted population (ids numbered in order).

    Written as a version-1 evolution table (no V, W, site errors): W is fertility there.
    """
    old = [c for c in ev.SCALAR_COLUMNS if c not in FITNESS_COLUMNS]
    cols: dict[str, list] = {c: [] for c in (*old, "genotype")}
    bits_of: dict[int, np.ndarray] = {}
    next_id = 0
    kids: dict[int, int] = {}
    for g, inds in enumerate(generations):
        for parent, sites, fert, alive in inds:
            bits = np.zeros(N_BITS, np.uint8)
            bits[list(sites)] = 1
            bits_of[next_id] = bits
            kids[parent] = kids.get(parent, 0) + 1
            nmut = int((bits != bits_of[parent]).sum()) if parent >= 0 else 0
            row = {"generation": g, "id": next_id, "parent_id": parent, "alpha": 0.3,
                   "n_params": 1000, "arch": 0 if alive else -1, "alive": alive,
                   "fertility": fert if alive else 0.0, "accuracy": fert if alive else np.nan,
                   "copy_error": 1.0, "n_offspring": 0, "n_mutations": nmut}  # fmt: skip
            for k, v in row.items():
                cols[k].append(v)
            cols["genotype"].append(pack(bits[None])[0])
            next_id += 1
    cols["n_offspring"] = [kids.get(i, 0) for i in cols["id"]]
    spec = {"scenario": "serann/test-v1", "seed": 0, "kind": "evolution",
            "config": {"population": len(generations[0]), "founders": founders}}  # fmt: skip
    with h5py.File(path, "w") as f:
        f.attrs.update(format=runformat.FORMAT, format_version=2, kind="evolution")
        f.create_dataset(runformat.SPEC, data=json.dumps(spec))
        for k, v in cols.items():
            f.create_dataset(f"population/{k}", data=np.asarray(v))
    return path


@pytest.fixture
def sweep_file(tmp_path: Path) -> Path:
    """N = 10 from one founder genotype ∅.

    Site 7 arises in id 10 (gen 1, parent 0) and sweeps: carriers 1, 5, 10 of 10 in generations
    1, 2, 3. Site 20 arises six times in generation 3, in two backgrounds ({7} from id 20 and
    {7, 30} from id 24), 3 carriers each.
    """
    g0 = [(-1, set(), 0.5, True)] * 10
    g1 = [(0, {7}, 0.9, True)] + [(i, set(), 0.5, True) for i in range(1, 10)]
    g2 = [(10, {7}, 0.9, True)] * 4 + [(10, {7, 30}, 0.9, True)] + [(11, set(), 0.5, True)] * 5
    g3 = ([(20, {7, 20}, 0.9, True)] * 3 + [(24, {7, 30, 20}, 0.9, True)] * 3
          + [(21, {7}, 0.9, True)] * 4)  # fmt: skip
    return write_evolution(tmp_path / "sweep.h5", [g0, g1, g2, g3])


def test_a_planted_sweep_gives_its_allele_frequencies_and_fixation(sweep_file: Path) -> None:
    with open_run(sweep_file) as run:
        freq = ev.allele_frequencies(run)
        assert freq[7].tolist() == [0.0, 0.1, 0.5, 1.0]
        assert freq[20].tolist() == [0.0, 0.0, 0.0, 0.6]
        assert freq[30].tolist() == [0.0, 0.0, 0.1, 0.3]
        assert (freq.drop(columns=[7, 20, 30]) == 0).all().all()
        table = ev.alleles(run, min_freq=0.2)
    assert table.index.tolist() == [7, 20, 30]
    assert table.loc[7, "fixed_at"] == 3 and table.loc[7, "first_above"] == 2
    assert table.loc[7, "n_origins"] == 1 and not table.loc[7, "soft"]
    assert table.loc[20, "n_origins"] == 6 and table.loc[20, "backgrounds"] == 2
    assert table.loc[20, "soft"] and pd.isna(table.loc[20, "fixed_at"])


def test_clones_of_a_planted_sweep_and_their_muller_shares(sweep_file: Path) -> None:
    with open_run(sweep_file) as run:
        t = ev.clones(run, threshold=0.3)
        mu = ev.muller(run, threshold=0.3)
    # clones: ∅ (gen 0), {7} (gen 1), {7,20} (gen 3, 0.3), {7,30,20} (gen 3, 0.3); {7,30} is 0.1
    assert t["genotype"].str.len().eq(26).all() and len(t) == 4
    assert t["parent"].tolist() == [-1, 0, 1, 1]
    assert t["origin_generation"].tolist() == [0, 1, 3, 3]
    assert bool(t.loc[1, "fixed"]) and t.loc[1, "lineage_peak"] == 1.0
    assert t.loc[1, "beneficial"] and t.loc[1, "mean_fitness"] == pytest.approx(0.9)
    assert mu.columns.tolist() == ["background", "clone_0", "clone_1", "clone_2", "clone_3"]
    np.testing.assert_allclose(mu.sum(axis=1), 1.0)
    np.testing.assert_allclose(mu["clone_1"], [0, 0.1, 0.5, 0.4])  # {7,30} belongs to {7}
    np.testing.assert_allclose(mu["clone_3"], [0, 0, 0, 0.3])


def test_muller_order_of_a_known_clone_tree() -> None:
    parent = {0: -1, 1: 0, 2: 0, 3: 1, 4: -1, 5: 2}
    assert ev.muller_order(parent) == [0, 1, 3, 2, 5, 4]
    assert ev.muller_layers(parent) == [-1, 0, 1, 3, 1, 2, 5, 2, 0, 4, -1]
    shares = pd.DataFrame({"background": [0.2], **{f"clone_{c}": [0.8 / 6] for c in range(6)}})
    labels, values = muller_stack(shares, parent)
    assert len(labels) == 11 and values.sum() == pytest.approx(1.0)


def test_the_muller_legend_lists_the_largest_clones_and_no_clone_is_grey() -> None:
    from neurosoup.analysis.evolution_plots import CLONE_COLORS, muller_figure

    n = 20  # more clones than the legend holds; the late winner comes last in column order
    parent = {c: (c - 1 if c else -1) for c in range(n)}
    peaks = np.linspace(0.01, 0.2, n)
    peaks[-1] = 0.9
    shares = pd.DataFrame({"background": [0.1, 0.0], **{f"clone_{c}": [peaks[c] / 10, peaks[c]]
                                                         for c in range(n)}})  # fmt: skip
    fig = muller_figure(shares, parent)
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert len(legend) == 16 and legend[0] == "background" and f"clone_{n - 1}" in legend
    assert set(legend[1:]) == {f"clone_{c}" for c in range(n - 15, n)}  # the 15 largest
    greys = [c for c in CLONE_COLORS if c[0] == c[1] == c[2]]
    assert not greys


def test_interference_needs_two_beneficial_clones_off_one_line(tmp_path: Path) -> None:
    g0 = [(-1, set(), 0.5, True)] * 10
    g1 = [(0, {1}, 0.8, True)] * 3 + [(1, {2}, 0.8, True)] * 3 + [(2, set(), 0.5, True)] * 4
    g2 = [(10, {1}, 0.8, True)] * 3 + [(13, {2}, 0.8, True)] * 3 + [(16, set(), 0.5, True)] * 4
    with open_run(write_evolution(tmp_path / "i.h5", [g0, g1, g2])) as run:
        table = ev.interference(run, threshold=0.25)
    assert table["interfering"].tolist() == [False, True, True]
    assert table["n_beneficial"].tolist() == [0, 2, 2]
    nested = [[(-1, set(), 0.5, True)] * 4,
              [(0, {1}, 0.8, True)] * 2 + [(1, set(), 0.5, True)] * 2,
              [(4, {1, 2}, 0.9, True)] * 2 + [(5, {1}, 0.8, True)] * 2]  # fmt: skip
    with open_run(write_evolution(tmp_path / "n.h5", nested)) as run:
        assert not ev.interference(run, threshold=0.25)["interfering"].any()  # one line


def test_a_planted_dfe_and_robustness(tmp_path: Path) -> None:
    g0 = [(-1, set(), 0.8, True)] * 4
    # children of id 0 (W 0.8): dead; 0.4; 0.81; 0.96; and one unmutated copy (not counted)
    g1 = [(0, {1}, 0.0, False), (0, {2}, 0.4, True), (0, {3}, 0.81, True),
          (0, {4}, 0.96, True), (0, set(), 0.2, True)]  # fmt: skip
    g2 = [(5, {2, 5}, 0.4, True)] * 4 + [(6, {3, 9}, 0.0, False)]
    with open_run(write_evolution(tmp_path / "d.h5", [g0, g1, g2])) as run:
        m = ev.mutations(run, neutral=0.05)
        assert m["class"].tolist()[:4] == ["lethal", "deleterious", "neutral", "beneficial"]
        np.testing.assert_allclose(m["s"].iloc[1:4], [-0.5, 0.0125, 0.2])
        d = ev.dfe(run, periods=2)
        ad = ev.adaptation(run, window=2)
    assert d["n_mutants"].tolist() == [4, 5]
    assert d.loc[0, ["lethal", "deleterious", "neutral", "beneficial"]].tolist() == [0.25] * 4
    assert d.loc[1, "lethal"] == pytest.approx(0.2) and d.loc[1, "neutral"] == pytest.approx(0.8)
    # robustness of generation 0: 1 − mean |ΔW| over its 4 mutant children
    assert ad.loc[0, "robustness"] == pytest.approx(1 - (0.8 + 0.4 + 0.01 + 0.16) / 4)
    assert ad.loc[1, "mean_fitness"] == pytest.approx(
        ad.loc[1, "survival"] * ad.loc[1, "mean_fertility"]
    )
    assert ad.loc[0, "mutation_rate"] == pytest.approx(4 / 5)
    assert ad.loc[1, "mean_fitness_rolling"] == pytest.approx(ad["mean_fitness"].iloc[:2].mean())


def test_the_three_generation_story_and_the_ancestry(sweep_file: Path) -> None:
    with open_run(sweep_file) as run:
        s = ev.story(run, 30, decode=False)
        anc = ev.ancestry(run)
        with pytest.raises(ConfigError, match="no individual with id 99"):
            ev.story(run, 99)
    assert s.index.tolist() == [10, 20, 30]
    assert s["mutated_sites"].tolist() == ["7", "", "20"]
    assert anc["n_ancestors"].tolist() == [1, 1, 3, 10]
    assert "id 10 (generation 1)" in anc.attrs["notes"][0]


def test_the_cli_on_a_hand_built_file(sweep_file: Path, tmp_path: Path, capsys) -> None:
    assert main(["analyse", str(sweep_file), "alleles", "--min-freq", "0.5"]) == 0
    out = capsys.readouterr().out
    assert "2 sites reached derived frequency >= 0.5" in out
    assert main(["analyse", str(sweep_file), "lineage", "--id", "30"]) == 0
    out = capsys.readouterr().out
    assert "--- id 30 (generation 3" in out  # with the decoded programs
    assert main(["analyse", str(sweep_file), "lineage", "--id", "99"]) == 2
    assert main(["analyse", str(sweep_file), "allels"]) == 2
    assert "did you mean 'alleles'" in capsys.readouterr().err
    bad = tmp_path / "bad.h5"
    bad.write_bytes(b"not hdf5")
    assert main(["analyse", str(bad), "alleles"]) == 2


# ---- one recorded smoke run -----------------------------------------------------------------
@pytest.fixture(scope="module")
def smoke(tmp_path_factory) -> Path:
    from neurosoup.chemistry.recorder import record
    from neurosoup.scenarios import make

    path = tmp_path_factory.mktemp("evo") / "smoke.h5"
    record(make("serann/smoke-v1", seed=0), path, progress=False)
    return path


def test_adaptation_matches_the_stored_observables(smoke: Path) -> None:
    with open_run(smoke) as run:
        ad = ev.adaptation(run)
        obs = run.observables
    for col in ("mean_fitness", "mean_fertility", "survival", "mutation_rate", "mean_alpha",
                "n_genotypes", "n_architectures"):  # fmt: skip
        np.testing.assert_allclose(ad[col].to_numpy(float), obs[col].to_numpy(float), err_msg=col)


def test_every_analysis_and_figure_of_a_smoke_run(smoke: Path, tmp_path: Path) -> None:
    with open_run(smoke) as run:
        pop = ev.population(run)
        assert len(pop.frame) == 8 * 4
        clones = ev.clones(run)
        mu = ev.muller(run)
        np.testing.assert_allclose(mu.sum(axis=1), 1.0)
        assert sorted(ev.muller_order(mu.attrs["parent"])) == clones.index.tolist()
        m = ev.mutations(run)
        assert (m["n_mutations"] > 0).all() and set(m["class"]) <= set(ev.CLASSES)
        d = ev.dfe(run, periods=3)
        assert d["n_mutants"].sum() == len(m)
        story = ev.lineage(run, id=int(pop.frame["id"].iloc[-1]))
        assert len(story) == 3 and len(story.attrs["notes"]) >= 6
        names = set(run_figures(run))
        assert {"adaptation", "fitness_vs_mutation", "muller"} <= names
        pngs = write_figures(run, tmp_path / "fig")
    for png in pngs:
        assert png.stat().st_size > 5000
        csv = pd.read_csv(png.with_suffix(".csv"))
        assert len(csv) > 0
    ad = pd.read_csv(tmp_path / "fig" / "adaptation.csv", index_col="generation")
    with open_run(smoke) as run:
        np.testing.assert_allclose(ad["mean_fitness"], ev.adaptation(run)["mean_fitness"])


def test_a_soup_file_is_refused_by_the_evolution_readers(tmp_path: Path) -> None:
    from tests.analysis.runfiles import write_run

    w = np.zeros((1, 2, 14))
    path = write_run(tmp_path / "s.h5", steps=np.arange(1), weights=w, uid=np.zeros((1, 2), int),
                     ptype=np.full((1, 2), 4))  # fmt: skip
    with open_run(path) as run, pytest.raises(ConfigError, match="needs an evolution run"):
        ev.adaptation(run)
