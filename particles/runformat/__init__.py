"""The run-file format's one definition: each kind's vocabulary, declared once as data.

The writers (each kind's ``layout()`` in ``chemistry/``, the recorder), the readers
(``analysis/``) and the test fixtures take every group, series, table, column, dtype, fill and
enum label from here, so no name is typed twice (``docs/runfile.md``). It lives in
``particles`` because it is the one room both the writer and the reader may import.

One module per job:

* ``common``    root attributes, spec, observables, series members, fills, the ``events`` table;
* ``soup``      particle snapshots, bonds, organism sizes, lineage tables, cause labels;
* ``organism``  the organism's snapshot fields and per-epoch observables;
* ``quine``     member weights, projections and the quine observables;
* ``evolution`` SeRANN population and architecture tables, ``neurosoup evaluate`` files;
* ``files``     ``open_h5``, ``check_root``, ``read_spec``, ``verify`` (what is wrong with a file).

A new kind adds ``runformat/<kind>.py`` declaring its names and imports it in both its model
(``layout()``) and its analyses. The soup's and the shared names are re-exported here, as before
the split (``runformat.PARTICLES``, ``runformat.EVENTS``, …).
"""

from __future__ import annotations

from . import common, organism, quine, soup
from .common import (
    CHECKPOINT_FORMAT,
    CHECKPOINT_VERSION,
    EVALUATION_ATTR,
    EVENT_COLUMNS,
    EVENTS,
    FLOAT_FILL,
    FORMAT,
    FORMAT_VERSION,
    INT_FILL,
    OBSERVABLES,
    READABLE_VERSIONS,
    SPEC,
    fill_value,
    operator_names,
)
from .files import check_root, open_h5, read_spec, verify
from .soup import (
    BIRTH_CAUSES,
    BIRTH_COLUMNS,
    BIRTHS,
    BONDS,
    DEATH_CAUSES,
    DEATH_COLUMNS,
    DEATHS,
    DIVERGENT,
    OFFSPRING,
    ORGANISM_SIZES,
    PARTICLES,
    REPLACED,
    RESPAWN,
    SEED,
    SNAPSHOT_FIELDS,
    ZERO,
)

__all__ = [
    "BIRTHS",
    "BIRTH_CAUSES",
    "BIRTH_COLUMNS",
    "BONDS",
    "CHECKPOINT_FORMAT",
    "CHECKPOINT_VERSION",
    "DEATHS",
    "DEATH_CAUSES",
    "DEATH_COLUMNS",
    "DIVERGENT",
    "EVALUATION_ATTR",
    "EVENTS",
    "EVENT_COLUMNS",
    "FLOAT_FILL",
    "FORMAT",
    "FORMAT_VERSION",
    "INT_FILL",
    "OBSERVABLES",
    "OFFSPRING",
    "ORGANISM_SIZES",
    "PARTICLES",
    "READABLE_VERSIONS",
    "REPLACED",
    "RESPAWN",
    "SEED",
    "SNAPSHOT_FIELDS",
    "SPEC",
    "ZERO",
    "check_root",
    "common",
    "fill_value",
    "open_h5",
    "operator_names",
    "organism",
    "quine",
    "read_spec",
    "soup",
    "verify",
]
