"""No code execution or unpickling anywhere in the package source."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("particles", "chemistry", "scenarios", "analysis")
BANNED_CALLS = {"exec", "eval", "compile", "__import__"}
BANNED_MODULES = {"pickle", "cPickle", "dill", "marshal", "shelve", "joblib"}


def violations(source: str, name: str = "<src>") -> list[str]:
    """Banned calls and imports in ``source`` (string literals are never flagged)."""
    found = []
    for node in ast.walk(ast.parse(source, name)):
        where = f"{name}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id in BANNED_CALLS:
                found.append(f"{where} {func.id}(")
            if isinstance(func, ast.Attribute):
                base = func.value.id if isinstance(func.value, ast.Name) else None
                if func.attr in BANNED_CALLS and base == "builtins":
                    found.append(f"{where} builtins.{func.attr}(")
                if base in BANNED_MODULES and func.attr in {"load", "loads", "Unpickler"}:
                    found.append(f"{where} {base}.{func.attr}")
                if base == "torch" and func.attr == "load":
                    safe = any(
                        kw.arg == "weights_only"
                        and isinstance(kw.value, ast.Constant)
                        and kw.value.value is True
                        for kw in node.keywords
                    )
                    if not safe:
                        found.append(f"{where} torch.load without weights_only=True")
                if func.attr == "load" and any(
                    kw.arg == "allow_pickle"
                    and not (isinstance(kw.value, ast.Constant) and kw.value.value is False)
                    for kw in node.keywords
                ):
                    found.append(f"{where} load with allow_pickle")
        elif isinstance(node, ast.Import | ast.ImportFrom):
            mods = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module]
            bad = [m for m in mods if m and m.split(".")[0] in BANNED_MODULES]
            found += [f"{where} import {m}" for m in bad]
    return found


def test_scanner_catches_the_banned_forms() -> None:
    bad = (
        "import pickle\nexec('x')\neval('1')\nx = pickle.load(f)\n"
        "y = torch.load(p)\nz = torch.load(p, weights_only=False)\nnp.load(p, allow_pickle=True)\n"
    )
    assert len(violations(bad)) == 7
    ok = "s = 'exec(eval(pickle.load'\nm.eval()\nw = torch.load(p, weights_only=True)\n"
    assert violations(ok) == []


@pytest.mark.parametrize("folder", SCANNED)
def test_package_source_is_clean(folder: str) -> None:
    files = sorted((ROOT / folder).rglob("*.py"))
    if folder == "particles":
        assert any(f.name == "program.py" for f in files)
    found = [v for f in files for v in violations(f.read_text(), str(f.relative_to(ROOT)))]
    assert found == []
