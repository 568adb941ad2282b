"""The neurosoup CLI: success paths and bad input (one line on stderr, exit 2, no traceback)."""

from __future__ import annotations

from pathlib import Path

import h5py
import pytest
import torch

from neurosoup.scenarios.cli import main


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.fixture
def run_file(tmp_path, capsys):
    path = tmp_path / "run.h5"
    rc, _, _ = run_cli(capsys, "run", "soup/journal-v1", "--steps", "4", "--set",
                       "n_particles=5", "--set", "train_steps=2", "--out", str(path), "--quiet")
    assert rc == 0
    return path


def test_list_show_run_resume(tmp_path, capsys, run_file) -> None:
    rc, out, _ = run_cli(capsys, "list")
    assert rc == 0 and "soup/journal-v1" in out and "soup/noisy-attack-v1" in out
    rc, out, _ = run_cli(capsys, "show", "soup/journal-v1", "--set", "lr=0.1")
    assert rc == 0 and '"lr": 0.1' in out and '"name": "attack"' in out
    assert '"pairing": "single"' in out
    rc, out, _ = run_cli(capsys, "resume", str(run_file), "--steps", "3", "--quiet")
    assert rc == 0 and "resumed to tick 7" in out and "fixpoint" in out
    with h5py.File(run_file, "r") as f:
        assert f["observables/n_alive/step"][-1] == 7
    rc, out, _ = run_cli(capsys, "run", "soup/journal-v1", "--steps", "2", "--set",
                         "n_particles=4", "--quiet")
    assert rc == 0 and "18.1" in out and "reference (unmodified scenario)" in out


def test_toml_file_run(tmp_path, capsys) -> None:
    toml = tmp_path / "s.toml"
    toml.write_text('extends = "soup/journal-v1"\nseed = 4\nn_particles = 5\nsteps = 2\n'
                    '[particle]\nencoding = "per_layer"\n')
    rc, out, _ = run_cli(capsys, "run", str(toml), "--quiet", "--set", "train_steps=1")
    assert rc == 0 and "seed 4: 2 ticks" in out
    rc, out, _ = run_cli(capsys, "show", str(toml))
    assert '"encoding": "per_layer"' in out and '"n_particles": 5' in out


def test_shipped_example_file(capsys) -> None:
    example = Path(__file__).resolve().parents[2] / "scenarios/examples/bigger_journal.toml"
    rc, out, _ = run_cli(capsys, "show", str(example))
    assert rc == 0 and '"n_particles": 50' in out and '"seed": 3' in out


