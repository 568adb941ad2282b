"""TOML scenario files: ``extends = "soup/journal-v1"`` plus overrides of its settings.

    extends = "soup/journal-v1"
    seed = 3                # optional
    n_particles = 50
    [particle]
    encoding = "per_layer"
    [[operators]]           # the schedule, in tick order (replaces the scenario's)
    name = "attack"
    rate = 0.2
    [[operators]]
    name = "self_train"
    steps = 20

Only registered ids can be extended, and the settings are those of the extended scenario's
kind; unknown keys are rejected with the closest known name. Flat keys of the first soup
config (``attack_rate = 0.2``) still work. Files are parsed with ``tomllib`` into plain values;
nothing in them is executed or imported.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from neurosoup.particles import ConfigError

from .registry import spec

FILE_KEYS = ("extends", "seed", "description")


def load_scenario_file(path: str | Path) -> tuple[str, dict[str, Any], int | None]:
    """Parse a scenario file. Returns (extended scenario id, overrides, seed or None)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"scenario file {path} does not exist; check the path")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"malformed TOML in {path}: {exc}; fix the syntax") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read scenario file {path} ({exc})") from None
    base = data.pop("extends", None)
    if not isinstance(base, str):
        raise ConfigError(
            f'{path} must name the scenario it extends, e.g. extends = "soup/journal-v1"; '
            f"got {base!r}"
        )
    sc = spec(base)  # unknown ids raise UnknownScenario with a suggestion
    seed = data.pop("seed", None)
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
        raise ConfigError(f"seed in {path} must be an int >= 0, got {seed!r}")
    data.pop("description", None)
    try:
        sc.resolve(**data)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    return base, data, seed


__all__ = ["load_scenario_file"]
