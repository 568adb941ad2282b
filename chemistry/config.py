"""``SoupConfig``: the frozen, validated configuration of one soup (``science/soup.md``).

A soup's dynamics are its *schedule*: an ordered list of operators from the catalogue
(``chemistry/catalogue.py``), each with every parameter resolved, run in that order each tick:

    [[operators]]
    name = "attack"
    rate = 0.1
    pairing = "single"
    [[operators]]
    name = "self_train"
    steps = 20

Overrides address one parameter as ``attack.rate`` (``--set attack.rate=0.2``); an operator
named this way that is not in the schedule is inserted at its default place in the tick. The
flat keys of the first config (``attack_rate``, ``learn_from_severity``, ``train_steps``,
``respawn_zero``, ``rules = [...]``) are read as the same overrides. An operator whose rate
(steps, flags) disables it is dropped, so the stored schedule lists what runs. The config holds
numbers and strings only, so it round-trips through JSON.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any, ClassVar

from neurosoup.particles import ConfigError, ParticleSpec

from . import catalogue
from .catalogue import MELT_MODES, TRAIN_MODES
from .checks import (
    PAIRINGS,
    check_bool,
    check_choice,
    check_int,
    check_positive,
    suggest,
    type_name,
)
from .config_base import ConfigBase

DTYPES = ("float32", "float64")


@dataclass(frozen=True)
class OperatorSpec:
    """One schedule entry: an operator's name and its resolved parameters (name, value)."""

    name: str
    params: tuple[tuple[str, Any], ...] = ()

    def __getitem__(self, key: str) -> Any:
        return dict(self.params)[key]

    def as_dict(self) -> dict[str, Any]:
        """The parameters as a dict."""
        return dict(self.params)

    def to_dict(self) -> dict[str, Any]:
        """``{"name": …, <param>: …}``, the TOML/JSON form."""
        return {"name": self.name, **dict(self.params)}


_DEFAULT_PARTICLE = ParticleSpec()
DEFAULT_SCHEDULE = (OperatorSpec("self_train", (("steps", 20),)),)
#: the settings besides the schedule, with their defaults (the dataclass fields below)
_CORE = ("particle", "n_particles", "steps", "dtype", "epsilon", "strict", "lr", "momentum",
         "train_mode", "snapshot_every", "checkpoint_every", "operators")  # fmt: skip


