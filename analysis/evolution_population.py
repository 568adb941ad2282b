"""The population table of a SeRANN run file, read once per open run (``science/serann.md``).

``/population`` holds one row per individual and generation (columns named in
``particles/runformat/evolution.py``); ``Population`` adds each row's parent and founder rows.
An individual's fitness ``fitness`` is its fertility, 0 for a dead program.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np
import pandas as pd

from neurosoup.particles import ConfigError
from neurosoup.particles.runformat import evolution as vocab
from neurosoup.particles.serann.genotype import N_BITS

from .load import Run

SCALAR_COLUMNS = vocab.SCALAR_COLUMNS


@dataclass(frozen=True)
class Population:
    """The population table of a run, rows sorted by (generation, id).

    Attributes:
        frame: The scalar columns (one row per individual), plus ``fitness`` = fertility with
            dead programs at 0.
        bits: Genotypes [R, 100] uint8.
        parent_row: Row of each individual's parent [R] (−1 for founders or unknown parents).
        founder_row: Row of each individual's founder in the first generation [R].
    """

    frame: pd.DataFrame
    bits: np.ndarray
    parent_row: np.ndarray
    founder_row: np.ndarray

    @property
    def generations(self) -> np.ndarray:
        """The recorded generations, ascending."""
        return np.unique(self.frame["generation"].to_numpy())

    def rows_of(self, g: int) -> np.ndarray:
        """Rows of generation ``g``."""
        return np.flatnonzero(self.frame["generation"].to_numpy() == g)


_CACHE: weakref.WeakKeyDictionary[Run, Population] = weakref.WeakKeyDictionary()


def _check(run: Run) -> None:
    if run.kind != "evolution":
        raise ConfigError(f"{run.path} is a {run.kind} run; this analysis needs an evolution run")


def population_from_columns(cols: dict[str, np.ndarray]) -> Population:
    """Build a ``Population`` from table columns (``genotype`` packed [R, 13])."""
    missing = [c for c in (*SCALAR_COLUMNS, "genotype") if c not in cols]
    if missing:
        raise ConfigError(f"the population table lacks columns {missing}; is this an evolution "
                          "run file written by `neurosoup run`?")  # fmt: skip
    frame = pd.DataFrame({c: np.asarray(cols[c]) for c in SCALAR_COLUMNS})
    packed = np.asarray(cols["genotype"], np.uint8).reshape(len(frame), -1)
    order = np.lexsort((frame["id"].to_numpy(), frame["generation"].to_numpy()))
    frame = frame.iloc[order].reset_index(drop=True)
    bits = np.unpackbits(packed[order], axis=1)[:, :N_BITS].astype(np.uint8)
    alive = frame["alive"].to_numpy().astype(bool)
    frame["alive"] = alive
    frame["fitness"] = np.where(alive, np.nan_to_num(frame["fertility"].to_numpy(float)), 0.0)
    row_of = pd.Series(np.arange(len(frame)), index=frame["id"].to_numpy())
    parent_row = row_of.reindex(frame["parent_id"].to_numpy()).to_numpy()
    parent_row = np.where(np.isnan(parent_row), -1, parent_row).astype(np.int64)
    founder_row = np.arange(len(frame))
    for r in np.flatnonzero(parent_row >= 0):  # rows ascend by generation: parents come first
        founder_row[r] = founder_row[parent_row[r]]
    return Population(frame, bits, parent_row, founder_row)


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


def as_population(data: Run | Population) -> Population:
    """``data`` itself when it is a ``Population``, else the run's population table."""
    return data if isinstance(data, Population) else population(data)


__all__ = ["SCALAR_COLUMNS", "Population", "architectures", "as_population", "population",
           "population_from_columns"]  # fmt: skip
