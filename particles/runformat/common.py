"""The vocabulary every run file shares, whatever its kind: root, spec, observables, events.

A run file (``docs/runfile.md``) is HDF5: root attributes, the JSON spec, one group per
observable, and the series and tables of its kind (``soup.py``, ``organism.py``, ``quine.py``,
``evolution.py`` beside this module). A *series* group holds ``step [T]`` and ``value [T, …]``
(a ragged one adds ``count [T]``); a *table* group holds one column ``[R, …]`` per field.

Version history: 1 (soups only, operator names as a JSON list), 2 (model kinds; operator
codes as a JSON object; ``/connectivity/organism_sizes``; the resolved operator schedule and
rule digests in the spec). Readers accept every version in ``READABLE_VERSIONS``.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

FORMAT = "neurosoup-run"
FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)
CHECKPOINT_FORMAT = "neurosoup-checkpoint"
CHECKPOINT_VERSION = 2

# ---- root attributes -------------------------------------------------------------------------
ATTR_FORMAT = "format"
ATTR_VERSION = "format_version"
ATTR_PACKAGE = "package_version"
ATTR_KIND = "kind"
#: the root attribute of ``neurosoup evaluate`` files (re-evaluations, not runs)
EVALUATION_ATTR = "neurosoup_evaluation"

# ---- groups ----------------------------------------------------------------------------------
PARAMETERS = "parameters"
SPEC = f"{PARAMETERS}/spec"
OBSERVABLES = "observables"
EVENTS = "events"

#: the leaf name of every kind's weight snapshots (``particles/all/weights``, ``quines/weights``)
WEIGHTS = "weights"

# ---- the members of a series group -----------------------------------------------------------
STEP = "step"  # [T] int64: the step of each frame
VALUE = "value"  # [T, *shape] (ragged: [ΣR, *shape])
COUNT = "count"  # ragged series only: [T] rows per frame

# ---- fills -----------------------------------------------------------------------------------
FLOAT_FILL = np.nan
INT_FILL = -1

# ---- the actions table (soups and quine soups): columns (name, dtype) ---------------------------
EVENT_COLUMNS = (
    ("tick", np.int64), ("operator", np.int8), ("actor", np.int64), ("counterpart", np.int64),
    ("changed", np.int64), ("applied", np.bool_),
)  # fmt: skip
#: the columns by name: each event's step, its operator code, who acted on whom, what changed
EVENT_STEP, EVENT_OPERATOR, ACTOR, COUNTERPART, CHANGED, APPLIED = (n for n, _ in EVENT_COLUMNS)
#: ``/events`` attribute: JSON object {code: operator name}
OPERATORS_ATTR = "operators"


def names(columns: tuple[tuple[Any, ...], ...]) -> tuple[str, ...]:
    """The column names of a ``(name, dtype[, shape])`` declaration, in order."""
    return tuple(str(c[0]) for c in columns)


def observable(name: str) -> str:
    """The group of observable ``name`` (``observables/<name>``)."""
    return f"{OBSERVABLES}/{name}"


def count_observable(label: str) -> str:
    """The observable counting the members of one type label (``count_<label>``)."""
    return f"count_{label}"


def fill_value(dtype: Any) -> Any:
    """The fill of a dataset of this dtype: NaN for floats, −1 for ints, False for bools."""
    kind = np.dtype(dtype).kind
    if kind == "f":
        return FLOAT_FILL
    if kind == "b":
        return False
    return INT_FILL


def operator_names(attr: Any) -> dict[int, str]:
    """``/events`` attrs['operators'] → {code: name}; reads v1 lists and v2 objects."""
    if attr is None:
        return {}
    raw = json.loads(attr.decode() if isinstance(attr, bytes) else str(attr))
    if isinstance(raw, list):
        return dict(enumerate(str(n) for n in raw))
    return {int(code): str(name) for code, name in raw.items()}
