"""The scenarios of issue 14: melting soup, the 2019 demo soup, second-order replicators."""

from __future__ import annotations

import pytest

from neurosoup.particles import ParticleType
from neurosoup.scenarios import make, spec
from neurosoup.scenarios.cli import main


def test_the_new_scenarios_resolve_as_specified() -> None:
    melting = spec("soup/melting-v1").resolve()
    assert [e.name for e in melting.operators] == ["attack", "melt", "self_train"]
    assert melting.op("attack").as_dict() == {"rate": 0.1, "pairing": "single"}
    assert melting.op("melt").as_dict() == {"rate": 0.1, "pairing": "single", "mode": "offspring"}
    assert melting.op("self_train")["steps"] == 20 and melting.n_particles == 20
    demo = spec("soup/alife2019-demo-v1").resolve()
    assert demo.n_particles == 100 and demo.steps == 100 and demo.train_mode == "epoch"
    assert [e.name for e in demo.operators] == ["attack", "learn_from", "self_train", "respawn"]
    assert demo.op("attack")["rate"] == demo.op("learn_from")["rate"] == 0.1
    assert demo.op("self_train")["steps"] == 20
    assert demo.op("respawn").as_dict() == {"divergent": True, "zero": True}
    second = spec("soup/second-order-v1").resolve()
    assert [e.to_dict() for e in second.operators] == [{"name": "second_order_train",
                                                        "steps": 20}]
    assert second.particle.encoding == "per_layer" and second.particle.weight_init == "torch"


def test_second_order_soup_grows_two_cycles() -> None:
    # journal-era code: 14, 16, 14 of 20 after 1,000 steps; never a first-order fixpoint
    soup = make("soup/second-order-v1", seed=0)
    soup.run(progress=False)
    counts = soup.counts()
    assert counts["second_order"] >= 8 and counts["fixpoint"] == 0
    assert counts["divergent"] == counts["zero"] == 0
    assert soup.steps == 50


def test_melting_soup_makes_offspring() -> None:
    soup = make("soup/melting-v1", seed=1, steps=60, **{"self_train.steps": 2})
    soup.run(progress=False)
    melts = soup.datacollector.get_model_vars_dataframe()["applied_melt"].sum()
    assert melts > 0 and int(soup.store.alive.sum()) == 20
    assert int(soup.store.next_uid) == 20 + melts  # each melt a child replacing a third


@pytest.mark.parametrize(("argv", "message"), [
    (["--set", "particle.kind=aggregating", "--set", "second_order_train.steps=3"],
     "error: operator `second_order_train` works on weightwise particles only, not kind "
     "'aggregating'"),
    (["--set", "particle.kind=convolutional"], "error: unknown kind 'convolutional'"),
])  # fmt: skip
def test_bad_kind_input_is_one_line(argv, message, tmp_path, capsys) -> None:
    code = main(["run", "soup/journal-v1", "--steps", "1", "--out", str(tmp_path / "x.h5"),
                 *argv])  # fmt: skip
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith(message) and "\n" not in err
    assert not (tmp_path / "x.h5").exists()


def test_kind_soups_run_from_the_cli(tmp_path, capsys) -> None:
    out = tmp_path / "rec.h5"
    argv = ["run", "soup/alife2019-v1", "--steps", "2", "--seed", "0", "--out", str(out),
            "--set", "particle.kind=recurrent", "--set", "particle.encoding=global",
            "--set", "n_particles=6", "--set", "self_train.steps=2"]  # fmt: skip
    assert main(argv) == 0
    from neurosoup.analysis import open_run

    run = open_run(out)
    assert run.config["particle"]["kind"] == "recurrent"
    last = run.observables.iloc[-1]
    assert last["n_alive"] == 6
    assert sum(last[f"count_{t.label}"] for t in ParticleType) == 6
