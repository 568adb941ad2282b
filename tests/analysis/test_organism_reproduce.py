"""``neurosoup reproduce organism --scale small``: every row, its figures, the science."""

from __future__ import annotations

import pandas as pd

from neurosoup.scenarios.cli import main
from neurosoup.scenarios.reproduce import TARGETS, reproduce_organism


def _first(cell: str) -> float:
    return float(str(cell).split("±")[0].split("/")[0].split("(")[0])


def test_reproduce_organism_small(tmp_path, capsys) -> None:
    assert TARGETS["organism"] is reproduce_organism
    assert main(["reproduce", "organism", "--scale", "small", "--out", str(tmp_path)]) == 0
    table = pd.read_csv(tmp_path / "reproduce_organism.csv")
    assert list(table.columns) == ["row", "experiment", "measure", "ours", "reference", "source",
                                   "scale", "seeds", "seconds"]  # fmt: skip
    # Fashion-MNIST: paper scale only; growth: beyond the papers (tests/scenarios/test_harvest.py)
    assert set(table["row"]) == {"addition", "digits", "growth"}
    assert table["scale"].str.contains("epochs").all() and table["seeds"].notna().all()
    assert (table["seconds"] >= 0).all() and table["reference"].notna().all()
    md = (tmp_path / "reproduce_organism.md").read_text()
    assert md.count("\n|") == len(table) + 2
    t = {(r.row, r.measure.split(" at epoch")[0]): r.ours for r in table.itertuples()}
    # science (organism.md, CI margins): addition 25 ST → 18/18 PN_SR fast, MAE at float32 floor
    assert _first(t["addition", "PN_SR of 18"]) >= 16
    assert _first(t["addition", "test MAE"]) < 1e-5
    # digits 40 epochs: acc ≥ 0.8, ≥ 1 PN_SR, PN_SR dropout harmless, PN_F dropout fatal
    assert _first(t["digits", "test accuracy"]) >= 0.8
    assert _first(t["digits", "PN_SR of 395"]) >= 1
    assert abs(_first(t["digits", "accuracy change when every PN_SR is zeroed (Δ)"])) <= 0.01
    assert _first(t["digits", "accuracy with every PN_F zeroed"]) <= 0.2
    for row in ("addition", "digits"):
        for fig in ("counts", "curves", "dropout", "pruning", "robustness"):
            assert (tmp_path / f"organism_{row}_{fig}.png").is_file()
        assert (tmp_path / "runs" / f"organism_{row}_seed0.h5").is_file()
    assert (tmp_path / "organism_digits_heatmap.png").is_file()
    assert "reproduce_organism.md" in capsys.readouterr().out
