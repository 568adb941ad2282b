"""``SoupConfig``: the frozen, validated configuration of one soup (``science/soup.md``).

Every operator has a rate (0 disables it) and a pairing mode: ``per_actor`` (every living
particle acts with probability p) or ``single`` (the journal's "at most one event per tick with
chance p"). The config holds numbers and strings only, so it round-trips through JSON.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
from dataclasses import dataclass, field
from typing import Any

from neurosoup.particles import ConfigError, ParticleSpec

PAIRINGS = ("per_actor", "single")
TRAIN_MODES = ("full", "epoch")
MELT_MODES = ("in_place", "offspring")
DTYPES = ("float32", "float64")
#: Built-in operators that take a rate, in tick order (self_train and respawn are separate).
RATED_OPERATORS = ("attack", "apply_to_other", "learn_from", "melt", "merge", "self_apply")


def _type_name(value: object) -> str:
    return type(value).__name__


def _check_int(name: str, value: object, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{name} must be an int >= {low}, got {value!r} ({_type_name(value)})")
    if value < low:
        raise ConfigError(f"{name} must be an int >= {low}, got {value}")


def _check_rate(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(
            f"{name} must be a probability in [0, 1], got {value!r} ({_type_name(value)}); "
            "pass a number such as 0.1"
        )
    if not 0.0 <= value <= 1.0:
        raise ConfigError(
            f"{name} must be a probability in [0, 1], got {value}; pass a number such as 0.1"
        )


def _check_positive(name: str, value: object, *, allow_zero: bool = False) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{name} must be a number, got {value!r} ({_type_name(value)})")
    ok = value >= 0 if allow_zero else value > 0
    if not ok or value != value or value == float("inf"):
        relation = ">= 0" if allow_zero else "> 0"
        raise ConfigError(f"{name} must be a finite number {relation}, got {value}")


def _check_choice(name: str, value: object, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ConfigError(
            f"{name} must be one of {', '.join(repr(a) for a in allowed)}, got {value!r}"
        )


def _check_bool(name: str, value: object) -> None:
    if not isinstance(value, bool):
        raise ConfigError(f"{name} must be true or false, got {value!r} ({_type_name(value)})")


@dataclass(frozen=True)
class SoupConfig:
    """Everything that defines a soup's dynamics and its recording cadence.

    Args:
        particle: architecture shared by all particles.
        n_particles: population size N (constant unless offspring melt replaces particles).
        steps: planned number of ticks of a run.
        dtype: ``float32`` or ``float64`` weights.
        epsilon: ε of the classification; ``strict`` uses |·| < ε instead of ≤ ε.
        attack_rate, apply_to_other_rate, learn_from_rate, melt_rate, merge_rate,
        self_apply_rate: probability p of each operator (0 disables it).
        attack_pairing, …: ``per_actor`` or ``single`` for each operator.
        learn_from_severity: steps (``full``) or passes (``epoch``) per learn_from event.
        melt_mode: ``in_place`` (uid unchanged) or ``offspring`` (child replaces a third one).
        train_steps: self-train steps (or passes) per tick, 0 disables self-training.
        train_mode: ``full`` (one full-batch step) or ``epoch`` (P single-sample steps).
        lr, momentum: SGD learning rate and momentum of self-train and learn_from.
        respawn_divergent, respawn_zero: replace divergent / zero particles at tick end.
        rules: names of registered pair rules run after merge (``chemistry.rules``).
        snapshot_every: k, particle snapshots every k ticks (and at step 0).
        checkpoint_every: m, checkpoint every m ticks (and at the end of a run).
    """

    particle: ParticleSpec = field(default_factory=ParticleSpec)
    n_particles: int = 20
    steps: int = 100
    dtype: str = "float32"
    epsilon: float = 1e-5
    strict: bool = False
    attack_rate: float = 0.0
    attack_pairing: str = "single"
    apply_to_other_rate: float = 0.0
    apply_to_other_pairing: str = "per_actor"
    learn_from_rate: float = 0.0
    learn_from_pairing: str = "per_actor"
    learn_from_severity: int = 1
    melt_rate: float = 0.0
    melt_pairing: str = "single"
    melt_mode: str = "in_place"
    merge_rate: float = 0.0
    merge_pairing: str = "per_actor"
    self_apply_rate: float = 0.0
    self_apply_pairing: str = "per_actor"
    train_steps: int = 20
    train_mode: str = "full"
    lr: float = 0.04
    momentum: float = 0.0
    respawn_divergent: bool = False
    respawn_zero: bool = False
    rules: tuple[str, ...] = ()
    snapshot_every: int = 1
    checkpoint_every: int = 10

    def __post_init__(self) -> None:
        if not isinstance(self.particle, ParticleSpec):
            raise ConfigError(
                f"particle must be a ParticleSpec, got {_type_name(self.particle)}; "
                "pass ParticleSpec(...) or a dict of its fields to SoupConfig.from_dict"
            )
        _check_int("n_particles", self.n_particles, 2)
        _check_int("steps", self.steps, 0)
        _check_choice("dtype", self.dtype, DTYPES)
        _check_positive("epsilon", self.epsilon)
        _check_bool("strict", self.strict)
        for op in RATED_OPERATORS:
            _check_rate(f"{op}_rate", getattr(self, f"{op}_rate"))
            _check_choice(f"{op}_pairing", getattr(self, f"{op}_pairing"), PAIRINGS)
        _check_int("learn_from_severity", self.learn_from_severity, 1)
        _check_choice("melt_mode", self.melt_mode, MELT_MODES)
        if self.melt_mode == "offspring" and self.melt_rate > 0 and self.n_particles < 3:
            raise ConfigError(
                f"melt_mode 'offspring' needs n_particles >= 3, got {self.n_particles}"
            )
        _check_int("train_steps", self.train_steps, 0)
        _check_choice("train_mode", self.train_mode, TRAIN_MODES)
        _check_positive("lr", self.lr)
        _check_positive("momentum", self.momentum, allow_zero=True)
        _check_bool("respawn_divergent", self.respawn_divergent)
        _check_bool("respawn_zero", self.respawn_zero)
        if isinstance(self.rules, list):
            object.__setattr__(self, "rules", tuple(self.rules))
        if not isinstance(self.rules, tuple) or not all(isinstance(r, str) for r in self.rules):
            raise ConfigError(f"rules must be a list of rule names, got {self.rules!r}")
        _check_int("snapshot_every", self.snapshot_every, 1)
        _check_int("checkpoint_every", self.checkpoint_every, 1)

    # ---- derived ---------------------------------------------------------------------------
    def enabled(self) -> list[str]:
        """Rated built-in operators with a rate > 0, in tick order."""
        return [op for op in RATED_OPERATORS if getattr(self, f"{op}_rate") > 0]

    @property
    def respawn(self) -> bool:
        """True when any respawn flag is set."""
        return self.respawn_divergent or self.respawn_zero

    def replace(self, **changes: Any) -> SoupConfig:
        """A copy with some fields changed (validated like ``from_dict``)."""
        data = self.to_dict()
        _merge(data, changes)
        return SoupConfig.from_dict(data)

    # ---- JSON ------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; the particle spec is a nested dict."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name == "particle":
                value = value.to_dict()
            elif f.name == "rules":
                value = list(value)
            out[f.name] = value
        return out

    def to_json(self) -> str:
        """The config as a JSON string."""
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SoupConfig:
        """Build a config from ``to_dict`` output; unknown keys raise with a suggestion."""
        if not isinstance(data, dict):
            raise ConfigError(f"a soup config must be a mapping, got {_type_name(data)}")
        check_keys(data)
        kwargs = dict(data)
        if "particle" in kwargs:
            particle = kwargs["particle"]
            if isinstance(particle, dict):
                check_keys(particle, particle=True)
                kwargs["particle"] = ParticleSpec(**particle)
        if "rules" in kwargs and isinstance(kwargs["rules"], list):
            kwargs["rules"] = tuple(kwargs["rules"])
        return cls(**kwargs)

    @classmethod
    def from_json(cls, text: str) -> SoupConfig:
        """Inverse of ``to_json``."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"soup config is not valid JSON ({exc})") from None
        return cls.from_dict(data)


