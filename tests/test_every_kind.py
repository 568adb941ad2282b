"""Every registered model kind, from its tiny test set: a new kind is tested without a test edit.

For each kind whose whitelist entry declares a ``KindTest`` (every built-in kind of
``chemistry/kind_table.py`` and every module of ``tests/kinds/``): the same seed gives the same
file; recording k steps and resuming to 2k gives the file of 2k steps recorded at once;
``neurosoup run`` / ``show`` / ``analyse`` / ``plot`` work on it; a bad ``--set`` key is one
``error:`` line and exit 2.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import h5py
import pytest

from neurosoup.chemistry import kind_table
from neurosoup.chemistry.model_kinds import KINDS, KindTest, get_kind
from neurosoup.chemistry.recorder import record, resume
from neurosoup.particles import runformat
from neurosoup.particles.runformat.common import STEP
from neurosoup.scenarios import make, spec
from neurosoup.scenarios.cli import main
from tests.scenarios.helpers import assert_same_file

ROOT = Path(__file__).resolve().parents[1]
TESTED = sorted(name for name, entry in KINDS.items() if entry.test is not None)


def _test(kind: str) -> KindTest:
    test = KINDS[kind].test
    assert test is not None
    return test


def _make(kind: str, steps: int, seed: int = 3):
    test = _test(kind)
    return make(test.scenario, seed=seed, device="cpu", steps=steps, **test.overrides)


def _sets(kind: str) -> list[str]:
    out = []
    for key, value in _test(kind).overrides.items():
        out += ["--set", f"{key}={json.dumps(value)}"]
    return out


def _last_step(path: Path) -> int:
    """The last step a run file recorded (its observables' steps)."""
    with h5py.File(path, "r") as f:
        group = f[runformat.OBSERVABLES]
        return max(int(g[STEP][-1]) for g in group.values() if len(g[STEP]))


@pytest.fixture(scope="module")
def recorded(tmp_path_factory) -> dict[str, Path]:
    """kind → a file of 2k steps recorded at once (seed 3), made on first use."""
    cache: dict[str, Path] = {}

    def get(kind: str) -> Path:
        if kind not in cache:
            path = tmp_path_factory.mktemp(kind) / "whole.h5"
            record(_make(kind, 2 * _test(kind).steps), path, progress=False)
            cache[kind] = path
        return cache[kind]

    return get  # type: ignore[return-value]


def test_the_built_in_kinds_and_the_worked_example_are_tested() -> None:
    assert {"soup", "organism", "quine", "evolution", "random_walk"} <= set(TESTED)
    for name in ("soup", "organism", "quine", "evolution"):
        entry = KINDS[name]
        assert isinstance(entry.model, str) and isinstance(entry.config, str), name
        assert spec(entry.test.scenario).kind == name


def test_the_mechanism_imports_no_kind() -> None:
    """``model_kinds.py`` imports no kind module; the table imports only the mechanism."""
    kinds = {"kind_table"} | {
        ref.partition(":")[0].rsplit(".", 1)[-1]
        for entry in KINDS.values()
        for ref in (entry.model, entry.config)
        if isinstance(ref, str)
    }
    assert {"soup", "organism_training", "quine_training", "evolution"} <= kinds
    for module in ("model_kinds", "kind_table"):
        tree = ast.parse((ROOT / "chemistry" / f"{module}.py").read_text())
        local = {
            (node.module or "").split(".")[-1]
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.level == 1
        }
        assert not local & kinds, (module, local & kinds)
    assert {e.model for e in KINDS.values()} >= {"neurosoup.chemistry.soup:Soup"}
    assert kind_table.__name__.endswith("kind_table")


@pytest.mark.parametrize("kind", TESTED)
def test_same_seed_same_file(kind: str, recorded, tmp_path) -> None:
    again = tmp_path / "again.h5"
    record(_make(kind, 2 * _test(kind).steps), again, progress=False)
    assert_same_file(recorded(kind), again)


@pytest.mark.parametrize("kind", TESTED)
def test_resume_equals_uninterrupted(kind: str, recorded, tmp_path) -> None:
    k = _test(kind).steps
    part = tmp_path / "part.h5"
    record(_make(kind, 2 * k), part, k, progress=False)
    model = resume(part, progress=False)
    assert model.kind == kind and model.steps == _last_step(recorded(kind))
    assert model.steps == 2 * k or model.stop_reason is not None  # (an extinct SeRANN stops)
    assert_same_file(recorded(kind), part)


@pytest.mark.parametrize("kind", TESTED)
def test_run_show_analyse_plot(kind: str, tmp_path, capsys) -> None:
    test = _test(kind)
    out = tmp_path / "run.h5"
    argv = ["run", test.scenario, "--seed", "1", "--steps", str(test.steps), "--out", str(out),
            "--quiet", *_sets(kind)]  # fmt: skip
    assert main(argv) == 0, capsys.readouterr().err
    with h5py.File(out, "r") as f:
        assert f.attrs["kind"] == kind
    capsys.readouterr()
    assert main(["show", test.scenario, *_sets(kind)]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["kind"] == kind and shown["scenario"] == test.scenario
    config = get_kind(kind).config.from_dict(shown["config"])
    assert config.to_dict() == shown["config"]
    assert all(getattr(config, k) == v for k, v in test.overrides.items() if "." not in k)
    assert main(["analyse", str(out)]) == 0
    assert capsys.readouterr().out.strip()
    assert main(["plot", str(out), "--out", str(tmp_path / "fig")]) == 0
    pngs = sorted((tmp_path / "fig").glob("*.png"))
    assert pngs and all(p.with_suffix(".csv").exists() for p in pngs)


@pytest.mark.parametrize("kind", TESTED)
def test_bad_set_key_is_one_line_exit_2(kind: str, tmp_path, capsys) -> None:
    out = tmp_path / "bad.h5"
    argv = ["run", _test(kind).scenario, "--steps", "1", "--out", str(out),
            "--set", "no_such_setting=1"]  # fmt: skip
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "no_such_setting" in err
    assert not out.exists()
