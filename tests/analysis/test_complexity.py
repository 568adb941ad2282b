"""The high_order_entropy observable of soups, and the complexity of every kind in analysis."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from neurosoup.analysis import open_run
from neurosoup.analysis.complexity import complexity
from neurosoup.analysis.report import run_figures
from neurosoup.chemistry.recorder import record
from neurosoup.particles.complexity import high_order_entropy, high_order_entropy_of_bytes
from neurosoup.particles.serann.genotype import pack
from neurosoup.scenarios import make
from neurosoup.scenarios.cli import main

from .test_evolution import write_evolution


@pytest.fixture(scope="module")
def melting(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("complexity") / "melt.h5"
    soup = make("soup/melting-v1", seed=1, steps=6, n_particles=12)
    record(soup, path, progress=False)
    return path


def test_soups_record_it_every_tick(melting: Path) -> None:
    with open_run(melting) as run:
        step, value = run.observable("high_order_entropy")
        assert step.tolist() == list(range(7))
        for s in run.snapshots.steps.tolist():  # the recorded value is the measure of the weights
            w = run.snapshots.weights(int(s))
            assert value[step == s].item() == pytest.approx(high_order_entropy(w))
        table = complexity(run)
        assert list(table.columns) == ["step", "high_order_entropy", "count_fixpoint"]
        assert "complexity" in run_figures(run)


def test_files_without_the_observable_compute_it_from_snapshots(tree_run: Path) -> None:
    with open_run(tree_run) as run:
        table = complexity(run)
        assert table["step"].tolist() == [0, 1, 2, 3]
        w = run.snapshots.weights(3)
        assert table["high_order_entropy"].iloc[-1] == pytest.approx(high_order_entropy(w))


def test_evolution_per_generation(tmp_path: Path, capsys) -> None:
    same = [(-1, {1, 2, 3}, 0.5, True)] * 40
    varied = [(i, set(np.random.default_rng(i).choice(100, 50).tolist()), 0.5, True)
              for i in range(40)]  # fmt: skip
    path = write_evolution(tmp_path / "evo.h5", [same, varied])
    with open_run(path) as run:
        table = complexity(run)
    assert table["step"].tolist() == [0, 1]
    bits = np.zeros((40, 100), np.uint8)
    bits[:, [1, 2, 3]] = 1
    assert table["high_order_entropy"][0] == pytest.approx(high_order_entropy_of_bytes(pack(bits)))
    assert table["high_order_entropy"][0] > table["high_order_entropy"][1] + 0.5
    assert main(["analyse", str(path), "complexity"]) == 0
    assert "high_order_entropy" in capsys.readouterr().out
