"""The validators of every config and operator parameter: one-line ``ConfigError``s.

The only validator module of ``chemistry/``: soup, organism, quine and evolution configs and
the operator catalogue check their values here, so one kind of mistake reads the same for
every kind.
"""

from __future__ import annotations

import difflib

from neurosoup.particles import ConfigError

PAIRINGS = ("per_actor", "single")


def type_name(value: object) -> str:
    """The type name shown in error messages."""
    return type(value).__name__


def suggest(key: str, allowed: tuple[str, ...] | list[str]) -> str:
    """' Did you mean `x`?' for the closest allowed name, or an empty string."""
    close = difflib.get_close_matches(key, list(allowed), n=1, cutoff=0.6)
    return f" Did you mean `{close[0]}`?" if close else ""


def check_int(name: str, value: object, low: int) -> None:
    """An int ≥ ``low`` (bools are not ints here)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{name} must be an int >= {low}, got {value!r} ({type_name(value)})")
    if value < low:
        raise ConfigError(f"{name} must be an int >= {low}, got {value}")


def check_rate(name: str, value: object) -> None:
    """A probability in [0, 1]."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(
            f"{name} must be a probability in [0, 1], got {value!r} ({type_name(value)}); "
            "pass a number such as 0.1"
        )
    if not 0.0 <= value <= 1.0:
        raise ConfigError(
            f"{name} must be a probability in [0, 1], got {value}; pass a number such as 0.1"
        )


def check_positive(name: str, value: object, *, allow_zero: bool = False) -> None:
    """A finite number > 0 (≥ 0 with ``allow_zero``)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{name} must be a number, got {value!r} ({type_name(value)})")
    ok = value >= 0 if allow_zero else value > 0
    if not ok or value != value or value == float("inf"):
        relation = ">= 0" if allow_zero else "> 0"
        raise ConfigError(f"{name} must be a finite number {relation}, got {value}")


def check_number(
    name: str, value: object, low: float, *, integer: bool = False, strict: bool = False
) -> None:
    """A number (an int with ``integer``) ≥ ``low`` (> ``low`` with ``strict``), not NaN."""
    bad = isinstance(value, bool) or not isinstance(value, int if integer else int | float)
    if bad or not (value > low if strict else value >= low) or value != value:
        what = "an int" if integer else "a number"
        rel = ">" if strict else ">="
        raise ConfigError(f"{name} must be {what} {rel} {low:g}, got {value!r}")


def check_choice(name: str, value: object, allowed: tuple[str, ...]) -> None:
    """One of ``allowed`` (with the closest one suggested)."""
    if value not in allowed:
        raise ConfigError(
            f"{name} must be one of {', '.join(repr(a) for a in allowed)}, got {value!r}."
            f"{suggest(str(value), allowed)}"
        )


def check_bool(name: str, value: object) -> None:
    """True or false."""
    if not isinstance(value, bool):
        raise ConfigError(f"{name} must be true or false, got {value!r} ({type_name(value)})")


__all__ = [
    "PAIRINGS",
    "check_bool",
    "check_choice",
    "check_int",
    "check_number",
    "check_positive",
    "check_rate",
    "suggest",
    "type_name",
]