@dataclass(frozen=True, init=False)
class SoupConfig(ConfigBase):
    """Everything that defines a soup's dynamics and its recording cadence.

    Args:
        particle: architecture shared by all particles.
        n_particles: population size N (constant unless offspring melt replaces particles).
        steps: planned number of ticks of a run.
        dtype: ``float32`` or ``float64`` weights.
        epsilon: ε of the classification; ``strict`` uses |·| < ε instead of ≤ ε.
        lr, momentum: SGD learning rate and momentum of the particles (self_train, learn_from).
        train_mode: ``full`` (one full-batch step) or ``epoch`` (P single-sample steps).
        operators: the schedule (``OperatorSpec`` entries or dicts ``{"name": …, …}``).
        snapshot_every: k, particle snapshots every k ticks (and at step 0).
        checkpoint_every: m, checkpoint every m ticks (and at the end of a run).
        **overrides: ``op.param`` keys and the flat keys of the first config (module doc).
    """

    particle: ParticleSpec = _DEFAULT_PARTICLE
    n_particles: int = 20
    steps: int = 100
    dtype: str = "float32"
    epsilon: float = 1e-5
    strict: bool = False
    lr: float = 0.04
    momentum: float = 0.0
    train_mode: str = "full"
    snapshot_every: int = 1
    checkpoint_every: int = 10
    operators: tuple[OperatorSpec, ...] = field(default=DEFAULT_SCHEDULE)
    noun: ClassVar[str] = "soup"

    def __init__(self, **settings: Any) -> None:
        core = {k: settings.pop(k) for k in list(settings) if k in _CORE}
        for name in _CORE:
            default = getattr(type(self), name)
            object.__setattr__(self, name, core.get(name, default))
        if not isinstance(self.particle, ParticleSpec):
            raise ConfigError(
                f"particle must be a ParticleSpec, got {type_name(self.particle)}; "
                "pass ParticleSpec(...) or a dict of its fields to SoupConfig.from_dict"
            )
        check_int("n_particles", self.n_particles, 2)
        check_int("steps", self.steps, 0)
        check_choice("dtype", self.dtype, DTYPES)
        check_positive("epsilon", self.epsilon)
        check_bool("strict", self.strict)
        check_positive("lr", self.lr)
        check_positive("momentum", self.momentum, allow_zero=True)
        check_choice("train_mode", self.train_mode, TRAIN_MODES)
        check_int("snapshot_every", self.snapshot_every, 1)
        check_int("checkpoint_every", self.checkpoint_every, 1)
        entries = _parse_schedule(self.operators)
        for key, value in settings.items():
            _set_param(entries, key, value)
        object.__setattr__(self, "operators", _resolve_schedule(entries))
        for entry in self.operators:
            catalogue.lookup(entry.name).check_particle(self.particle)
        melt = self.op("melt")
        if melt is not None and melt["mode"] == "offspring" and self.n_particles < 3:
            raise ConfigError(
                f"melt mode 'offspring' needs n_particles >= 3, got {self.n_particles}"
            )

    # ---- the schedule ----------------------------------------------------------------------
    def op(self, name: str) -> OperatorSpec | None:
        """The schedule entry of operator ``name``, or None when it does not run."""
        return next((e for e in self.operators if e.name == name), None)

    @property
    def rules(self) -> tuple[str, ...]:
        """Names of the user rules in the schedule, in order."""
        return tuple(e.name for e in self.operators if e.name not in catalogue.BUILT_INS)

    # ---- JSON (``ConfigBase``): the particle spec merges field by field --------------------
    def _merge(self, data: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
        """``particle`` dicts merge field by field; ``op.param`` and flat keys are settings."""
        return merge_overrides(data, changes)

    @classmethod
    def _check_keys(cls, data: dict[str, Any]) -> None:
        check_keys(data)

    @classmethod
    def _from_json_values(cls, data: dict[str, Any]) -> dict[str, Any]:
        """The particle spec from its dict (its keys checked with a did-you-mean)."""
        particle = data.get("particle")
        if isinstance(particle, dict):
            check_keys(particle, particle=True)
            data["particle"] = ParticleSpec(**particle)
        return data


# ---- schedule parsing ---------------------------------------------------------------------------
def _parse_schedule(value: Any) -> list[tuple[str, dict[str, Any]]]:
    """``operators`` (specs or dicts) → [(name, given params)], checked for form only."""
    if not isinstance(value, list | tuple):
        raise ConfigError(
            f"operators must be a list of operator entries, got {type_name(value)}; e.g. "
            '[{"name": "attack", "rate": 0.1}] or [[operators]] tables in TOML'
        )
    out: list[tuple[str, dict[str, Any]]] = []
    for entry in value:
        if isinstance(entry, OperatorSpec):
            out.append((entry.name, entry.as_dict()))
            continue
        if not isinstance(entry, dict) or "name" not in entry:
            raise ConfigError(
                f"each operator entry needs a name, e.g. {{\"name\": \"attack\", \"rate\": 0.1}}"
                f"; got {entry!r}"
            )
        params = dict(entry)
        out.append((params.pop("name"), params))
    return out


def _set_param(entries: list[tuple[str, dict[str, Any]]], key: str, value: Any) -> None:
    """Apply one ``op.param`` or flat key to the schedule (inserting the operator if absent)."""
    if key == "rules":
        if isinstance(value, str) or not isinstance(value, list | tuple):
            raise ConfigError(f"rules must be a list of rule names, got {value!r}")
        for name in value:
            if not isinstance(name, str):
                raise ConfigError(f"rules must be a list of rule names, got {value!r}")
            if not any(n == name for n, _ in entries):
                _insert(entries, name, {})
        return
    if "." in key:
        name, _, param = key.partition(".")
        catalogue.lookup(name)
    else:
        found = catalogue.legacy_key(key)
        if found is None:
            raise _unknown(key)
        name, param = found
    op = catalogue.lookup(name)
    if param not in op.param_names():
        op.resolve({param: value})  # raises the did-you-mean on the parameter name
    for n, params in entries:
        if n == name:
            params[param] = value
            return
    # a flat key of the first config that names an absent operator: its old defaults
    base: dict[str, Any] = {"rate": 0.0} if "rate" in op.param_names() and "." not in key else {}
    if name == "self_train" and "." not in key:
        base = {"steps": 0}
    _insert(entries, name, {**base, param: value})


def _insert(entries: list[tuple[str, dict[str, Any]]], name: str, params: dict[str, Any]) -> None:
    """Insert an operator at its default place: after the last entry of lower or equal rank."""
    rank = catalogue.lookup(name).rank
    at = 0
    for i, (n, _) in enumerate(entries):
        if _rank(n) <= rank:
            at = i + 1
    entries.insert(at, (name, params))


def _rank(name: str) -> int:
    try:
        return catalogue.lookup(name).rank
    except ConfigError:
        return catalogue.RULE_RANK


def _resolve_schedule(entries: list[tuple[str, dict[str, Any]]]) -> tuple[OperatorSpec, ...]:
    """Every entry resolved (defaults, checks); disabled ones dropped; no name twice."""
    out: list[OperatorSpec] = []
    seen: set[str] = set()
    for name, given in entries:
        op = catalogue.lookup(name)
        params = op.resolve(given)
        if name in seen:
            raise ConfigError(
                f"operator `{name}` appears twice in the schedule; list it once (set its "
                "parameters in that one entry)"
            )
        seen.add(name)
        if op.enabled(params):
            out.append(OperatorSpec(name, tuple(params.items())))
    return tuple(out)


CONFIG_KEYS = _CORE
PARTICLE_KEYS = tuple(f.name for f in dataclasses.fields(ParticleSpec))


def known_keys() -> tuple[str, ...]:
    """Every top-level key a soup config or override accepts (for suggestions)."""
    return (*_CORE, "rules", *catalogue.legacy_keys())


def _unknown(key: str) -> ConfigError:
    known = known_keys()
    return ConfigError(
        f"unknown soup setting `{key}`.{suggest(key, known)} Settings: {', '.join(_CORE)}; "
        "operator parameters as op.param (e.g. attack.rate); `neurosoup show ID` lists a "
        "scenario's"
    )


def check_keys(data: dict[str, Any], *, particle: bool = False) -> None:
    """Raise ``ConfigError`` naming the first unknown key and the closest known one."""
    if particle:
        for key in data:
            if key not in PARTICLE_KEYS:
                raise ConfigError(
                    f"unknown soup setting `particle.{key}`."
                    f"{suggest('particle.' + str(key), ['particle.' + a for a in PARTICLE_KEYS])}"
                    f" Known settings: {', '.join('particle.' + a for a in PARTICLE_KEYS)}"
                )
        return
    for key in data:
        if key in _CORE or key == "rules":
            continue
        if not isinstance(key, str):
            raise _unknown(str(key))
        if "." in key:
            name, _, param = key.partition(".")
            if name == "particle":
                check_keys({param: None}, particle=True)
                continue
            op = catalogue.lookup(name)
            if param not in op.param_names():
                op.resolve({param: None})
        elif catalogue.legacy_key(key) is None:
            raise _unknown(key)


def _merge(base: dict[str, Any], changes: dict[str, Any]) -> None:
    """Merge ``changes`` into ``base`` in place; ``particle`` dicts merge field by field."""
    for key, value in changes.items():
        if key == "particle" and isinstance(value, ParticleSpec):
            value = value.to_dict()
        if key == "particle" and isinstance(value, dict) and isinstance(base.get(key), dict):
            check_keys(value, particle=True)
            base[key] = {**base[key], **value}
        else:
            base.pop(key, None)  # a key set again moves to the end: overrides apply in order
            base[key] = value


def merge_overrides(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``base`` with ``changes`` merged (dotted ``particle.x`` keys allowed)."""
    out = json.loads(json.dumps(base))
    nested: dict[str, Any] = {}
    for key, value in changes.items():
        if key.startswith("particle."):
            nested.setdefault("particle", {})[key.split(".", 1)[1]] = value
        else:
            nested[key] = value
    _merge(out, nested)
    return out


__all__ = [
    "CONFIG_KEYS",
    "DTYPES",
    "MELT_MODES",
    "PAIRINGS",
    "TRAIN_MODES",
    "OperatorSpec",
    "SoupConfig",
    "check_keys",
    "known_keys",
    "merge_overrides",
    "suggest",
]
