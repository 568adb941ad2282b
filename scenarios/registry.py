"""Named, versioned scenarios: ``register``, ``make``, ``list_scenarios``.

An id reads ``family/name-vN``; bump N whenever a default or an operator changes results. A
``ScenarioSpec`` is data only (its model kind, overrides of that kind's config defaults, a
description and the reference figures to print beside a run's result), so it can be stored as
JSON in run files. The kind names a whitelist entry (``chemistry/model_kinds.py``), never a module.
Unknown ids and unknown override keys raise with the closest known name.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Any

import torch

from neurosoup.chemistry.model_kinds import get_kind
from neurosoup.particles import ConfigError, UnknownScenario

ID_PATTERN = re.compile(r"^[a-z0-9_]+/[a-z0-9_-]+-v[0-9]+$")
_REGISTRY: dict[str, ScenarioSpec] = {}


@dataclass(frozen=True)
class ScenarioSpec:
    """A registered scenario.

    Attributes:
        id: ``family/name-vN``.
        kind: the model kind (``soup``, …): which config and model class run it.
        config: overrides of the kind's config defaults (JSON-ready; ``particle`` a dict).
        description: one line for ``neurosoup list``.
        reference: where the reference figures come from (printed after a run).
        reference_values: the reference's figures by result name (a soup's: counts per
            type), printed beside ours.
    """

    id: str
    kind: str = "soup"
    config: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    reference: str = ""
    reference_values: dict[str, float] | None = None

    def resolve(self, **overrides: Any) -> Any:
        """The validated config: defaults ← scenario overrides ← ``overrides``."""
        defaults = get_kind(self.kind).config()
        return defaults.replace(**self.config).replace(**overrides)


def register(
    id: str,
    *,
    kind: str = "soup",
    config: dict[str, Any] | None = None,
    description: str = "",
    reference: str = "",
    reference_values: dict[str, float] | None = None,
) -> ScenarioSpec:
    """Add a scenario; its config is validated now, so a bad registration fails at import."""
    if not ID_PATTERN.match(id):
        raise ConfigError(
            f"scenario id {id!r} does not read `family/name-vN`; use e.g. 'soup/journal-v1'"
        )
    if id in _REGISTRY:
        raise ConfigError(f"scenario {id!r} is already registered; bump its version instead")
    get_kind(kind, where=f"scenario {id!r}")
    spec = ScenarioSpec(id, kind, dict(config or {}), description, reference, reference_values)
    spec.resolve()
    _REGISTRY[id] = spec
    return spec


def list_scenarios() -> list[ScenarioSpec]:
    """All registered scenarios, sorted by id."""
    return [_REGISTRY[k] for k in sorted(_REGISTRY)]


def spec(id: str) -> ScenarioSpec:
    """The registered scenario ``id``; unknown ids raise ``UnknownScenario`` with a hint."""
    if id in _REGISTRY:
        return _REGISTRY[id]
    base = id.rsplit("-v", 1)[0]
    versions = sorted(k for k in _REGISTRY if k.rsplit("-v", 1)[0] == base)
    if versions:
        hint = f" Versions that exist: {', '.join(f'`{v}`' for v in versions)}."
    else:
        close = difflib.get_close_matches(id, list(_REGISTRY), n=1, cutoff=0.5)
        hint = f" Did you mean `{close[0]}`?" if close else ""
    raise UnknownScenario(
        f"Scenario `{id}` doesn't exist.{hint} Run `neurosoup list` to see all scenarios."
    )


def make(
    id: str,
    seed: int = 0,
    device: torch.device | str | None = None,
    **overrides: Any,
) -> Any:
    """Build the model of scenario ``id`` (its kind's class) with config overrides."""
    sc = spec(id)
    return get_kind(sc.kind).model(sc.resolve(**overrides), seed=seed, device=device, scenario=id)


__all__ = ["ScenarioSpec", "list_scenarios", "make", "register", "spec"]
