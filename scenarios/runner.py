"""Running scenarios of any kind: resolve an id or TOML file, run into a run file, print."""

from __future__ import annotations

import json
import time
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

from neurosoup.chemistry.model_kinds import get_kind
from neurosoup.chemistry.recorder import check_writable, open_run_spec, record, resume
from neurosoup.particles import ConfigError

from .files import load_scenario_file
from .registry import ScenarioSpec, spec


def parse_sets(items: list[str]) -> dict[str, Any]:
    """``["key=value", …]`` → overrides; values parse as JSON (numbers, true/false, lists)."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set expects key=value, got {item!r}; e.g. --set attack.rate=0.2")
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        out[key.strip()] = value
    return out


def resolve(
    target: str, sets: dict[str, Any] | None = None
) -> tuple[ScenarioSpec, Any, int | None]:
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


def results_table(result: dict[str, float], sc: ScenarioSpec, config: Any = None) -> str:
    """A run's final figures beside the scenario's reference figures.

    When ``config`` differs from the registered scenario's, the reference is marked as being
    for the unmodified scenario.
    """
    ref = sc.reference_values
    modified = config is not None and config != sc.resolve()
    head = ("reference (unmodified scenario)" if modified else "reference") if ref else ""
    width = max([14, *(len(k) + 2 for k in result)])
    lines = [f"{'':<{width}}{'ours':>10}   {head}"]
    for name, value in result.items():
        right = f"{ref[name]:g}" if ref and name in ref else ""
        lines.append(f"{name:<{width}}{value:>10g}   {right}")
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
    executor: Executor | None = None,
    keep_checkpoints: int | None = None,
) -> tuple[Any, ScenarioSpec, float]:
    """Run a scenario (optionally into a run file). Returns the model, its spec, seconds.

    ``steps`` is the number of model steps for every kind (soup: ticks). ``executor`` runs
    the independent work of a kind that has some (``ModelBase.map_work``).
    """
    sets = dict(sets or {})
    if steps is not None:
        sets["steps"] = steps
    sc, config, file_seed = resolve(target, sets)
    seed = seed if seed is not None else (file_seed if file_seed is not None else 0)
    if out is not None:  # refuse a bad --out before building the model
        check_writable(out, overwrite=overwrite)
    model = get_kind(sc.kind).model(config, seed=seed, device=device, scenario=sc.id)
    model.use_executor(executor)
    start = time.perf_counter()
    if out is None:
        model.run(progress=progress)
    else:
        record(model, out, overwrite=overwrite, progress=progress,
               keep_checkpoints=keep_checkpoints)
    return model, sc, time.perf_counter() - start


def resume_file(path: str, steps: int | None = None, device: str | None = None,
                progress: bool = True, executor: Executor | None = None,
                keep_checkpoints: int | None = None) -> tuple[Any, ScenarioSpec]:  # fmt: skip
    """Resume a run file; its scenario id must be registered."""
    if steps is not None and (isinstance(steps, bool) or steps < 0):
        raise ConfigError(f"--steps must be an int >= 0, got {steps}")
    file, meta = open_run_spec(path)
    file.close()
    name = meta.get("scenario")  # None for a model recorded from a script
    sc = spec(str(name)) if name is not None else ScenarioSpec("(unregistered)", meta["kind"])
    model = resume(path, steps, device=device, progress=progress, executor=executor,
                   keep_checkpoints=keep_checkpoints)
    return model, sc


__all__ = ["parse_sets", "resolve", "results_table", "resume_file", "run_target"]
