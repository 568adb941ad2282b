"""A run that reaches the file size limit stops with one line before writing; it resumes."""

from __future__ import annotations

import subprocess
import sys

from neurosoup.chemistry.recorder import record, resume
from neurosoup.scenarios import make
from tests.scenarios.helpers import assert_same_file, checkpoint_step

SETS = {"n_particles": 2000, "checkpoint_every": 3}
CHILD = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
limit = int(sys.argv[2])
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
from neurosoup.scenarios.cli import main
sys.exit(main(["run", "soup/journal-v1", "--seed", "2", "--steps", "60", "--out", sys.argv[1],
               "--quiet", "--set", "n_particles=2000", "--set", "checkpoint_every=3",
               "--set", "self_train.steps=1"]))
"""


def test_file_size_limit_gives_one_line_and_a_file_that_resumes(tmp_path) -> None:
    path = tmp_path / "full.h5"
    done = subprocess.run([sys.executable, "-c", CHILD, str(path), str(4 << 20)],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 2, done.stderr
    err = done.stderr.strip().splitlines()
    assert len(err) == 1 and "file size limit" in err[0] and "neurosoup resume" in err[0]
    assert "Traceback" not in done.stderr
    step = checkpoint_step(path)
    assert step > 0
    again = resume(path, progress=False)  # no limit here: it continues to the plan
    whole = make("soup/journal-v1", seed=2, steps=60, **SETS, **{"self_train.steps": 1})
    record(whole, tmp_path / "whole.h5", progress=False)
    assert again.steps == whole.steps == 60
    assert_same_file(path, tmp_path / "whole.h5")
