"""Named, versioned scenarios: ``register``, ``make``, ``list_scenarios``.

An id reads ``family/name-vN``; bump N whenever a default or an operator changes results. A
``ScenarioSpec`` is data only (overrides of ``SoupConfig`` defaults, a description and the
reference figures to print beside a run's result), so it can be stored as JSON in run files.
Unknown ids and unknown override keys raise with the closest known name.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Any

import torch

from neurosoup.chemistry.config import SoupConfig, merge_overrides
from neurosoup.chemistry.soup import Soup
from neurosoup.particles import ConfigError, UnknownScenario

ID_PATTERN = re.compile(r"^[a-z0-9_]+/[a-z0-9_-]+-v[0-9]+$")
_REGISTRY: dict[str, ScenarioSpec] = {}


@dataclass(frozen=True)
class ScenarioSpec:
    """A registered scenario.

    Attributes:
        id: ``family/name-vN``.
        config: overrides of the ``SoupConfig`` defaults (JSON-ready; ``particle`` a dict).
        description: one line for ``neurosoup list``.
        reference: where the reference figures come from (printed after a run).
        reference_counts: mean final counts per type of the reference, if known.
    """

    id: str
    config: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    reference: str = ""
    reference_counts: dict[str, float] | None = None

    def resolve(self, **overrides: Any) -> SoupConfig:
        """The validated config: defaults ← scenario overrides ← ``overrides``."""
        base = merge_overrides(SoupConfig().to_dict(), self.config)
        return SoupConfig.from_dict(merge_overrides(base, overrides))


def register(
    id: str,
    *,
    config: dict[str, Any] | None = None,
    description: str = "",
    reference: str = "",
    reference_counts: dict[str, float] | None = None,
) -> ScenarioSpec:
    """Add a scenario; its config is validated now, so a bad registration fails at import."""
    if not ID_PATTERN.match(id):
        raise ConfigError(
            f"scenario id {id!r} does not read `family/name-vN`; use e.g. 'soup/journal-v1'"
        )
    if id in _REGISTRY:
        raise ConfigError(f"scenario {id!r} is already registered; bump its version instead")
    spec = ScenarioSpec(id, dict(config or {}), description, reference, reference_counts)
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
) -> Soup:
    """Build the soup of scenario ``id`` with config overrides (``particle`` may be a dict)."""
    config = spec(id).resolve(**overrides)
    return Soup(config, seed=seed, device=device, scenario=id)


__all__ = ["ScenarioSpec", "list_scenarios", "make", "register", "spec"]
