"""``neurosoup analyse FILE phylogeny [--csv OUT] [--format csv|newick]``: ALife exports.

CSV (the ALife Data Standard) is streamed chunk by chunk to ``--csv OUT`` or to standard
output; Newick goes through ``alifedata-phyloinformatics-convert`` (extra
``neurosoup[alife]``). Bad input — a kind without lineage, an unknown ``--format``, an
unwritable ``--csv`` — is a ``ConfigError`` (one line, exit 2); a half-written output file is
removed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from neurosoup.analysis import open_run
from neurosoup.analysis.phylogeny import (
    FORMATS,
    csv_text,
    newick,
    phylogeny,
    phylogeny_chunks,
)
from neurosoup.particles import ConfigError


def _open_output(path: str) -> TextIO:
    """Open ``path`` for writing, or one ``ConfigError`` line saying why it cannot be."""
    target = Path(path)
    if target.is_dir():
        raise ConfigError(f"--csv {path} is a folder; give a file name such as {path}/tree.csv")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        return target.open("w", encoding="utf-8", newline="")
    except OSError as exc:
        raise ConfigError(
            f"cannot write --csv {path} ({exc.strerror or exc}); pick a writable path"
        ) from None


def cmd_phylogeny(args: argparse.Namespace) -> int:
    """Export the run's phylogeny (see the module docstring)."""
    fmt = args.format or "csv"
    if args.name != "phylogeny":
        raise ConfigError(f"--format applies to the phylogeny analysis only, not {args.name!r}")
    if fmt not in FORMATS:
        raise ConfigError(f"unknown --format {fmt!r}; expected one of {', '.join(FORMATS)}")
    with open_run(args.file) as run:
        chunks = phylogeny_chunks(run)  # a kind without lineage fails here, before any output
        out = _open_output(args.csv) if args.csv else sys.stdout
        rows = 0
        try:
            if fmt == "newick":
                out.write(newick(phylogeny(run)) + "\n")
            else:
                for i, chunk in enumerate(chunks):
                    out.write(csv_text(chunk, header=i == 0))
                    rows += len(chunk)
        except BaseException:
            if args.csv:
                out.close()
                Path(args.csv).unlink(missing_ok=True)
            raise
        if args.csv:
            out.close()
    if args.csv:
        what = f"{rows} individuals" if fmt == "csv" else "Newick tree"
        print(f"wrote {args.csv} ({what})")
    return 0


__all__ = ["cmd_phylogeny"]
