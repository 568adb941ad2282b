"""`neurosoup evaluate` measures W = V·F per training; epistasis on W and the mutation rate."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from neurosoup.analysis.epistasis import epistasis, measures_of, mutant_fitness
from neurosoup.analysis.evolution import developmental_noise, evaluation_summary, read_evaluation
from neurosoup.particles import ConfigError
from neurosoup.scenarios.evaluate import evaluate_run, summary_text, write_evaluation


def test_w_is_v_times_f_per_training_and_per_mutant(corpus_run: Path, tmp_path: Path) -> None:
    out = evaluate_run(corpus_run, 0, 2, 2, copies=3, seed=1, train_steps=3, pairs=["1:2"])
    t = out["trainings"]
    np.testing.assert_allclose(t["fitness"], t["survival"] * t["fertility"])
    m = out["mutant_trainings"]
    np.testing.assert_allclose(m["fitness"], m["survival"] * m["fertility"])
    assert ((m["mutations"] >= 0) & (m["survival"] >= 0) & (m["survival"] <= 1)).all()
    path = tmp_path / "e.h5"
    write_evaluation(out, path)
    ev = read_evaluation(path)
    assert measures_of(ev) == ["fitness", "mutations"] and ev.meta["format"] == 2
    summary = evaluation_summary(ev)
    assert "fitness_mean" in summary and "fitness" in developmental_noise(ev).index
    on_w = epistasis(ev)
    w = mutant_fitness(ev.mutants, ev.mutant_trainings, "fitness")
    want = np.log(w["w"].iloc[3] * w["w"].iloc[0] / (w["w"].iloc[1] * w["w"].iloc[2]))
    assert on_w["epsilon"].iloc[0] == pytest.approx(want, nan_ok=True)
    on_rate = epistasis(ev, measure="mutations")
    assert list(on_rate.columns) == list(on_w.columns) and len(on_rate) == 1
    text = summary_text(path)
    assert "epistasis on W = V·F" in text and "epistasis on the mutation rate" in text
    assert "W = V·F" in text.splitlines()[1]


def test_an_old_evaluation_is_read_on_fertility(corpus_run: Path, tmp_path: Path) -> None:
    out = evaluate_run(corpus_run, 0, 2, 2, copies=2, seed=2, train_steps=2, pairs=["1:2"])
    out["trainings"].pop("fitness")
    for col in ("fitness", "survival", "mutations"):
        out["mutant_trainings"].pop(col)
    out["meta"]["format"] = 1
    path = tmp_path / "old.h5"
    write_evaluation(out, path)
    ev = read_evaluation(path)
    assert measures_of(ev) == ["fertility"] and "fitness_mean" not in evaluation_summary(ev)
    assert len(epistasis(ev)) == 1
    assert "epistasis on W = fertility" in summary_text(path)
    with pytest.raises(ConfigError, match="evaluate the run again"):
        epistasis(ev, measure="mutations")
