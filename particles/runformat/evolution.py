"""The evolution kind's file vocabulary: groups, columns, observables, evaluation files.

The writer (``chemistry/evolution.py``, ``scenarios/evaluate.py``) and the readers
(``analysis/evolution*.py``) take every group and column name of a SeRANN run file and of a
``neurosoup evaluate`` file from here, so each exists once (``docs/runfile.md``).
"""

from __future__ import annotations

from typing import Any

import h5py
import numpy as np

from . import EVALUATION_ATTR

# ---- run files ---------------------------------------------------------------------------------
POPULATION = "population"
ARCHITECTURES = "architectures"
STEP_COLUMN = "generation"
GENOTYPE_BYTES = 13  # 100 bits packed, 4 zero pad bits
N_SITES = 100
STR = h5py.string_dtype()
#: ``/population`` attribute: the evolution tables' version. 1 (absent): W was fertility alone;
#: 2: ``viability``, ``fitness`` (W = V·F), ``n_copies`` (P) and ``site_errors`` per adult,
#: ``mean_fitness`` is the mean of W and ``mean_viability`` is recorded.
VERSION_ATTR = "evolution_version"
EVOLUTION_VERSION = 2

OBSERVABLES = ("mean_fitness", "mean_fertility", "survival", "mutation_rate", "mean_alpha",
               "n_architectures", "n_genotypes", "mean_viability")  # fmt: skip
#: ``/population``: one row per individual and generation
POPULATION_COLUMNS: tuple[tuple[Any, ...], ...] = (
    ("generation", np.int64), ("id", np.int64), ("parent_id", np.int64),
    ("genotype", np.uint8, (GENOTYPE_BYTES,)), ("alpha", np.float64), ("n_params", np.int64),
    ("arch", np.int64), ("alive", np.bool_), ("fertility", np.float64),
    ("accuracy", np.float64), ("copy_error", np.float64), ("n_offspring", np.int64),
    ("n_mutations", np.int64), ("viability", np.float64), ("fitness", np.float64),
    ("n_copies", np.int64), ("site_errors", np.int32, (N_SITES,)),
)  # fmt: skip
#: the columns version 2 added (older files lack them: their W is fertility alone)
FITNESS_COLUMNS = ("viability", "fitness", "n_copies", "site_errors")
#: the 1-D columns of ``/population`` (everything but the packed genotype)
SCALAR_COLUMNS = tuple(c[0] for c in POPULATION_COLUMNS if len(c) == 2)
#: ``/architectures``: one row per architecture, when first seen
ARCHITECTURE_COLUMNS: tuple[tuple[Any, ...], ...] = (
    ("arch", np.int64), ("generation", np.int64), ("n_params", np.int64), ("hash", STR),
    ("signature", STR), ("program", STR),
)  # fmt: skip
ARCHITECTURE_NAMES = tuple(c[0] for c in ARCHITECTURE_COLUMNS)

# ---- ``neurosoup evaluate`` files (plain HDF5, not run files) ----------------------------------
EVALUATION_FORMAT = 1
EVALUATION_TABLES = ("samples", "trainings", "copies", "mutants", "mutant_trainings")
#: the tables every evaluation file has (the last two only with epistasis)
EVALUATION_REQUIRED = EVALUATION_TABLES[:3]

__all__ = [
    "ARCHITECTURES",
    "ARCHITECTURE_COLUMNS",
    "ARCHITECTURE_NAMES",
    "EVALUATION_ATTR",
    "EVALUATION_FORMAT",
    "EVALUATION_REQUIRED",
    "EVALUATION_TABLES",
    "EVOLUTION_VERSION",
    "FITNESS_COLUMNS",
    "GENOTYPE_BYTES",
    "N_SITES",
    "OBSERVABLES",
    "POPULATION",
    "POPULATION_COLUMNS",
    "SCALAR_COLUMNS",
    "STEP_COLUMN",
    "STR",
    "VERSION_ATTR",
]
