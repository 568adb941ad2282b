"""The soup's run-file vocabulary (``kind = "soup"``): snapshots, bonds, lineage, observables.

Written by ``chemistry/soup.py`` (``Soup.layout``), read by ``analysis/load.py``,
``analysis/snapshots.py`` and ``analysis/soup.py``.
"""

from __future__ import annotations

import numpy as np

from ..classify import TYPE_LABELS
from .common import WEIGHTS, count_observable

KIND = "soup"

# ---- series ----------------------------------------------------------------------------------
PARTICLES = "particles/all"  # per-slot snapshot fields: <field>/{step [S], value [S, C, …]}
# WEIGHTS (common): [S, C, P] float (NaN in empty slots)
#: the per-slot fields of a particle snapshot besides ``weights``: (name, dtype), fill −1
SNAPSHOT_FIELDS = (
    ("uid", np.int64), ("parent_uid", np.int64), ("born_at", np.int64), ("ptype", np.int8),
)  # fmt: skip
UID, PARENT_UID, BORN_AT, PTYPE = (name for name, _ in SNAPSHOT_FIELDS)
FIELDS = (WEIGHTS, UID, PARENT_UID, BORN_AT, PTYPE)  # the order readers list them in


def field(name: str) -> str:
    """The series path of one snapshot field (``particles/all/<name>``)."""
    return f"{PARTICLES}/{name}"


CONNECTIVITY = "connectivity"
BONDS = f"{CONNECTIVITY}/bonds"  # ragged: value [ΣE, 2] int64 uid pairs
#: ragged, every tick: value [ΣO] int64 (also the name of the soup's DataCollector column)
ORGANISM_SIZES_NAME = "organism_sizes"
ORGANISM_SIZES = f"{CONNECTIVITY}/{ORGANISM_SIZES_NAME}"

# ---- tables ----------------------------------------------------------------------------------
BIRTHS = "lineage/births"
DEATHS = "lineage/deaths"
BIRTH_COLUMNS = (
    ("uid", np.int64), ("parent_uid", np.int64), ("co_parent_uid", np.int64),
    ("born_at", np.int64), ("cause", np.int8),
)  # fmt: skip
DEATH_COLUMNS = (("uid", np.int64), ("died_at", np.int64), ("cause", np.int8))
BIRTH_STEP, DEATH_STEP = "born_at", "died_at"  # the column holding each row's tick
CO_PARENT_UID, DIED_AT, CAUSE = "co_parent_uid", "died_at", "cause"

# ---- enum labels -----------------------------------------------------------------------------
BIRTH_CAUSES = ("seed", "respawn", "offspring")
DEATH_CAUSES = ("divergent", "zero", "replaced")
SEED, RESPAWN, OFFSPRING = range(3)  # birth cause codes
DIVERGENT, ZERO, REPLACED = range(3)  # death cause codes

# ---- observables (every tick, scalars; operators add their own after these) ------------------
TYPE_OBSERVABLES = tuple(count_observable(label) for label in TYPE_LABELS)
N_ALIVE, LOSS_MEAN, LOSS_MEDIAN, LOG10_RHO_MEDIAN = (
    "n_alive", "loss_mean", "loss_median", "log10_rho_median",
)  # fmt: skip
HIGH_ORDER_ENTROPY = "high_order_entropy"  # bits per byte (particles/complexity.py)
BASE_OBSERVABLES = (*TYPE_OBSERVABLES, N_ALIVE, LOSS_MEAN, LOSS_MEDIAN, LOG10_RHO_MEDIAN,
                    HIGH_ORDER_ENTROPY)  # fmt: skip
