"""Files of ``neurosoup evaluate``: deep re-evaluations of sampled genotypes (plain HDF5).

``read_evaluation`` reads one (names from ``particles/runformat/evolution.py``; nothing is
executed), ``evaluation_summary`` gives each genotype's mean ± sd over its trainings and
``developmental_noise`` the share of a measure's variance that independent trainings of one
genotype produce.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np
import pandas as pd

from neurosoup.particles import ConfigError
from neurosoup.particles.runformat import evolution as vocab

EVALUATION_ATTR = vocab.EVALUATION_ATTR
EVALUATION_TABLES = vocab.EVALUATION_TABLES
#: per training; ``fitness`` (W = V·F) from evaluate format 2 on
EVALUATION_MEASURES = ("accuracy", "fertility", "mutations", "survival", "fitness")


@dataclass(frozen=True)
class Evaluation:
    """A ``neurosoup evaluate`` file: its metadata and its three tables.

    Attributes:
        meta: Source file, generation, seed, K, R, copies, train steps, the seeds' derivation.
        samples: One row per re-evaluated genotype (``hex`` added from the packed genotype).
        trainings: One row per (sample, training): seed, accuracy, fertility, copy error,
            mean mutations per copy, survival of the copies.
        copies: One row per copy: sample, training, copy, n_mutations, alive.
        mutants: Epistasis only (else None): one row per mutant of the background (mutant,
            site_a, site_b, alive, n_params, alpha, ``hex``).
        mutant_trainings: Epistasis only: one row per (living mutant, training): mutant,
            training, seed, accuracy, fertility.
    """

    meta: dict
    samples: pd.DataFrame
    trainings: pd.DataFrame
    copies: pd.DataFrame
    mutants: pd.DataFrame | None = None
    mutant_trainings: pd.DataFrame | None = None


def read_evaluation(path: str | Path) -> Evaluation:
    """Read a file written by ``neurosoup evaluate`` (plain HDF5; nothing is executed)."""
    try:
        file = h5py.File(path, "r")
    except OSError as exc:
        raise ConfigError(f"cannot read {path} as an evaluation file ({exc}); write one with "
                          "`neurosoup evaluate RUN.h5 --out FILE`") from None  # fmt: skip
    with file:
        if EVALUATION_ATTR not in file.attrs:
            raise ConfigError(f"{path} is not a `neurosoup evaluate` file (no "
                              f"{EVALUATION_ATTR} attribute)")  # fmt: skip
        meta = json.loads(file.attrs[EVALUATION_ATTR])
        missing = [n for n in vocab.EVALUATION_REQUIRED if n not in file]
        if missing:
            raise ConfigError(f"{path} lacks the groups {missing}; write it again with "
                              "`neurosoup evaluate`")  # fmt: skip
        cols = {name: {c: file[name][c][()] for c in file[name]}
                for name in EVALUATION_TABLES if name in file}  # fmt: skip
    tables = {}
    for name, columns in cols.items():
        packed = columns.pop("genotype", None)
        tables[name] = pd.DataFrame(columns)
        if packed is not None:
            packed = np.asarray(packed, np.uint8)  # [M, 13]
            tables[name]["hex"] = [row.tobytes().hex() for row in packed]
    return Evaluation(meta, tables["samples"], tables["trainings"], tables["copies"],
                      tables.get("mutants"), tables.get("mutant_trainings"))  # fmt: skip


def _evaluation_of(data: str | Path | Evaluation) -> Evaluation:
    return data if isinstance(data, Evaluation) else read_evaluation(data)


def measures(ev: Evaluation) -> list[str]:
    """The per-training measures this evaluation file holds (W only from format 2 on)."""
    return [m for m in EVALUATION_MEASURES if m in ev.trainings.columns]


def evaluation_summary(data: str | Path | Evaluation) -> pd.DataFrame:
    """Per genotype: mean and sd over its R trainings of each measure, and the recorded values.

    Columns: sample, id, n_carriers, recorded_fertility, then ``<measure>_mean`` and
    ``<measure>_sd`` (ddof 1) for accuracy, fertility F, mutations (mean per copy), survival V
    (share of copies whose program is valid) and fitness W = V·F (files from evaluate format 2).
    """
    ev = _evaluation_of(data)
    grouped = ev.trainings.groupby("sample")
    out = ev.samples[["sample", "id", "n_carriers", "recorded_fertility"]].set_index("sample")
    for m in measures(ev):
        out[f"{m}_mean"] = grouped[m].mean()
        out[f"{m}_sd"] = grouped[m].std(ddof=1)
    return out.reset_index()


def developmental_noise(data: str | Path | Evaluation) -> pd.DataFrame:
    """Per measure: within- and between-genotype sums of squares and the noise share.

    ``share`` = SS_within / SS_total over all K·R trainings (one-way decomposition, so
    SS_total = SS_within + SS_between): the part of the measure's variation that independent
    trainings of one genotype produce. ``within_var`` is the mean over genotypes of the variance
    over trainings (ddof 1). For fertility, ``corr_var_fitness`` is the Pearson correlation over
    genotypes of the fertility variance with the mean fertility and ``corr_recorded`` that of
    the run's recorded fertility with the re-evaluated mean (NaN below 3 genotypes or with a
    constant column).
    """
    ev = _evaluation_of(data)
    t = ev.trainings
    summary = evaluation_summary(ev)
    rows = []
    for m in measures(ev):
        x = t[m].to_numpy(float)
        means = t.groupby("sample")[m].transform("mean").to_numpy(float)
        ss_total = float(((x - x.mean()) ** 2).sum())
        ss_within = float(((x - means) ** 2).sum())
        row = {"measure": m, "ss_total": ss_total, "ss_within": ss_within,
               "ss_between": ss_total - ss_within,
               "share": ss_within / ss_total if ss_total > 0 else float("nan"),
               "within_var": float(t.groupby("sample")[m].var(ddof=1).mean()),
               "corr_var_fitness": float("nan"), "corr_recorded": float("nan")}  # fmt: skip
        if m == "fertility":
            row["corr_var_fitness"] = _corr(summary["fertility_sd"] ** 2,
                                            summary["fertility_mean"])  # fmt: skip
            row["corr_recorded"] = _corr(summary["recorded_fertility"], summary["fertility_mean"])
        rows.append(row)
    return pd.DataFrame(rows).set_index("measure")


def _corr(a: pd.Series, b: pd.Series) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    if len(a) < 3 or np.std(a) == 0 or np.std(b) == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


__all__ = [
    "EVALUATION_ATTR",
    "EVALUATION_MEASURES",
    "EVALUATION_TABLES",
    "Evaluation",
    "developmental_noise",
    "evaluation_summary",
    "measures",
    "read_evaluation",
]
