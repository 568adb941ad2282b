"""The organism's run-file vocabulary (``kind = "organism"``): snapshots and per-epoch curves.

Written by ``chemistry/organism_training.py`` (``OrganismTraining.layout``), read by
``analysis/organism.py``. Snapshots use the soup's ``particles/all`` group with three fields;
``ptype`` holds ``OrganismType`` codes (labels ``TYPE_LABELS``).
"""

from __future__ import annotations

import numpy as np

from ..organism import ORGANISM_TYPE_LABELS
from .common import count_observable
from .soup import PARTICLES, PTYPE, UID, WEIGHTS, field

KIND = "organism"
TYPE_LABELS = ORGANISM_TYPE_LABELS  # divergent, zero, sr, f

# ---- series: (field, dtype) of each snapshot, rows in particle order -------------------------
SNAPSHOT_FIELDS = ((PTYPE, np.int8), (UID, np.int64))  # beside WEIGHTS [S, N, P]
SNAPSHOT_ARRAYS = (WEIGHTS, *(name for name, _ in SNAPSHOT_FIELDS))

# ---- observables (validation epochs only) ----------------------------------------------------
TYPE_OBSERVABLES = tuple(count_observable(label) for label in TYPE_LABELS)
SR_LOSS, TASK_LOSS, TRAIN_METRIC, TEST_METRIC = (
    "sr_loss", "task_loss", "train_metric", "test_metric",
)  # fmt: skip
CURVES = (SR_LOSS, TASK_LOSS, TRAIN_METRIC, TEST_METRIC)
OBSERVABLES = (*TYPE_OBSERVABLES, *CURVES)

__all__ = [
    "CURVES",
    "KIND",
    "OBSERVABLES",
    "PARTICLES",
    "SNAPSHOT_ARRAYS",
    "SNAPSHOT_FIELDS",
    "SR_LOSS",
    "TASK_LOSS",
    "TEST_METRIC",
    "TRAIN_METRIC",
    "TYPE_LABELS",
    "TYPE_OBSERVABLES",
    "WEIGHTS",
    "field",
]
