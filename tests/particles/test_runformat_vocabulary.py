"""The run-file vocabulary is declared once (``particles/runformat``): no module retypes a path.

Scans the source of every room for string literals (plain or f-string fragments) that spell a
group or series path the vocabulary declares; a hit means a writer or reader typed a name the
format owns.
"""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

from neurosoup.particles import runformat
from neurosoup.particles.runformat import common, evolution, organism, quine, soup

ROOT = Path(__file__).resolve().parents[2]
ROOMS = ("particles", "chemistry", "analysis", "scenarios")
VOCABULARY = (common, soup, organism, quine, evolution)


def _paths() -> set[str]:
    """Every declared path with a ``/`` (``lineage/births``, ``quines/weights``, …)."""
    out = set()
    for module in VOCABULARY:
        for name, value in vars(module).items():
            if name.isupper() and isinstance(value, str) and "/" in value:
                out.add(value)
    return out


def _top_groups(paths: set[str]) -> set[str]:
    return {p.split("/")[0] for p in paths} | {common.OBSERVABLES, common.EVENTS}


def _literals(path: Path) -> list[tuple[int, str]]:
    """(line, text) of every string constant, f-string fragments included."""
    tree = ast.parse(path.read_text(), filename=str(path))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
        and id(node) not in docstrings
    ]  # fmt: skip


def _retyped(text: str, paths: set[str], groups: set[str]) -> bool:
    """Whether a literal spells a declared path, or a group followed by ``/``."""
    bare = text.strip("/")
    return (
        any(p in text for p in paths)
        or any(bare.startswith(f"{g}/") for g in groups)
        or (text.endswith("/") and bare in groups)
    )


def _sources() -> list[Path]:
    files = [p for room in ROOMS for p in sorted((ROOT / room).rglob("*.py"))]
    skip = ("runformat",)  # the vocabulary itself
    return [p for p in files if not any(s in p.relative_to(ROOT).as_posix() for s in skip)]


def test_no_module_retypes_a_declared_path() -> None:
    paths = _paths()
    groups = _top_groups(paths)
    assert {"lineage/births", "quines/weights", "particles/all"} <= paths  # the scan sees them
    hits = []
    for source in _sources():
        for line, text in _literals(source):
            if _retyped(text, paths, groups):
                hits.append(f"{source.relative_to(ROOT)}:{line}: {text!r}")
    assert not hits, "take these names from particles/runformat:\n" + "\n".join(hits)


def test_the_scan_catches_a_retyped_path(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text('G = "lineage/births"\nH = f"/observables/{1}"\n')
    paths = _paths()
    found = [t for _, t in _literals(bad) if _retyped(t, paths, _top_groups(paths))]
    assert found == ["lineage/births", "/observables/"]


@pytest.mark.parametrize("module", VOCABULARY, ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_columns_declare_numpy_dtypes(module: object) -> None:
    for name, value in vars(module).items():
        if name.endswith(("_COLUMNS", "_FIELDS")) and isinstance(value, tuple):
            declared = [c for c in value if isinstance(c, tuple)]
            for column, dtype, *_ in declared:
                assert isinstance(column, str) and np.dtype(dtype).kind in "biufO", (name, column)


def test_package_reexports_the_soup_and_shared_names() -> None:
    assert runformat.PARTICLES is soup.PARTICLES and runformat.EVENTS is common.EVENTS
    assert soup.BIRTH_CAUSES[soup.OFFSPRING] == "offspring"
    assert soup.DEATH_CAUSES[soup.REPLACED] == "replaced"
    assert organism.SNAPSHOT_ARRAYS == ("weights", "ptype", "uid")
    assert common.names(soup.DEATH_COLUMNS) == ("uid", "died_at", "cause")
