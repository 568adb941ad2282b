"""The documentation harness itself: parsing, quotes, failures that must fail."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.docs import mdrun

PAGE = '''# A page

Intro with `not a quote` and `n = 3` and `r2 = 0.912 ± 0.01` and `rate = 2.0 ± 10%`.

```python
n = 3
print(f"n = {n}")
print("r2 = 0.9171")
```

<!-- docs-test: skip needs a cluster -->
```bash
neurosoup sweep x --scheduler tcp://head:8786
```

```toml title="my.toml"
seed = 1
```

```bash
cat my.toml \\
  | grep seed   # a comment
python -c 'print("rate = 2.1")'
```
'''


def test_parse_blocks_quotes_and_markers() -> None:
    page = mdrun.parse(PAGE)
    assert [b.lang for b in page.blocks] == ["python", "bash", "toml", "bash"]
    assert page.blocks[0].line == 6
    assert page.blocks[1].skip == "needs a cluster"
    assert page.blocks[2].title == "my.toml"
    assert [(q.name, q.value) for q in page.quotes] == [("n", "3"), ("r2", "0.912"),
                                                        ("rate", "2.0")]  # fmt: skip
    lines = mdrun.shell_lines(page.blocks[3].code, page.blocks[3].line)
    assert lines[0][1] == "cat my.toml    | grep seed   # a comment"
    assert len(lines) == 2


def test_quote_tolerances() -> None:
    exact = mdrun.Quote("n", "17", 1)
    assert exact.matches(17) and not exact.matches(18) and not exact.matches(17.6)
    digits = mdrun.Quote("x", "0.93", 1)
    assert digits.matches(0.934) and not digits.matches(0.936)
    assert mdrun.Quote("x", "0.9", 1, tol=0.05).matches(0.949)
    assert not mdrun.Quote("x", "0.9", 1, tol=0.05).matches(0.96)
    assert mdrun.Quote("x", "200", 1, tol=10, relative=True).matches(219)
    assert not mdrun.Quote("x", "200", 1, tol=10, relative=True).matches(221)
    assert not mdrun.Quote("x", "1", 1).matches(float("nan"))


def test_check_quotes_names_each_problem() -> None:
    page = mdrun.parse(PAGE)
    assert mdrun.check_quotes(page, "n = 3\nr2 = 0.9171\nrate = 2.1\n") == []
    problems = mdrun.check_quotes(page, "n = 4\nr2 = 0.9171\nr2 = 0.5\n")
    assert len(problems) == 3
    assert "the text says `n = 3`" in problems[0] and "printed 4" in problems[0]
    assert "several values" in problems[1]
    assert "never prints `rate" in problems[2]


def test_page_runs_and_a_failing_block_fails(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(PAGE)
    work = tmp_path / "w"
    work.mkdir()
    script = Path(mdrun.__file__)
    ok = subprocess.run([sys.executable, str(script), str(page), "--workdir", str(work),
                         "--report", str(tmp_path / "r.json")],
                        capture_output=True, text=True, cwd=work, check=False)  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    assert (work / "my.toml").read_text() == "seed = 1\n"
    assert "seed = 1" in ok.stdout and "rate = 2.1" in ok.stdout
    assert mdrun.check_quotes(mdrun.parse(PAGE), ok.stdout) == []

    page.write_text(PAGE.replace('print("r2 = 0.9171")', "raise RuntimeError('drift')"))
    bad = subprocess.run([sys.executable, str(script), str(page), "--workdir", str(work),
                          "--report", str(tmp_path / "r2.json")],
                         capture_output=True, text=True, cwd=work, check=False)  # fmt: skip
    assert bad.returncode != 0
    assert f'File "{page}", line 8' in bad.stderr  # tracebacks name the page's line

    page.write_text(PAGE.replace("| grep seed", "| grep nothing-there"))
    failed = subprocess.run([sys.executable, str(script), str(page), "--workdir", str(work),
                             "--report", str(tmp_path / "r3.json")],
                            capture_output=True, text=True, cwd=work, check=False)  # fmt: skip
    assert failed.returncode != 0
    assert "exited with status 1" in failed.stderr


def test_add_markers_extend_matching_commands() -> None:
    text = ('<!-- docs-test: add "--steps 2" to "neurosoup run" -->\n'
            '<!-- docs-test: add "--set hidden=4" to "neurosoup run quine/" -->\n'
            "```bash\nneurosoup run quine/works-v1 --steps 50   # a quine\nneurosoup list\n```\n")
    block = mdrun.parse(text).blocks[0]
    assert block.adds == [("neurosoup run", "--steps 2"),
                          ("neurosoup run quine/", "--set hidden=4")]  # fmt: skip
    lines = [block.command(line) for _, line in mdrun.shell_lines(block.code, block.line)]
    assert lines == ["neurosoup run quine/works-v1 --steps 50 --steps 2 --set hidden=4  # a quine",
                     "neurosoup list"]  # fmt: skip


def test_unknown_marker_is_an_error() -> None:
    import pytest

    with pytest.raises(ValueError, match="unknown docs-test marker"):
        mdrun.parse("<!-- docs-test: skp typo -->\n```bash\nls\n```\n")


def test_omit_markers_leave_out_matching_commands() -> None:
    text = ('<!-- docs-test: omit "neurosoup reproduce" minutes; tests/analysis test it -->\n'
            "```bash\nneurosoup list\nneurosoup reproduce soup --out r/\n```\n")
    block = mdrun.parse(text).blocks[0]
    assert block.omitted("neurosoup list") is None
    assert block.omitted("neurosoup reproduce soup --out r/") == "minutes; tests/analysis test it"