CONFIG_KEYS = tuple(f.name for f in dataclasses.fields(SoupConfig))
PARTICLE_KEYS = tuple(f.name for f in dataclasses.fields(ParticleSpec))


def suggest(key: str, allowed: tuple[str, ...] | list[str]) -> str:
    """' Did you mean `x`?' for the closest allowed name, or an empty string."""
    close = difflib.get_close_matches(key, list(allowed), n=1, cutoff=0.6)
    return f" Did you mean `{close[0]}`?" if close else ""


def check_keys(data: dict[str, Any], *, particle: bool = False) -> None:
    """Raise ``ConfigError`` naming the first unknown key and the closest known one."""
    allowed = PARTICLE_KEYS if particle else CONFIG_KEYS
    prefix = "particle." if particle else ""
    for key in data:
        if key not in allowed:
            raise ConfigError(
                f"unknown soup setting `{prefix}{key}`."
                f"{suggest(prefix + str(key), [prefix + a for a in allowed])} "
                f"Known settings: {', '.join(prefix + a for a in allowed)}"
            )


def _merge(base: dict[str, Any], changes: dict[str, Any]) -> None:
    """Merge ``changes`` into ``base`` in place; ``particle`` dicts merge field by field."""
    for key, value in changes.items():
        if key == "particle" and isinstance(value, ParticleSpec):
            value = value.to_dict()
        if key == "particle" and isinstance(value, dict) and isinstance(base.get(key), dict):
            check_keys(value, particle=True)
            base[key] = {**base[key], **value}
        else:
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
    "MELT_MODES",
    "PAIRINGS",
    "RATED_OPERATORS",
    "TRAIN_MODES",
    "SoupConfig",
    "check_keys",
    "merge_overrides",
    "suggest",
]