def _bad_files(tmp_path, run_file):
    bad = {}
    (tmp_path / "bad.toml").write_text('extends = "soup/journal-v1"\nattack_rate = \n')
    (tmp_path / "typo.toml").write_text('extends = "soup/journal-v1"\natack_rate = 0.2\n')
    (tmp_path / "ext.toml").write_text('extends = "soup/jornal-v1"\n')
    (tmp_path / "noise.h5").write_bytes(b"not an hdf5 file at all" * 100)
    data = run_file.read_bytes()
    (tmp_path / "cut.h5").write_bytes(data[: len(data) // 2])
    with h5py.File(tmp_path / "other.h5", "w") as f:
        f["x"] = [1, 2, 3]
    nockpt = tmp_path / "nockpt.h5"
    nockpt.write_bytes(data)
    newer = tmp_path / "newer.h5"
    newer.write_bytes(data)
    (tmp_path / "newer.h5.ckpt").write_bytes((tmp_path / "run.h5.ckpt").read_bytes())
    with h5py.File(newer, "r+") as f:
        f.attrs["format_version"] = 99
    (tmp_path / "badckpt.h5").write_bytes(data)
    (tmp_path / "badckpt.h5.ckpt").write_bytes(b"garbage")
    (tmp_path / "afile").write_text("x")
    return bad


T = "soup/journal-v1"
CASES = [
    (["run", "soup/journl-v1"], "Did you mean `soup/journal-v1`"),
    (["run", "soup/journal-v7"], "Versions that exist: `soup/journal-v1`"),
    (["run", T, "--set", "atack_rate=0.2"], "Did you mean `attack_rate`"),
    (["run", T, "--set", "n_particles=abc"], "n_particles must be an int >= 2, got 'abc'"),
    (["run", T, "--set", "attack_rate=true"], r"attack.rate must be a probability"),
    (["run", T, "--set", "attack.rate=1.5"], r"attack.rate must be a probability in [0, 1]"),
    (["run", T, "--set", "atack.rate=0.1"], "unknown operator or rule `atack`. Did you mean"),
    (["run", T, "--set", "attack.sigma=0.1"], "operator `attack` has no parameter `sigma`"),
    (["run", T, "--set", 'operators=[{"name": "melt", "rat": 0.1}]'], "Did you mean `rate`"),
    (["run", T, "--set", "attack_rate=-0.1"], r"must be a probability in [0, 1], got -0.1"),
    (["run", T, "--set", "merge_rate=1.5"], r"must be a probability in [0, 1], got 1.5"),
    (["run", T, "--set", "train_mode=adam"], "train_mode must be one of 'full', 'epoch'"),
    (["run", T, "--set", "particle.encodng=global"], "Did you mean `particle.encoding`"),
    (["run", T, "--set", "lr"], "--set expects key=value"),
    (["run", "{tmp}/bad.toml"], "malformed TOML"),
    (["run", "{tmp}/typo.toml"], "typo.toml: unknown soup setting `atack_rate`. Did you mean"),
    (["run", "{tmp}/ext.toml"], "Did you mean `soup/journal-v1`"),
    (["run", "{tmp}/missing.toml"], "scenario file {tmp}/missing.toml does not exist"),
    (["run", T, "--steps", "1", "--out", "{tmp}/afile/run.h5"], "cannot write run file"),
    (["run", T, "--steps", "1", "--out", "{tmp}/run.h5"], "refusing to overwrite"),
    (["run", T, "--seed", "-3"], "seed must be an int >= 0"),
    (["resume", "{tmp}/missing.h5"], "{tmp}/missing.h5: no such file"),
    (["resume", "{tmp}/noise.h5"], "not an HDF5 file (no HDF5 signature)"),
    (["resume", "{tmp}/cut.h5"], "cut.h5: truncated"),
    (["resume", "{tmp}/other.h5"], "an HDF5 file but not a neurosoup run"),
    (["resume", "{tmp}/nockpt.h5"], "checkpoint {tmp}/nockpt.h5.ckpt is missing"),
    (["resume", "{tmp}/badckpt.h5"], "is damaged"),
    (["resume", "{tmp}/newer.h5"], "upgrade neurosoup"),
    (["resume", "{tmp}/run.h5", "--steps", "-2"], "--steps must be an int >= 0"),
]
if not torch.cuda.is_available():
    CASES.append((["run", T, "--device", "cuda"], "CUDA is not available"))


@pytest.mark.parametrize(("argv", "message"), CASES, ids=[" ".join(c[0])[:40] for c in CASES])
def test_bad_input(argv, message, tmp_path, capsys, run_file) -> None:
    _bad_files(tmp_path, run_file)
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    before = run_file.read_bytes()
    rc, _, err = run_cli(capsys, *argv)
    assert rc == 2
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert message.replace("{tmp}", str(tmp_path)) in err
    assert "Traceback" not in err
    assert run_file.read_bytes() == before, "a failed command must not touch existing runs"


def test_ribo_commands_pass_their_options_through(capsys) -> None:
    import json

    rc, out, _ = run_cli(capsys, "ribo", "stats", "--n", "5", "--seed", "1")
    stats = json.loads(out)
    assert rc == 0 and set(stats) == {"corpus_held_out", "random"}
    assert 0.0 <= stats["corpus_held_out"]["valid"] <= 1.0
    with pytest.raises(SystemExit) as exc:
        main(["ribo", "train", "-h"])
    assert exc.value.code == 0 and "--corpus-size" in capsys.readouterr().out
