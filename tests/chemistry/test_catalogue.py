"""What the operator catalogue promises: unique names, codes and ranks; a twin, a test case
and a docs row for every built-in (so adding one touches kernel, entry, twin and case only)."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from neurosoup.chemistry import catalogue
from neurosoup.chemistry.catalogue_docs import operator_table, with_table
from neurosoup.chemistry.config import SoupConfig
from neurosoup.particles import ConfigError
from tests.chemistry.test_operators import BASE, CASES
from tests.reference.soup import REF_OPERATORS

ROOT = Path(__file__).resolve().parents[2]
OPS = tuple(catalogue.BUILT_INS.values())
FREE_CODE = max(op.code for op in OPS) + 1
FREE_RANK = max(op.rank for op in OPS) + 1


@pytest.mark.parametrize("name", sorted(catalogue.BUILT_INS))
def test_every_built_in_has_a_per_particle_twin(name: str) -> None:
    assert name in REF_OPERATORS, f"write ref_{name} in tests/reference/soup.py"


@pytest.mark.parametrize("name", sorted(catalogue.BUILT_INS))
def test_every_built_in_has_a_test_case(name: str) -> None:
    scheduled = {
        case: {e.name for e in SoupConfig(**{**BASE, **kw}).operators} for case, kw in CASES.items()
    }
    assert any(name in ops for ops in scheduled.values()), (
        f"add a case that schedules `{name}` to CASES in tests/chemistry/test_operators.py"
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": "zap", "code": 8, "rank": FREE_RANK},
         "code 8 is given to both `mutate` and `zap`"),
        ({"name": "zap", "code": FREE_CODE, "rank": 75},
         "rank 75 is given to both `mutate` and `zap`"),
        ({"code": FREE_CODE, "rank": FREE_RANK}, "the name `attack` is given to two built-ins"),
        ({"name": "zap", "code": 100, "rank": FREE_RANK}, "built-in codes are ints in [0, 100)"),
        ({"name": "zap", "code": FREE_CODE, "rank": catalogue.RULE_RANK},
         "the rank of user rules"),
    ],
)
def test_a_duplicate_or_out_of_range_entry_is_refused(change, message) -> None:
    extra = dataclasses.replace(OPS[0], **change)
    with pytest.raises(ConfigError) as err:
        catalogue.check_catalogue((*OPS, extra))
    assert message in str(err.value) and "\n" not in str(err.value)
    assert catalogue.check_catalogue(OPS) == catalogue.BUILT_INS  # the real one passes


def test_a_duplicate_code_fails_at_import(tmp_path) -> None:
    """A copy of the chemistry package whose catalogue gives mutate melt's code cannot load."""
    copy = tmp_path / "chemistry_copy"
    shutil.copytree(Path(catalogue.__file__).parent, copy,
                    ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    source = (copy / "catalogue.py").read_text(encoding="utf-8")
    bad = source.replace('"mutate", 8, 75,', '"mutate", 3, 75,')
    assert bad != source, "the mutate entry moved; update this test's edit"
    (copy / "catalogue.py").write_text(bad, encoding="utf-8")
    run = subprocess.run([sys.executable, "-c", "import chemistry_copy.catalogue"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert run.returncode != 0
    assert "ConfigError: operator catalogue: code 3 is given to both `melt` and `mutate`" in (
        run.stderr
    ), run.stderr[-2000:]


def test_docs_operator_table_is_generated_from_the_catalogue() -> None:
    text = (ROOT / "docs" / "runfile.md").read_text(encoding="utf-8")
    assert with_table(text) == text, (
        "docs/runfile.md's operator table is stale: "
        "run python -m neurosoup.chemistry.catalogue_docs"
    )
    for op in OPS:
        assert f"| {op.code} | `{op.name}` | {op.rank} |" in operator_table()
