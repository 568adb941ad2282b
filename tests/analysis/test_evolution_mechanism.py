"""``neighbourhood`` and ``spectrum`` against an independent decode and planted site errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from neurosoup.analysis import open_run
from neurosoup.analysis.evolution import neighbourhood, spectrum
from neurosoup.analysis.evolution_mechanism import ORDERS, Judge, random_mutants
from neurosoup.analysis.evolution_population import population_from_columns
from neurosoup.chemistry import evolution_jobs
from neurosoup.chemistry.evolution import Evolution, EvolutionConfig
from neurosoup.chemistry.recorder import record
from neurosoup.particles.runformat import evolution as vocab
from neurosoup.particles.serann import corpus_genotypes, default_ribosome, interpret
from neurosoup.particles.serann.genotype import from_hex
from neurosoup.particles.serann.ir import Death
from neurosoup.scenarios.cli import main
from tests.chemistry import serann_fakes


def _dead(bits: np.ndarray) -> np.ndarray:
    """An independent decode: one genotype at a time, no cache."""
    ribo = default_ribosome()
    out = []
    for row in bits:
        text = ribo.decode(torch.from_numpy(row[None, :].astype(np.uint8)))[0]
        out.append(isinstance(interpret(text, image_shape=(8, 8, 1), param_cap=200_000), Death))
    return np.array(out)


@pytest.fixture(scope="module")
def noisy_run(tmp_path_factory):
    path = tmp_path_factory.mktemp("mech") / "m.h5"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(evolution_jobs, "run_job", serann_fakes.noisy(0.03))
        record(Evolution(EvolutionConfig(population=16, steps=3), seed=4), path, progress=False)
    return path


def test_neighbourhood_equals_an_independent_decode(noisy_run) -> None:
    with open_run(noisy_run) as run:
        table = neighbourhood(run, every=2, samples=12, seed=9)
    assert list(table.index) == [0, 2, 3]
    rng = np.random.default_rng(9)
    for g, row in table.iterrows():
        bits = from_hex(row["genotype"]).numpy().reshape(-1)[:100].astype(np.uint8)
        singles = np.repeat(bits[None], 100, 0)
        singles[np.arange(100), np.arange(100)] ^= 1
        dead = _dead(singles)
        assert row["dead_1"] == pytest.approx(dead.mean())
        assert row["lethal_sites"] == " ".join(map(str, np.flatnonzero(dead)))
        for k in ORDERS:
            mutants = random_mutants(bits, k, 12, rng)
            assert ((mutants != bits).sum(1) == k).all()
            assert row[f"dead_{k}"] == pytest.approx(_dead(mutants).mean()), (g, k)


def _planted(errors: np.ndarray, n_copies: np.ndarray, bits: np.ndarray) -> dict:
    n = len(errors)
    cols = {c[0]: np.zeros(n, c[1]) for c in vocab.POPULATION_COLUMNS if len(c) == 2}
    cols.update(generation=np.zeros(n, np.int64), id=np.arange(n), parent_id=np.full(n, -1),
                alive=np.ones(n, bool), fertility=np.ones(n), viability=np.ones(n),
                fitness=np.ones(n), n_copies=n_copies, site_errors=errors,
                genotype=np.packbits(np.pad(bits, ((0, 0), (0, 4))), axis=1))  # fmt: skip
    return cols


def _with_lethal_neighbours() -> np.ndarray:
    """The first held-out corpus genotype that lives and has lethal and viable neighbours."""
    judge = Judge((8, 8, 1), 200_000)
    for g in corpus_genotypes(held_out=True).numpy().astype(np.uint8):
        if judge.dead(g[None])[0]:
            continue
        singles = np.repeat(g[None], 100, 0)
        singles[np.arange(100), np.arange(100)] ^= 1
        d = judge.dead(singles)
        if d.any() and (~d).any():
            return g
    raise AssertionError("no held-out genotype with lethal neighbours")


def test_spectrum_on_planted_site_errors() -> None:
    bits = _with_lethal_neighbours()
    singles = np.repeat(bits[None], 100, 0)
    singles[np.arange(100), np.arange(100)] ^= 1
    dead = _dead(singles)
    lethal, viable = int(np.flatnonzero(dead)[0]), int(np.flatnonzero(~dead)[0])
    errors = np.zeros((2, 100), np.int32)
    errors[0, lethal], errors[0, viable], errors[0, 50 if viable != 50 else 51] = 5, 3, 1
    errors[1, viable] = 1  # adult 1: 1 of 20 copies wrong at one site: no hot spot
    pop = population_from_columns(_planted(errors, np.array([20, 20]), np.stack([bits, bits])))
    table = spectrum(pop, hot=0.1, judge=Judge((8, 8, 1), 200_000))
    row = table.loc[0]
    assert row["errors_per_copy"] == pytest.approx(10 / 40)
    assert row["n_hot_sites"] == 2  # 5/20 and 3/20 are hot; 1/20 is not
    assert row["hot_share"] == pytest.approx(8 / 10)
    assert row["hot_lethal_share"] == pytest.approx(5 / 8)


def test_the_cli_prints_both_and_refuses_old_files(noisy_run, tmp_path, capsys) -> None:
    assert main(["analyse", str(noisy_run), "spectrum"]) == 0
    assert "hot_lethal_share" in capsys.readouterr().out
    assert main(["analyse", str(noisy_run), "neighbourhood", "--every", "0"]) == 2
    assert "--every must be an int >= 1" in capsys.readouterr().err
    assert main(["plot", str(noisy_run), "--out", str(tmp_path / "f")]) == 0
    assert (tmp_path / "f" / "spectrum.png").exists()
    assert (tmp_path / "f" / "neighbourhood.csv").exists()
