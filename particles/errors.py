"""The neurosoup error hierarchy.

Every error a user can trigger is a ``NeurosoupError``; its message says what was received,
what was expected and how to fix it. Other rooms import these classes from here and re-export
what their users catch.
"""

from __future__ import annotations


class NeurosoupError(Exception):
    """Base class of every error neurosoup raises on purpose."""


class ConfigError(NeurosoupError, ValueError):
    """A configuration value is out of range, of the wrong type or unknown."""


class ShapeError(NeurosoupError, ValueError):
    """A tensor has the wrong shape, dtype or device."""


class UnknownScenario(NeurosoupError, KeyError):
    """A scenario id is not in the registry."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class InvalidRuleError(NeurosoupError):
    """A user interaction rule failed validation."""


class SnapshotError(NeurosoupError):
    """A run file is not a neurosoup run, is damaged or comes from a newer format."""


class DependencyNotInstalled(NeurosoupError, ImportError):
    """An optional dependency is missing; the message names the install command."""


__all__ = [
    "ConfigError",
    "DependencyNotInstalled",
    "InvalidRuleError",
    "NeurosoupError",
    "ShapeError",
    "SnapshotError",
    "UnknownScenario",
]
