"""Every registered scenario: runs tiny, is deterministic, round-trips, resumes exactly."""

from __future__ import annotations

import json

import h5py
import numpy as np
import pytest
import torch

from neurosoup.chemistry.config import SoupConfig
from neurosoup.chemistry.recorder import record, resume
from neurosoup.particles import ConfigError, UnknownScenario
from neurosoup.scenarios import list_scenarios, make, register, spec
from tests.scenarios.helpers import assert_same_file, tiny

#: every soup scenario here; every kind (from its tiny test set) in tests/test_every_kind.py
IDS = [s.id for s in list_scenarios() if s.kind == "soup"]


def test_registry_holds_the_issue_scenarios() -> None:
    assert {"soup/self-train-v1", "soup/self-application-v1", "soup/journal-v1",
            "soup/alife2019-v1", "soup/learn-from-v1", "soup/merge-v1",
            "soup/noisy-attack-v1"} <= set(IDS)


@pytest.mark.parametrize("scenario", IDS)
def test_tiny_run_deterministic_and_round_trips(scenario: str, tmp_path) -> None:
    files = []
    for name in ("a.h5", "b.h5"):
        soup = make(scenario, seed=3, **tiny(scenario))
        record(soup, tmp_path / name, progress=False)
        files.append(tmp_path / name)
    assert_same_file(*files)
    with h5py.File(files[0], "r") as f:
        meta = json.loads(f["parameters/spec"][()])
        assert meta["scenario"] == scenario and meta["seed"] == 3
        assert SoupConfig.from_dict(meta["config"]) == soup.config
        assert list(f["observables/n_alive/step"][:]) == list(range(6))
        last = f["particles/all/weights/value"][-1]
        assert np.array_equal(last, soup.store.weights.numpy(), equal_nan=True)
        uid = f["particles/all/uid/value"][-1]
        assert np.array_equal(uid, soup.store.uid.numpy())
        fix = f["observables/count_fixpoint/value"][-1]
        assert fix == soup.counts()["fixpoint"]


@pytest.mark.parametrize("scenario", IDS)
def test_resume_equals_uninterrupted(scenario: str, tmp_path) -> None:
    whole = make(scenario, seed=5, **tiny(scenario, snapshot_every=2))
    record(whole, tmp_path / "whole.h5", progress=False)
    part = make(scenario, seed=5, **tiny(scenario, snapshot_every=2))
    record(part, tmp_path / "part.h5", 3, progress=False)
    again = resume(tmp_path / "part.h5", progress=False)
    assert again.steps == whole.steps == 5
    assert torch.equal(again.store.weights, whole.store.weights)
    assert again.organisms.bond_set() == whole.organisms.bond_set()
    assert again.organisms.members() == whole.organisms.members()
    assert_same_file(tmp_path / "whole.h5", tmp_path / "part.h5")
    history = whole.datacollector.get_model_vars_dataframe()
    resumed = again.datacollector.get_model_vars_dataframe()
    assert len(history) == len(resumed) == 6  # steps 0 … 5
    assert resumed.equals(history)  # organism_sizes included: it is in the run file


def test_make_overrides_and_errors() -> None:
    soup = make("soup/journal-v1", seed=1, n_particles=7, particle={"encoding": "per_layer"})
    assert soup.config.n_particles == 7 and soup.spec.encoding == "per_layer"
    assert soup.config.op("attack").to_dict() == {"name": "attack", "rate": 0.1,
                                                  "pairing": "single"}
    with pytest.raises(UnknownScenario, match="Did you mean `soup/self-train-v1`"):
        make("soup/self-trian-v1")
    with pytest.raises(ConfigError, match="Did you mean `attack_rate`"):
        make("soup/journal-v1", atack_rate=0.2)
    with pytest.raises(ConfigError, match="family/name-vN"):
        register("journal")
    with pytest.raises(ConfigError, match="already registered"):
        register("soup/journal-v1")
    assert spec("soup/alife2019-v1").resolve().op("respawn") is not None


def test_resume_refuses_another_device_type(tmp_path) -> None:
    soup = make("soup/journal-v1", seed=1, **tiny("soup/journal-v1"))
    record(soup, tmp_path / "run.h5", 2, progress=False)
    with h5py.File(tmp_path / "run.h5", "r+") as f:  # pretend the run was made on a GPU
        stored = json.loads(f["parameters/spec"][()])
        stored["device"] = "cuda"
        del f["parameters/spec"]
        f["parameters/spec"] = json.dumps(stored)
    with pytest.raises(ConfigError, match=r"was run on cuda but resume asked for cpu; .*"
                       r"--device cuda"):  # fmt: skip
        resume(tmp_path / "run.h5", device="cpu", progress=False)
