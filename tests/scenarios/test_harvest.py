"""``neurosoup harvest``: soup-grown organisms → ON run specs that ``neurosoup run`` trains."""

from __future__ import annotations

import json
import tomllib

import h5py
import numpy as np
import pytest

from neurosoup.chemistry.checkpoint import read_checkpoint
from neurosoup.chemistry.checkpoint_history import entry_path
from neurosoup.chemistry.growth import positions
from neurosoup.chemistry.recorder import record
from neurosoup.scenarios import make
from neurosoup.scenarios.cli import main
from neurosoup.scenarios.reproduce.growth_rows import row_growth

SMALL = {"n_particles": 30, "steps": 40, "self_train.steps": 1, "grow.rate": 0.3,
         "grow.found_rate": 0.01, "checkpoint_every": 20}  # fmt: skip


@pytest.fixture(scope="module")
def soup(tmp_path_factory):
    path = tmp_path_factory.mktemp("grown") / "soup.h5"
    record(make("soup/organism-growth-v1", seed=2, **SMALL), path, progress=False)
    return path


def test_harvest_keeps_soup_weights_and_records_its_source(soup, tmp_path, capsys) -> None:
    before = soup.read_bytes()
    assert main(["harvest", str(soup), "--at", "40", "--largest", "2", "--out",
                 str(tmp_path / "h")]) == 0  # fmt: skip
    assert soup.read_bytes() == before, "harvest reads files only"
    assert "neurosoup run" in capsys.readouterr().out
    spec = tomllib.loads((tmp_path / "h" / "organism-0.toml").read_text())
    second = tomllib.loads((tmp_path / "h" / "organism-1.toml").read_text())
    src = spec["source"]
    assert spec["extends"] == "organism/float-addition-v1" and spec["layer_sizes"] == [2, 3, 3, 1]
    assert src["step"] == 40 and src["soup_file"] == str(soup.resolve())
    assert src["grown"] >= second["source"]["grown"] and src["grown"] + src["filled"] == 18
    # every grown particle sits at its soup position with its soup weights (float32 exact)
    state = read_checkpoint(entry_path(soup, 40))
    uid = state["store"]["uid"].tolist()
    where = {int(r[0]): tuple(int(x) for x in r[1:]) for r in state["organisms"]["positions"]}
    w = np.asarray(spec["init_weights"])
    for i, u in enumerate(src["uids"]):
        if u >= 0:
            assert positions([2, 3, 3, 1])[i] == where[u]
            np.testing.assert_array_equal(w[i], state["store"]["weights"][uid.index(u)])
    # neurosoup run trains it; the organism's run file carries the source and the start
    out = tmp_path / "on.h5"
    assert main(["run", str(tmp_path / "h" / "organism-0.toml"), "--steps", "1", "--out",
                 str(out), "--quiet"]) == 0  # fmt: skip
    with h5py.File(out, "r") as f:
        config = json.loads(f["parameters/spec"][()])["config"]
        first = f["particles/all/weights/value"][0]  # step 0: the harvested start
    assert config["source"]["step"] == 40 and config["source"]["uids"] == src["uids"]
    np.testing.assert_array_equal(first, w.astype(np.float32))


def test_harvest_refuses_bad_input_in_one_line(soup, tmp_path, capsys) -> None:
    def one_line(argv) -> str:
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and err.count("\n") == 1
        return err

    out = str(tmp_path / "h")
    assert "nearest are 20 and 40" in one_line(["harvest", str(soup), "--at", "30", "--out", out])
    plain = tmp_path / "plain.h5"
    record(make("soup/journal-v1", seed=0, steps=1, n_particles=4), plain, progress=False)
    assert "no grow operator" in one_line(["harvest", str(plain), "--at", "1", "--out", out])
    assert "--largest must be" in one_line(["harvest", str(soup), "--at", "40", "--largest",
                                            "0", "--out", out])  # fmt: skip
    assert not (tmp_path / "h").exists()


def test_growth_row_compares_grown_and_random_organisms(tmp_path) -> None:
    lines = row_growth("small", 0, tmp_path)
    assert [r.row for r in lines] == ["growth"] * 5
    assert all("beyond the papers" in r.experiment for r in lines)
    assert (tmp_path / "organism_growth_sizes.png").is_file()
    assert (tmp_path / "organism_growth_sizes.csv").is_file()
    table = (tmp_path / "organism_growth_table.csv").read_text()
    assert "grown_epochs" in table and "random_mae" in table
    for name in ("soup", "grown", "random"):
        assert (tmp_path / "runs" / f"growth_{name}_seed0.h5").is_file()


def test_init_weights_are_checked_and_round_trip() -> None:
    from neurosoup.chemistry.organism_training import OrganismConfig
    from neurosoup.particles import ConfigError
    from neurosoup.scenarios import spec

    cfg = spec("organism/float-addition-v1").resolve()
    assert "init_weights" not in cfg.to_dict() and "source" not in cfg.to_dict()
    grown = cfg.replace(init_weights=[[0.5] * 27] * 18, source={"step": 3})
    assert OrganismConfig.from_dict(grown.to_dict()) == grown
    with pytest.raises(ConfigError, match="init_weights must hold 18 rows of 27 finite"):
        cfg.replace(init_weights=[[0.5] * 27] * 17)
    with pytest.raises(ConfigError, match="init_weights must hold"):
        cfg.replace(init_weights=[[float("nan")] * 27] * 18)
