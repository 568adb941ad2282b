"""Output paths refused before any work; a live run's file is never truncated or shared."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from neurosoup.scenarios.cli import main
from tests.scenarios.helpers import checkpoint_step

RUN = ["run", "soup/journal-v1", "--quiet", "--set", "n_particles=6", "--set", "steps=3"]


def _one_line_exit_2(argv, capsys) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
    return err


def test_out_under_a_file_is_refused_before_work_even_as_root(tmp_path, capsys) -> None:
    # chmod does not stop root; a path under a regular file cannot be written by anyone
    (tmp_path / "plain").write_text("x")
    err = _one_line_exit_2([*RUN, "--out", str(tmp_path / "plain" / "run.h5")], capsys)
    assert "cannot write run file" in err and "choose a writable --out" in err
    assert sorted(os.listdir(tmp_path)) == ["plain"]


def test_out_that_is_a_directory_is_refused(tmp_path, capsys) -> None:
    err = _one_line_exit_2([*RUN, "--out", str(tmp_path)], capsys)
    assert "is a folder" in err


def test_a_file_another_run_is_writing_is_refused(tmp_path, capsys) -> None:
    path = tmp_path / "live.h5"
    cmd = [sys.executable, "-m", "neurosoup.scenarios.cli", "run", "soup/journal-v1", "--out",
           str(path), "--quiet", "--set", "n_particles=20", "--set", "steps=100000"]  # fmt: skip
    child = subprocess.Popen(cmd, env={**os.environ, "OMP_NUM_THREADS": "1"},
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while checkpoint_step(path) < 0:
            assert child.poll() is None and time.monotonic() < deadline
            time.sleep(0.02)
        size = path.stat().st_size
        err = _one_line_exit_2([*RUN, "--out", str(path), "--overwrite"], capsys)
        assert "being written by another process" in err
        assert path.stat().st_size >= size, "the live run's file was not truncated"
        err = _one_line_exit_2(["resume", str(path), "--quiet"], capsys)
        assert "locked by another process" in err
        err = _one_line_exit_2(["analyse", str(path)], capsys)
        assert "locked by another process" in err
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
