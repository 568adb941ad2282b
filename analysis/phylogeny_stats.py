"""Phylogenetic summaries over time, computed by phylotrackpy (extra ``neurosoup[alife]``).

``phylogeny_summary(table)`` replays an ALife-standard phylogeny (``phylogeny.py``) into a
``phylotrackpy`` ``Systematics`` manager — births at their ``origin_time``, deaths at their
``destruction_time`` — and reads the library's own measures after each time step that changed
the population:

* ``living`` — extant individuals (``get_num_active``);
* ``lineages`` — founders' trees with a living descendant: extant lineages (``get_num_roots``;
  the manager prunes extinct branches);
* ``max_depth`` — the deepest living individual's number of ancestors (``get_max_depth``);
* ``mean_pairwise_distance`` — mean distance (edges) between living individuals that share a
  founder (``get_mean_pairwise_distance``; pairs in different founders' trees are infinite and
  left out, as the library does); NaN above ``MPD_MAX`` living (the measure is quadratic);
* ``phylogenetic_diversity`` — nodes of the minimum spanning tree of the living
  (``get_phylogenetic_diversity``).

phylotrackpy tracks one parent per individual: a two-parent row (melt offspring) counts under
its first ancestor. Each individual is its own taxon.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from neurosoup.particles import DependencyNotInstalled

from .load import Run
from .phylogeny import KINDS, first_ancestor, phylogeny

#: above this many living individuals the mean pairwise distance is not computed (NaN)
MPD_MAX = 2000
COLUMNS = ("time", "living", "lineages", "max_depth", "mean_pairwise_distance",
           "phylogenetic_diversity")  # fmt: skip


def _systematics():
    try:
        from phylotrackpy.systematics import Systematics
    except ImportError:
        raise DependencyNotInstalled(
            "phylogenetic summaries need phylotrackpy; pip install 'neurosoup[alife]'"
        ) from None
    return Systematics(lambda org: org, True, True, False, False)


def phylogeny_summary(table: pd.DataFrame, mpd_max: int = MPD_MAX) -> pd.DataFrame:
    """The library's phylogenetic measures after every time step with births or deaths.

    table: an ALife phylogeny (``id``, ``ancestor_list``, ``origin_time``,
    ``destruction_time``). Returns one row per time (columns ``COLUMNS``).
    """
    sys_ = _systematics()
    ids = table["id"].to_numpy(np.int64)
    parent = first_ancestor(table["ancestor_list"])
    born = table["origin_time"].to_numpy(np.int64)
    died = pd.to_numeric(table["destruction_time"], errors="coerce").to_numpy(float)
    order_b = np.lexsort((ids, born))
    finite = np.flatnonzero(np.isfinite(died))
    order_d = finite[np.argsort(died[finite], kind="stable")]
    times = np.unique(np.concatenate([born, died[finite].astype(np.int64)]))
    taxon: dict[int, object] = {}
    rows = []
    ib = idd = 0
    for t in times.tolist():
        sys_.set_update(int(t))
        while ib < len(order_b) and born[order_b[ib]] == t:
            r = order_b[ib]
            up = taxon.get(int(parent[r]))
            taxon[int(ids[r])] = sys_.add_org(int(ids[r]), up) if up is not None else \
                sys_.add_org(int(ids[r]))  # fmt: skip
            ib += 1
        while idd < len(order_d) and died[order_d[idd]] <= t:
            tx = taxon.get(int(ids[order_d[idd]]))
            if tx is not None:
                sys_.remove_org(tx)
            idd += 1
        living = sys_.get_num_active()
        mpd = sys_.get_mean_pairwise_distance(False) if 2 <= living <= mpd_max else np.nan
        rows.append((t, living, sys_.get_num_roots(), sys_.get_max_depth(), mpd,
                     sys_.get_phylogenetic_diversity()))  # fmt: skip
    return pd.DataFrame(rows, columns=list(COLUMNS))




def run_phylogeny_summary(run: Run) -> pd.DataFrame:
    """``phylogeny_summary`` of a run's phylogeny (``analyse FILE phylogeny_summary``)."""
    return phylogeny_summary(phylogeny(run))


def _register() -> None:
    from .report import register_analyses

    for kind in KINDS:
        register_analyses(kind, {"phylogeny": phylogeny,
                                 "phylogeny_summary": run_phylogeny_summary})  # fmt: skip


_register()

__all__ = ["COLUMNS", "MPD_MAX", "phylogeny_summary", "run_phylogeny_summary"]
