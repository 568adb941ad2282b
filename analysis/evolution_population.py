"""The population table of a SeRANN run file, read once per open run (``science/serann.md``).

``/population`` holds one row per individual and generation (columns named in
``particles/runformat/evolution.py``); ``Population`` adds each row's parent and founder rows.
An individual's fitness W (``fitness``) is the paper's W = V·F: V the viable share of the copies
it made, F its fertility, 0 for a dead program. Files written before V was recorded (no
``viability`` column; ``/population`` attribute ``evolution_version`` absent) have W = fertility
(0 for a dead program), and every table built from them says so. ``fitness="fertility"`` (the
analyses' ``--fitness fertility``) uses fertility alone on any file, labelled as such.
"""

from __future__ import annotations

import dataclasses
import difflib
import weakref
from dataclasses import dataclass

import numpy as np
import pandas as pd

from neurosoup.particles import ConfigError
from neurosoup.particles.runformat import evolution as vocab
from neurosoup.particles.serann.genotype import N_BITS

from .load import Run

SCALAR_COLUMNS = vocab.SCALAR_COLUMNS
#: the columns every version has (version 1 lacks ``vocab.FITNESS_COLUMNS``)
_REQUIRED = tuple(c for c in SCALAR_COLUMNS if c not in vocab.FITNESS_COLUMNS)
#: ``paper``: W = V·F (fertility on files that predate V); ``fertility``: F alone
FITNESS = ("paper", "fertility")
LABELS = {
    "paper": "W = V·F (viable share of copies × fertility; 0 if dead)",
    "old": "W = fertility (0 if dead): the file predates V (evolution_version 1)",
    "fertility": "W = fertility (0 if dead; --fitness fertility)",
}


@dataclass(frozen=True)
class Population:
    """The population table of a run, rows sorted by (generation, id).

    Attributes:
        frame: The scalar columns (one row per individual); ``fitness`` is W of the definition
            ``fitness_label`` names, ``fertility_w`` fertility with dead programs at 0.
        bits: Genotypes [R, 100] uint8.
        parent_row: Row of each individual's parent [R] (−1 for founders or unknown parents).
        founder_row: Row of each individual's founder in the first generation [R].
    """

    frame: pd.DataFrame
    bits: np.ndarray
    parent_row: np.ndarray
    founder_row: np.ndarray
    fitness_label: str = LABELS["paper"]
    site_errors: np.ndarray | None = None  # [R, 100] int32; None on files that predate it

    @property
    def has_viability(self) -> bool:
        """True when the file recorded V, P and the site errors (W = V·F; the spectrum)."""
        return self.site_errors is not None

    def with_fitness(self, fitness: str = "paper") -> Population:
        """This table with ``fitness`` = W of ``paper`` (V·F) or ``fertility`` (F alone)."""
        check_fitness(fitness)
        if fitness == "paper":
            return self
        frame = self.frame.copy()
        frame["fitness"] = frame["fertility_w"]
        return dataclasses.replace(self, frame=frame, fitness_label=LABELS["fertility"])

    @property
    def generations(self) -> np.ndarray:
        """The recorded generations, ascending."""
        return np.unique(self.frame["generation"].to_numpy())

    def rows_of(self, g: int) -> np.ndarray:
        """Rows of generation ``g``."""
        return np.flatnonzero(self.frame["generation"].to_numpy() == g)


def check_fitness(fitness: str) -> None:
    """``fitness`` must be ``paper`` or ``fertility`` (one ``ConfigError`` line otherwise)."""
    if fitness not in FITNESS:
        raise ConfigError(f"--fitness must be one of {', '.join(FITNESS)}, got {fitness!r}."
                          f"{_did_you_mean(str(fitness), FITNESS)}")  # fmt: skip


