"""Analysis sub-commands of the ``neurosoup`` CLI (filled in by the analysis step)."""

from __future__ import annotations

import argparse


def add_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register the analysis sub-commands on the CLI's sub-parser set."""
