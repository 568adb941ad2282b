from __future__ import annotations

import ast
from pathlib import Path

import neurosoup.analysis

FORBIDDEN = ("neurosoup.chemistry", "neurosoup.scenarios", "chemistry", "scenarios")


def _imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
    return names


def test_analysis_never_imports_chemistry_or_scenarios():
    files = sorted(Path(neurosoup.analysis.__file__).parent.glob("*.py"))
    assert len(files) >= 6
    for path in files:
        bad = [
            n for n in _imports(path) if n.split(".")[0] in FORBIDDEN or n.startswith(FORBIDDEN[:2])
        ]
        assert bad == [], f"{path.name} imports {bad}"


def test_reader_and_writer_agree_on_the_format():
    """One definition: the writer and the reader take the format's names from runformat."""
    from neurosoup.analysis import load
    from neurosoup.chemistry import recorder
    from neurosoup.particles import runformat

    assert recorder.FORMAT is runformat.FORMAT and recorder.FORMAT_VERSION == 2
    assert load.BIRTH_CAUSES is runformat.BIRTH_CAUSES
    assert load.DEATH_CAUSES is runformat.DEATH_CAUSES
