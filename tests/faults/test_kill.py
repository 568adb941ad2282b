"""SIGKILL a running ``neurosoup run`` of every kind; the resumed file equals an unbroken run.

CI kills each kind once; the ``slow`` version kills each kind 10 times at seeded moments
(``pytest -m slow tests/faults/test_kill.py -s`` prints the tally).
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.faults.harness import CASES, SHORT, kill_and_resume, reference
from tests.scenarios.helpers import assert_same_file


def _kills(kind: str, n: int, seed: int, tmp_path, cases=CASES) -> list[dict]:
    case = cases[kind]
    whole = reference(case, tmp_path / "whole.h5")
    rng = np.random.default_rng([seed, n])
    done = []
    for i in range(n):
        path = tmp_path / f"killed{i}.h5"
        done.append(kill_and_resume(case, rng, path, whole))
        assert_same_file(path, whole)
    return done


@pytest.mark.parametrize("kind", sorted(CASES))
def test_one_kill_per_kind_resumes_identical(kind, tmp_path) -> None:
    _kills(kind, 1, 0, tmp_path, SHORT)


@pytest.mark.slow
@pytest.mark.parametrize("kind", sorted(CASES))
def test_ten_kills_per_kind_resume_identical(kind, tmp_path) -> None:
    done = _kills(kind, 10, 1, tmp_path)
    moments = ", ".join(f"ckpt {d['checkpoint']} rows {d['rows']}" for d in done)
    print(f"\n{kind}: {len(done)} kills, all resumed identical ({moments})")
