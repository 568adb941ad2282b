"""What every ``neurosoup`` sub-command shares: its parser class and its output checks.

* ``NeurosoupParser`` — an ``ArgumentParser`` whose ``error()`` raises ``UsageError``: the CLI
  prints one line, ``error: <what was wrong>; see 'neurosoup run --help'``, and exits 2,
  instead of argparse's usage block. Sub-parsers inherit the class, so every command has it.
* ``add_output(p, "--out", what="folder", ...)`` — declares an option naming a file or
  folder the command writes. ``finish_parser(parser)`` collects the declarations of every
  command once the parser is built; ``check_outputs(args)`` runs ``check_output`` on each,
  before the command does any work (``chemistry/outputs.py``).
"""

from __future__ import annotations

import argparse
import difflib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, NoReturn

from neurosoup.chemistry.outputs import What, check_output
from neurosoup.particles import ConfigError


class UsageError(ConfigError):
    """The command line does not parse (an unknown option, a bad value, a missing argument)."""


class NeurosoupParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line (a ``UsageError``), never a usage block."""

    def error(self, message: str) -> NoReturn:
        """Raise ``UsageError``: what was wrong, a did-you-mean for a bad choice, the help."""
        message = " ".join(message.split())
        bad = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
        if bad:
            options = re.findall(r"'([^']*)'", bad.group(2))
            close = difflib.get_close_matches(bad.group(1), options, n=1)
            if close:
                message += f"; did you mean '{close[0]}'?"
        raise UsageError(f"{message}; see '{self.prog} --help'")

    def parse_args(self, args: Any = None, namespace: Any = None) -> argparse.Namespace:  # type: ignore[override]
        """As argparse's, but an unrecognized argument names the sub-command's help."""
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            prog = getattr(parsed, "neurosoup_prog", self.prog)
            raise UsageError(f"unrecognized arguments: {' '.join(extras)}; see '{prog} --help'")
        return parsed


@dataclass(frozen=True)
class Output:
    """An option naming a file or folder a command writes."""

    dest: str
    option: str
    what: What
    noun: str
    example: str


def add_output(
    p: argparse.ArgumentParser,
    *flags: str,
    what: What,
    noun: str | None = None,
    example: str = "out.h5",
    **kwargs: Any,
) -> argparse.Action:
    """``p.add_argument(*flags, **kwargs)`` for a path the command writes (checked up front).

    ``what`` is ``file`` or ``folder``; ``noun`` names what is written (``run file``);
    ``example`` is a file name suggested when a folder is given for a file. A file output's
    command should offer ``--overwrite``: without it an existing file is refused.
    """
    action = p.add_argument(*flags, **kwargs)
    action.neurosoup_output = Output(  # type: ignore[attr-defined]
        action.dest, flags[0], what, noun or what, example
    )
    return action


def iter_commands(
    parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Every leaf sub-command: (``("ribo", "train")``, its parser); aliases once."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield prefix, parser
        return
    seen: set[int] = set()
    for name, sub in subs[0].choices.items():
        if id(sub) not in seen:
            seen.add(id(sub))
            yield from iter_commands(sub, (*prefix, name))


def outputs_of(parser: argparse.ArgumentParser) -> tuple[Output, ...]:
    """The output options ``add_output`` declared on one command's parser."""
    return tuple(
        a.neurosoup_output for a in parser._actions if hasattr(a, "neurosoup_output")
    )  # type: ignore[attr-defined]


def finish_parser(parser: argparse.ArgumentParser) -> None:
    """Hand each command's name and output declarations to its parsed arguments."""
    for _, sub in iter_commands(parser):
        sub.set_defaults(neurosoup_outputs=outputs_of(sub), neurosoup_prog=sub.prog)


def check_outputs(args: argparse.Namespace) -> None:
    """Refuse the command's output paths before it starts (``ConfigError``, one line)."""
    for out in getattr(args, "neurosoup_outputs", ()):
        path = getattr(args, out.dest, None)
        if path is not None:
            check_output(path, out.what, overwrite=bool(getattr(args, "overwrite", False)),
                         option=out.option, noun=out.noun, example=out.example)  # fmt: skip


__all__ = [
    "NeurosoupParser",
    "Output",
    "UsageError",
    "add_output",
    "check_outputs",
    "finish_parser",
    "iter_commands",
    "outputs_of",
]
