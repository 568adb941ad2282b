"""Documentation that runs: every tutorial and the README's examples, and the numbers quoted.

Each page runs in a fresh interpreter (``tests/docs/mdrun.py``) inside a temporary folder that
is also its HOME and TMPDIR; the repository must be unchanged afterwards. The numbers the
prose quotes as `` `name = value` `` must equal what the code printed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.docs import mdrun

ROOT = Path(__file__).resolve().parents[2]
TUTORIALS = sorted((ROOT / "docs" / "tutorials").glob("*.md"))
PAGES = [ROOT / "README.md", *TUTORIALS]
IGNORED = {".git", ".venv", ".pytest_cache", ".ruff_cache", "__pycache__", "site", "build", "runs"}


def tree(root: Path) -> dict[str, tuple[int, int]]:
    """Path → (size, mtime) of the repository's files outside caches and the venv."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in IGNORED and not d.endswith(".egg-info")]
        for name in filenames:
            st = (Path(dirpath) / name).stat()
            out[os.path.relpath(Path(dirpath) / name, root)] = (st.st_size, st.st_mtime_ns)
    return out


def run_page(page: Path, tmp: Path) -> tuple[subprocess.CompletedProcess[str], dict]:
    """Run ``page`` in a fresh interpreter with ``tmp`` as working folder, HOME and TMPDIR."""
    work, home = tmp / "work", tmp / "home"
    for d in (work, home, home / "tmp"):
        d.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.update(HOME=str(home), TMPDIR=str(home / "tmp"), MPLBACKEND="Agg",
               MPLCONFIGDIR=str(home / "mpl"), PYTHONHASHSEED="0",
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}")  # fmt: skip
    report = tmp / "report.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "docs" / "mdrun.py"), str(page),
         "--workdir", str(work), "--report", str(report)],
        cwd=work, env=env, capture_output=True, text=True, timeout=1200, check=False,  # hangs only
    )  # fmt: skip
    data = json.loads(report.read_text()) if report.exists() else {}
    return proc, data


def test_there_are_tutorials() -> None:
    assert len(TUTORIALS) >= 2, "docs/tutorials/ should hold the tutorials"


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_page_runs_and_its_numbers_hold(page: Path, tmp_path: Path) -> None:
    before = tree(ROOT)
    start = time.perf_counter()
    proc, report = run_page(page, tmp_path)
    seconds = time.perf_counter() - start
    assert proc.returncode == 0, (
        f"{page.name} failed after {seconds:.1f} s\n--- stdout (end)\n{proc.stdout[-4000:]}"
        f"\n--- stderr (end)\n{proc.stderr[-6000:]}"
    )
    problems = mdrun.check_quotes(mdrun.parse(page.read_text(encoding="utf-8")), proc.stdout)
    assert not problems, "\n".join(problems)
    after = tree(ROOT)
    created = sorted(set(after) - set(before))  # new files: edits of tracked ones are others'
    assert not created, f"{page.name} wrote into the repository: {created[:10]}"
    print(f"{page.relative_to(ROOT)}: {seconds:.1f} s; skipped: {report.get('skipped')}")


def test_tutorials_quote_numbers_and_set_seeds() -> None:
    for page in TUTORIALS:
        if page.name == "index.md":
            continue
        parsed = mdrun.parse(page.read_text(encoding="utf-8"))
        code = "".join(b.code for b in parsed.blocks)
        assert parsed.quotes, f"{page.name} quotes no printed number"
        assert "seed" in code, f"{page.name} sets no seed"