def _did_you_mean(word: str, allowed: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(word, allowed, n=1)
    return f" Did you mean `{close[0]}`?" if close else ""


_CACHE: weakref.WeakKeyDictionary[Run, Population] = weakref.WeakKeyDictionary()


def _check(run: Run) -> None:
    if run.kind != "evolution":
        raise ConfigError(f"{run.path} is a {run.kind} run; this analysis needs an evolution run")


def population_from_columns(cols: dict[str, np.ndarray]) -> Population:
    """Build a ``Population`` from table columns (``genotype`` packed [R, 13])."""
    missing = [c for c in (*_REQUIRED, "genotype") if c not in cols]
    if missing:
        raise ConfigError(f"the population table lacks columns {missing}; is this an evolution "
                          "run file written by `neurosoup run`?")  # fmt: skip
    frame = pd.DataFrame({c: np.asarray(cols[c]) for c in _REQUIRED})
    packed = np.asarray(cols["genotype"], np.uint8).reshape(len(frame), -1)
    order = np.lexsort((frame["id"].to_numpy(), frame["generation"].to_numpy()))
    frame = frame.iloc[order].reset_index(drop=True)
    bits = np.unpackbits(packed[order], axis=1)[:, :N_BITS].astype(np.uint8)
    alive = frame["alive"].to_numpy().astype(bool)
    frame["alive"] = alive
    frame["fertility_w"] = np.where(alive, np.nan_to_num(frame["fertility"].to_numpy(float)), 0.0)
    label = LABELS["paper"]
    if "viability" in cols and "fitness" in cols:
        frame["viability"] = np.asarray(cols["viability"], float)[order]
        frame["fitness"] = np.where(alive, np.asarray(cols["fitness"], float)[order], 0.0)
        spectrum = "n_copies" in cols and "site_errors" in cols  # both since evolution v2
        frame["n_copies"] = np.asarray(cols["n_copies"], np.int64)[order] if spectrum else -1
        errors = (np.asarray(cols["site_errors"], np.int32).reshape(len(frame), -1)[order]
                  if spectrum else None)  # fmt: skip
    else:
        frame["viability"] = np.nan
        frame["fitness"] = frame["fertility_w"]
        frame["n_copies"] = -1
        errors, label = None, LABELS["old"]
    row_of = pd.Series(np.arange(len(frame)), index=frame["id"].to_numpy())
    parent_row = row_of.reindex(frame["parent_id"].to_numpy()).to_numpy()
    parent_row = np.where(np.isnan(parent_row), -1, parent_row).astype(np.int64)
    founder_row = np.arange(len(frame))
    for r in np.flatnonzero(parent_row >= 0):  # rows ascend by generation: parents come first
        founder_row[r] = founder_row[parent_row[r]]
    return Population(frame, bits, parent_row, founder_row, label, errors)


def population(run: Run) -> Population:
    """The run's population table (read once per open run)."""
    _check(run)
    if run not in _CACHE:
        cols = run.table(vocab.POPULATION)
        if not cols:
            raise ConfigError(f"{run.path} has no /population table; it recorded no generation")
        _CACHE[run] = population_from_columns(cols)
    return _CACHE[run]


def architectures(run: Run) -> pd.DataFrame:
    """The ``/architectures`` table: arch, generation first seen, n_params, signature, program."""
    _check(run)
    cols = run.table(vocab.ARCHITECTURES)
    return (
        pd.DataFrame(cols)
        if cols
        else pd.DataFrame(
            {c: [] for c in vocab.ARCHITECTURE_NAMES}
        )
    )


def as_population(data: Run | Population, fitness: str = "paper") -> Population:
    """The population table of ``data`` (a run or a table) with W of the ``fitness`` definition."""
    pop = data if isinstance(data, Population) else population(data)
    return pop.with_fitness(fitness)


__all__ = [
    "FITNESS",
    "LABELS",
    "SCALAR_COLUMNS",
    "Population",
    "architectures",
    "as_population",
    "check_fitness",
    "population",
    "population_from_columns",
]  # fmt: skip
