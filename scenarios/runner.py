"""Running scenarios: resolve an id or TOML file, run into a run file, print the result."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from neurosoup.chemistry.config import SoupConfig
from neurosoup.chemistry.recorder import open_run, record, resume
from neurosoup.chemistry.soup import Soup
from neurosoup.particles import TYPE_LABELS, ConfigError

from .files import load_scenario_file
from .registry import ScenarioSpec, spec


def parse_sets(items: list[str]) -> dict[str, Any]:
    """``["key=value", …]`` → overrides; values parse as JSON (numbers, true/false, lists)."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set expects key=value, got {item!r}; e.g. --set attack_rate=0.2")
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        out[key.strip()] = value
    return out


def resolve(
    target: str, sets: dict[str, Any] | None = None
) -> tuple[ScenarioSpec, SoupConfig, int | None]:
    """A registered id or a ``.toml`` file (plus ``--set`` overrides) → spec, config, seed."""
    sets = dict(sets or {})
    seed = None
    if target.endswith(".toml") or Path(target).is_file():
        scenario, overrides, seed = load_scenario_file(target)
        overrides.update(sets)
    else:
        scenario, overrides = target, sets
    sc = spec(scenario)
    return sc, sc.resolve(**overrides), seed


def counts_table(counts: dict[str, int], sc: ScenarioSpec, config: SoupConfig | None = None) -> str:
    """The final counts per type beside the scenario's reference figures.

    When ``config`` differs from the registered scenario's, the reference is marked as being
    for the unmodified scenario.
    """
    ref = sc.reference_counts
    modified = config is not None and config != sc.resolve()
    head = ("reference (unmodified scenario)" if modified else "reference") if ref else ""
    lines = [f"{'type':<14}{'ours':>6}   {head}"]
    for label in TYPE_LABELS:
        right = f"{ref.get(label, 0):g}" if ref else ""
        lines.append(f"{label:<14}{counts[label]:>6}   {right}")
    if sc.reference:
        lines.append(f"reference: {sc.reference}")
    return "\n".join(lines)


def run_target(
    target: str,
    *,
    seed: int | None = None,
    steps: int | None = None,
    sets: dict[str, Any] | None = None,
    out: str | None = None,
    overwrite: bool = False,
    device: str | None = None,
    progress: bool = True,
) -> tuple[Soup, ScenarioSpec, float]:
    """Run a scenario (optionally into a run file). Returns the soup, its spec, seconds."""
    sets = dict(sets or {})
    if steps is not None:
        sets["steps"] = steps
    sc, config, file_seed = resolve(target, sets)
    seed = seed if seed is not None else (file_seed if file_seed is not None else 0)
    soup = Soup(config, seed=seed, device=device, scenario=sc.id)
    start = time.perf_counter()
    if out is None:
        soup.run(progress=progress)
    else:
        record(soup, out, overwrite=overwrite, progress=progress)
    return soup, sc, time.perf_counter() - start


def resume_file(path: str, steps: int | None = None, device: str | None = None,
                progress: bool = True) -> tuple[Soup, ScenarioSpec]:  # fmt: skip
    """Resume a run file; its scenario id must be registered."""
    file, meta = open_run(path)
    file.close()
    sc = spec(str(meta.get("scenario")))
    if steps is not None and (isinstance(steps, bool) or steps < 0):
        raise ConfigError(f"--steps must be an int >= 0, got {steps}")
    return resume(path, steps, device=device, progress=progress), sc


__all__ = ["counts_table", "parse_sets", "resolve", "resume_file", "run_target"]
