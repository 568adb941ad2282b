"""One config base for every kind: JSON round trip, did-you-mean keys, validated copies."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import neurosoup.scenarios  # noqa: F401 - registers the scenarios
from neurosoup.chemistry.config_base import ConfigBase
from neurosoup.chemistry.model_kinds import get_kind
from neurosoup.particles import ConfigError
from neurosoup.scenarios import list_scenarios

#: one registered scenario per kind (the first): a new kind is covered without editing this file
SCENARIOS = {}
for _sc in list_scenarios():
    SCENARIOS.setdefault(_sc.kind, _sc)


@pytest.mark.parametrize("kind", sorted(SCENARIOS))
def test_every_kind_config_uses_the_base(kind: str) -> None:
    cls = get_kind(kind).config
    assert issubclass(cls, ConfigBase), f"{cls.__name__} must derive from ConfigBase"
    for name in ("to_dict", "from_dict", "replace", "to_json", "from_json"):
        assert getattr(cls, name).__qualname__.startswith("ConfigBase."), (
            f"{cls.__name__}.{name} overrides the base; use its hooks (_merge, _from_json_values)"
        )


@pytest.mark.parametrize("kind", sorted(SCENARIOS))
def test_round_trip_and_copies(kind: str) -> None:
    config = SCENARIOS[kind].resolve()
    cls = type(config)
    assert cls.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    assert cls.from_json(config.to_json()) == config
    copy = config.replace(steps=config.steps + 1)
    assert copy.steps == config.steps + 1 and config.replace() == config
    assert copy.to_dict() == {**config.to_dict(), "steps": config.steps + 1}
    with pytest.raises(ConfigError, match=r"steps must be an int >= \d"):
        config.replace(steps=-1)


@pytest.mark.parametrize("kind", sorted(SCENARIOS))
def test_unknown_keys_and_bad_input(kind: str) -> None:
    config = SCENARIOS[kind].resolve()
    cls, noun = type(config), type(config).noun
    data = {**config.to_dict(), "stepz": 3}
    data.pop("steps")
    with pytest.raises(ConfigError, match=r"Did you mean `steps`\?") as err:
        cls.from_dict(data)
    assert "stepz" in str(err.value)
    with pytest.raises(ConfigError, match=rf"an? {noun} config must be a mapping, got list"):
        cls.from_dict([1])
    with pytest.raises(ConfigError, match=rf"{noun} config is not valid JSON"):
        cls.from_json("{")


def test_checks_is_the_only_validator_module() -> None:
    """No private ``_int``/``_num``/``_choice`` validators beside ``chemistry/checks.py``."""
    root = Path(__file__).resolve().parents[2] / "chemistry"
    private = re.compile(r"^def _(int|num|number|choice|bool|positive|rate)\(", re.M)
    found = [p.name for p in sorted(root.glob("*.py")) if private.search(p.read_text("utf-8"))]
    assert found == [], f"validators outside checks.py: {found}"
