"""``ConfigBase``: the JSON round trip every kind's frozen config dataclass shares.

A kind's config (``SoupConfig``, ``OrganismConfig``, ``QuineConfig``, ``EvolutionConfig``) is a
frozen dataclass that validates itself in ``__post_init__`` (or ``__init__``) with
``chemistry/checks.py``. This base gives it, written once:

* ``to_dict()`` — JSON-ready: tuples become lists, nested specs their ``to_dict()``; fields
  named in ``omit_when_empty`` are left out while None or empty (so older run files stay identical);
* ``from_dict(data)`` — a mapping only; an unknown key raises with the closest known one;
  ``_from_json_values`` turns JSON values back into field values (lists → tuples, …);
* ``replace(**changes)`` — a validated copy; ``_merge`` says how changes combine (a soup merges
  ``particle`` field by field and sets ``op.param`` keys);
* ``to_json()`` / ``from_json(text)``.

``noun`` names the kind in messages ("unknown organism setting `n_particles`").
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, ClassVar, TypeVar

from neurosoup.particles import ConfigError

from .checks import suggest, type_name

C = TypeVar("C", bound="ConfigBase")


def _dump(value: Any) -> Any:
    """A field value as plain JSON data (tuples → lists, specs → dicts, dicts copied)."""
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if isinstance(value, tuple | list):
        return [_dump(v) for v in value]
    if isinstance(value, dict):
        return {k: _dump(v) for k, v in value.items()}
    return value


class ConfigBase:
    """Mixin of the config dataclasses: ``to_dict``, ``from_dict``, ``replace``, JSON."""

    #: the kind's name in messages: "unknown {noun} setting", "a {noun} config must be …"
    noun: ClassVar[str] = "model"
    #: fields left out of ``to_dict`` while None or empty (added later: older files stay the same)
    omit_when_empty: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def keys(cls) -> tuple[str, ...]:
        """The settings (dataclass fields), in order."""
        return tuple(f.name for f in dataclasses.fields(cls))  # type: ignore[arg-type]

    # ---- to JSON -------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict of every setting."""
        out: dict[str, Any] = {}
        for name in self.keys():
            value = getattr(self, name)
            if name in self.omit_when_empty and (value is None or value == () or value == []):
                continue
            out[name] = _dump(value)
        return out

    def to_json(self) -> str:
        """The config as a JSON string."""
        return json.dumps(self.to_dict(), sort_keys=True)

    # ---- from JSON -----------------------------------------------------------------------
    @classmethod
    def _check_keys(cls, data: dict[str, Any]) -> None:
        """Refuse a key that is no setting, naming the closest one."""
        known = cls.keys()
        for key in data:
            if key not in known:
                raise ConfigError(
                    f"unknown {cls.noun} setting `{key}`.{suggest(str(key), known)} "
                    f"Known settings: {', '.join(known)}"
                )

    @classmethod
    def _from_json_values(cls, data: dict[str, Any]) -> dict[str, Any]:
        """JSON values → constructor arguments (default: as they are)."""
        return data

    @classmethod
    def from_dict(cls: type[C], data: dict[str, Any]) -> C:
        """Build from ``to_dict`` output (or overrides); unknown keys raise a did-you-mean."""
        if not isinstance(data, dict):
            article = "an" if cls.noun[:1] in "aeiou" else "a"
            raise ConfigError(
                f"{article} {cls.noun} config must be a mapping, got {type_name(data)}"
            )
        cls._check_keys(data)
        return cls(**cls._from_json_values(dict(data)))

    @classmethod
    def from_json(cls: type[C], text: str) -> C:
        """Inverse of ``to_json``."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{cls.noun} config is not valid JSON ({exc})") from None
        return cls.from_dict(data)

    # ---- copies --------------------------------------------------------------------------
    def _merge(self, data: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
        """``to_dict()`` output with ``changes`` applied (default: key by key)."""
        return {**data, **changes}

    def replace(self: C, **changes: Any) -> C:
        """A copy with some settings changed, validated like ``from_dict``."""
        return type(self).from_dict(self._merge(self.to_dict(), changes))


__all__ = ["ConfigBase"]
