"""``neurosoup reproduce soup|organism|quine|serann``: the papers' experiments beside theirs.

``organism`` (``organism_rows.py``): float addition, the digits stand-in for MNIST and, at
paper scale where installed, Fashion-MNIST, each against the paper, the re-run of the public
code and the dense re-implementation (``science/organism.md``).

Rows (``science/soup.md`` §7, ``science/particles.md`` §6–8): self-application outcomes,
self-training fixpoints vs steps, robustness of trained and perfect fixpoints (particle core
only); the journal soup, the 2019 soup with respawn, the 2019 mixed soup (training sweep),
the learn-from severity sweep and the soup basins of noisy clones (registered scenarios run by
the soup engine); the 2019 particle kinds, second-order replicators and the melting soup
(``kind_rows.py``). Every row records its scale, seeds and wall time; the table is written as
CSV and Markdown next to the figures (PNG + CSV).
"""

from __future__ import annotations

import sys
import time
from dataclasses import asdict
from pathlib import Path

import pandas as pd

from neurosoup.particles import ConfigError

from .basin_rows import BASIN_ROWS
from .common import SCALES, Result
from .complexity_rows import COMPLEXITY_ROWS
from .kind_rows import KIND_ROWS
from .organism_rows import ORGANISM_ROWS
from .particle_rows import ROWS
from .quine_rows import QUINE_ROWS
from .serann_rows import SERANN_ROWS
from .soup_rows import SOUP_ROWS


def _markdown(table: pd.DataFrame) -> str:
    """A GitHub Markdown table (no extra dependency)."""
    cells = [[str(v).replace("|", "/") for v in row] for row in table.itertuples(index=False)]
    lines = ["| " + " | ".join(table.columns) + " |", "|" + "---|" * len(table.columns)]
    return "\n".join(lines + ["| " + " | ".join(c) + " |" for c in cells])


def _reproduce(
    target: str,
    rows: dict,
    scale: str,
    out: Path | str,
    seed: int,
    only: list[str] | None,
) -> pd.DataFrame:
    """Run the rows of one target; write ``reproduce_<target>.{csv,md}`` into ``out``."""
    if scale not in SCALES:
        raise ConfigError(f"unknown scale {scale!r}; expected one of {', '.join(SCALES)}")
    unknown = sorted(set(only or ()) - set(rows))
    if unknown:  # checked before the folder is made: bad input leaves nothing behind
        raise ConfigError(f"unknown reproduce rows {unknown}; expected some of {', '.join(rows)}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    results: list[Result] = []
    for name, fn in rows.items():
        if only and name not in only:
            continue
        t0 = time.perf_counter()
        lines = fn(scale, seed, out)
        dt = time.perf_counter() - t0
        print(f"reproduce {target}: {name} done in {dt:.1f} s", file=sys.stderr, flush=True)
        for line in lines:
            line.seconds = round(dt, 1)
        results += lines
    table = pd.DataFrame([asdict(r) for r in results])
    table.to_csv(out / f"reproduce_{target}.csv", index=False)
    (out / f"reproduce_{target}.md").write_text(
        f"# neurosoup reproduce {target} (scale {scale}, first seed {seed})\n\n"
        + _markdown(table)
        + "\n",
        encoding="utf-8",
    )
    return table


def reproduce_soup(
    scale: str = "small",
    out: Path | str = "reproduce",
    seed: int = 0,
    only: list[str] | None = None,
) -> pd.DataFrame:
    """Run every soup experiment; write ``reproduce_soup.{csv,md}`` and figures into ``out``.

    Returns the table: row, experiment, measure, ours, reference, source, scale, seeds,
    seconds (seconds: wall time of the whole row, repeated on each of its lines).
    """
    rows = {**ROWS, **SOUP_ROWS, **BASIN_ROWS, **KIND_ROWS, **COMPLEXITY_ROWS}
    return _reproduce("soup", rows, scale, out, seed, only)


def reproduce_organism(
    scale: str = "small",
    out: Path | str = "reproduce",
    seed: int = 0,
    only: list[str] | None = None,
) -> pd.DataFrame:
    """Run the organism experiments; write ``reproduce_organism.{csv,md}``, runs and figures.

    Small scale: addition 2 seeds × 9 epochs, digits 1 seed × 24 epochs (seconds); paper
    scale: addition 10 seeds × 60 epochs, digits 3 seeds × 100 epochs, Fashion-MNIST 1 seed ×
    100 epochs when installed; row ``growth`` (beyond the papers, ``docs/growth.md``): soup-grown
    vs random 2-3-3-1 ONs, 1 seed small, 5 seeds × 60 epochs paper. Same columns as
    ``reproduce_soup``.
    """
    return _reproduce("organism", ORGANISM_ROWS, scale, out, seed, only)


def reproduce_quine(
    scale: str = "small",
    out: Path | str = "reproduce",
    seed: int = 0,
    only: list[str] | None = None,
) -> pd.DataFrame:
    """Run every quine experiment; write ``reproduce_quine.{csv,md}`` and figures into ``out``.

    ``small``: H = 32 quines, well under a minute; ``paper``: the paper's sizes (~15 min on 2
    free cores; hill-climbing's 10,000 epochs are not run, the table says how long they take).
    """
    return _reproduce("quine", QUINE_ROWS, scale, out, seed, only)


def reproduce_serann(
    scale: str = "small",
    out: Path | str = "reproduce",
    seed: int = 0,
    only: list[str] | None = None,
) -> pd.DataFrame:
    """Run a SeRANN evolution and its re-evaluation; write ``reproduce_serann.{csv,md}``.

    ``small``: N = 16 for 12 generations (about a minute); ``paper``: ``serann/evolution-v1``,
    N = 64 for 200 generations (about 45 minutes on 2 cores; a run file already in
    ``out/runs`` with the same settings is reused or resumed). Figures go to
    ``out/serann_figures`` and ``out/serann_epistasis.png``.
    """
    return _reproduce("serann", SERANN_ROWS, scale, out, seed, only)


#: ``neurosoup reproduce TARGET``: target → function(scale, out, seed, only) → table
TARGETS = {"soup": reproduce_soup, "organism": reproduce_organism, "quine": reproduce_quine,
           "serann": reproduce_serann}  # fmt: skip

__all__ = [
    "BASIN_ROWS",
    "COMPLEXITY_ROWS",
    "KIND_ROWS",
    "ORGANISM_ROWS",
    "QUINE_ROWS",
    "ROWS",
    "SCALES",
    "SERANN_ROWS",
    "SOUP_ROWS",
    "TARGETS",
    "Result",
    "reproduce_organism",
    "reproduce_quine",
    "reproduce_serann",
    "reproduce_soup",
]
