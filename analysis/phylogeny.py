"""Phylogenies of run files in the ALife Data Standard (CSV) and as Newick.

The ALife Data Standard phylogeny table has one row per individual: ``id`` (a non-negative int,
unique), ``ancestor_list`` (``[7]``, ``[1,7]`` for two parents, ``[none]`` for a root — no
spaces, which the standard's readers reject), ``origin_time``, ``destruction_time`` (``inf``
while alive at the end of the run) and any extra columns. What each kind writes:

* ``soup`` — one row per particle uid ever born (``/lineage/births``): parent and co-parent
  (melt offspring) in ``ancestor_list``; times in ticks; extras ``birth_cause`` (seed, respawn,
  offspring), ``operator`` (the operator whose event made it: ``melt``, ``respawn``; ``init``
  for the seeds), ``death_cause``, ``final_type`` (the type at the last snapshot that held it:
  at death, or now; empty when no snapshot did) and ``organism`` (the smallest uid of its bond
  component in that snapshot, −1 for none). Files without ``/lineage`` (format 1) are rebuilt
  from their snapshots: a particle's destruction time is then the first snapshot without it.
* ``evolution`` — one row per individual of ``/population``; time = generation (Wright–Fisher
  generations do not overlap: an individual of generation g is destroyed at g + 1, the last
  generation is alive); extras ``genotype`` (26 hex digits), ``alpha``, ``fitness``, ``alive``,
  ``n_mutations``.
* ``quine`` (a quine soup) — one row per member incarnation: the founders 0 … Q−1 at epoch 0,
  then one new id per applied ``overwrite`` (Q, Q+1, … in event order), whose parent is the
  actor's current incarnation (every overwrite of an epoch reads the weights as they were
  before it); the overwritten incarnation is destroyed then. Extra ``member`` (the slot).

Large soups stream: the births table is read and written in chunks of ``CHUNK`` rows; the
only other memory is a few per-uid arrays (one int per individual). Newick goes through the
library (``alifedata-phyloinformatics-convert``, extra ``neurosoup[alife]``): a population is
a forest of founders' trees, which the tree converters refuse, so ``rooted_tree`` hangs every
root under one virtual root (``id`` = max id + 1, ``origin_time`` 0, labelled ``root``) and
keeps only the first ancestor of two-parent rows (the parent whose half the child kept first;
the co-parent stays in the CSV). Branch lengths are origin-time differences (ticks,
generations or epochs).
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Iterator
from typing import TextIO

import numpy as np
import pandas as pd

from neurosoup.particles import TYPE_LABELS, ConfigError, DependencyNotInstalled, runformat

from .load import Run

#: rows per chunk of a streamed soup export
CHUNK = 1 << 18
STANDARD = ("id", "ancestor_list", "origin_time", "destruction_time")
SOUP_EXTRAS = ("birth_cause", "operator", "death_cause", "final_type", "organism")
EVOLUTION_EXTRAS = ("genotype", "alpha", "fitness", "alive", "n_mutations")
QUINE_EXTRAS = ("member",)
FORMATS = ("csv", "newick")
_ALIFE_HINT = "pip install 'neurosoup[alife]'"


def ancestor_list(first: np.ndarray, second: np.ndarray | None = None) -> np.ndarray:
    """``ancestor_list`` strings: ``[none]``, ``[p]`` or ``[p,q]`` (no spaces) [R] object.

    first, second: [R] int64 ancestor ids, −1 for none (second: a co-parent or None).
    """
    f = np.asarray(first, np.int64).tolist()
    if second is None:
        out = ["[none]" if p < 0 else f"[{p}]" for p in f]
    else:
        q = np.asarray(second, np.int64).tolist()
        out = ["[none]" if p < 0 else f"[{p}]" if c < 0 else f"[{p},{c}]"
               for p, c in zip(f, q, strict=True)]  # fmt: skip
    return np.asarray(out, dtype=object)


def _times(died: np.ndarray) -> np.ndarray:
    """``destruction_time`` strings [R]: the step, or ``inf`` where −1 (alive at the end)."""
    return np.asarray(["inf" if t < 0 else str(t) for t in died.tolist()], dtype=object)


def csv_text(frame: pd.DataFrame, header: bool = False) -> str:
    """CSV lines of a phylogeny chunk (faster than ``DataFrame.to_csv`` on object columns).

    Integers and booleans as Python prints them, NaN as an empty field, and fields holding
    a comma (two-parent ``ancestor_list``) in double quotes.
    """
    cols = []
    for name in frame.columns:
        v = frame[name].to_numpy()
        if v.dtype.kind in "iub":
            cols.append(list(map(str, v.tolist())))
        elif v.dtype.kind == "f":
            cols.append(["" if x != x else repr(x) for x in v.tolist()])
        else:
            cols.append([f'"{x}"' if "," in x else x for x in map(str, v.tolist())])
    lines = [",".join(frame.columns)] if header else []
    lines += map(",".join, zip(*cols, strict=True))
    return "\n".join(lines) + "\n" if lines else ""


# ---- soups -------------------------------------------------------------------------------------
def _soup_last_seen(run: Run, n_uid: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per uid: type, organism and departure, from the snapshots one frame at a time.

    Type code and organism (smallest member uid, −1 none) at its last snapshot; departure: the
    step of the first snapshot after that one (−1: in the last snapshot, or never seen).
    Returns [U] int8, [U] int64, [U] int64.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    ptype = np.full(n_uid, -1, np.int8)
    organism = np.full(n_uid, -1, np.int64)
    gone = np.full(n_uid, -1, np.int64)
    seen = np.zeros(n_uid, bool)
    snaps = run.snapshots
    for step in snaps.steps.tolist():
        uid = snaps.uids(step)
        keep = (uid >= 0) & (uid < n_uid)
        u = uid[keep]
        left = seen.copy()
        left[u] = False
        gone[left & (gone < 0)] = step  # seen before, absent now: gone by this snapshot
        seen[u] = True
        gone[u] = -1
        ptype[u] = snaps.types(step)[keep]
        organism[u] = -1
        bonds = run.bonds(step)
        if len(bonds):
            nodes, inv = np.unique(bonds.reshape(-1), return_inverse=True)
            e = inv.reshape(-1, 2)
            graph = coo_matrix((np.ones(len(e)), (e[:, 0], e[:, 1])), shape=(len(nodes),) * 2)
            _, label = connected_components(graph, directed=False)
            smallest = pd.Series(nodes).groupby(label).min().to_numpy()
            inside = nodes < n_uid
            organism[nodes[inside]] = smallest[label[inside]]
    return ptype, organism, gone


def _soup_operator(run: Run, born: np.ndarray, n_uid: int) -> np.ndarray:
    """Per uid: the operator of the first applied event that made it at its birth tick.

    born: [U] int64 birth tick per uid (−1 unknown). Reads ``/events`` in chunks.
    """
    made = np.full(n_uid, -1, np.int64)
    group = run._get(runformat.EVENTS)
    names = runformat.operator_names(group.attrs.get("operators")) if group is not None else {}
    if group is None or "changed" not in group:
        return np.full(n_uid, "", dtype=object)
    n = group["changed"].shape[0]
    for start in range(0, n, CHUNK):
        sl = slice(start, start + CHUNK)
        changed = group["changed"][sl].astype(np.int64)
        tick = group["tick"][sl].astype(np.int64)
        applied = group["applied"][sl].astype(bool)
        code = group["operator"][sl].astype(np.int64)
        ok = applied & (changed >= 0) & (changed < n_uid)
        ok[ok] &= born[changed[ok]] == tick[ok]
        ok[ok] &= made[changed[ok]] < 0
        c, k = changed[ok], code[ok]
        first = np.unique(c, return_index=True)[1]  # the first event per uid in file order
        made[c[first]] = k[first]
    lut = {code: name for code, name in names.items()}
    labels = np.asarray([lut.get(c, "") for c in range(max(lut, default=-1) + 2)], dtype=object)
    return np.where(made >= 0, labels[np.clip(made, 0, len(labels) - 1)], "")


def _births_chunks(run: Run) -> Iterator[dict[str, np.ndarray]]:
    """Rows of ``/lineage/births`` in chunks (or the table rebuilt from snapshots, format 1)."""
    group = run._get(runformat.BIRTHS)
    cols = [name for name, _ in runformat.BIRTH_COLUMNS]
    if group is None:
        frame = run.births
        codes = {label: i for i, label in enumerate(runformat.BIRTH_CAUSES)}
        data = {c: frame[c].to_numpy() for c in cols if c != "cause"}
        data["cause"] = frame["cause"].map(codes).fillna(-1).to_numpy(np.int64)
        yield data
        return
    n = group["uid"].shape[0]
    for start in range(0, n, CHUNK):
        yield {c: group[c][start : start + CHUNK].astype(np.int64) for c in cols}


def _labels(codes: np.ndarray, names: tuple[str, ...], none: str = "") -> np.ndarray:
    lut = np.asarray([*names, none], dtype=object)
    return lut[np.where((codes >= 0) & (codes < len(names)), codes, len(names))]


def _soup_chunks(run: Run) -> Iterator[pd.DataFrame]:
    uid_all = np.concatenate([c["uid"] for c in _births_chunks(run)] or [np.zeros(0, np.int64)])
    n_uid = int(uid_all.max()) + 1 if len(uid_all) else 0
    born = np.full(n_uid, -1, np.int64)
    for c in _births_chunks(run):
        born[c["uid"]] = c["born_at"]
    del uid_all
    died = np.full(n_uid, -1, np.int64)
    death_cause = np.full(n_uid, -1, np.int64)
    deaths = run._get(runformat.DEATHS)
    if deaths is not None and "uid" in deaths:
        for start in range(0, deaths["uid"].shape[0], CHUNK):
            u = deaths["uid"][start : start + CHUNK].astype(np.int64)
            inside = (u >= 0) & (u < n_uid)
            died[u[inside]] = deaths["died_at"][start : start + CHUNK][inside]
            death_cause[u[inside]] = deaths["cause"][start : start + CHUNK][inside]
    ptype, organism, gone = _soup_last_seen(run, n_uid)
    if deaths is None:  # format 1: deaths inferred from the snapshots (the first one without it)
        died = gone
    operator = _soup_operator(run, born, n_uid)
    for chunk in _births_chunks(run):
        u = chunk["uid"]
        cause = chunk["cause"]
        op = operator[u].copy()
        op[(cause == runformat.SEED) & (op == "")] = "init"
        yield pd.DataFrame(
            {
                "id": u,
                "ancestor_list": ancestor_list(chunk["parent_uid"], chunk["co_parent_uid"]),
                "origin_time": chunk["born_at"],
                "destruction_time": _times(died[u]),
                "birth_cause": _labels(cause, runformat.BIRTH_CAUSES, "unknown"),
                "operator": op,
                "death_cause": _labels(death_cause[u], runformat.DEATH_CAUSES),
                "final_type": _labels(ptype[u].astype(np.int64), tuple(TYPE_LABELS)),
                "organism": organism[u],
            }
        )


# ---- evolution runs ----------------------------------------------------------------------------
def _evolution_chunks(run: Run) -> Iterator[pd.DataFrame]:
    from .evolution import population

    pop = population(run)
    f = pop.frame
    gen = f["generation"].to_numpy(np.int64)
    last = int(gen.max()) if len(gen) else 0
    died = np.where(gen < last, gen + 1, -1)
    packed = np.packbits(pop.bits, axis=1)
    yield pd.DataFrame(
        {
            "id": f["id"].to_numpy(np.int64),
            "ancestor_list": ancestor_list(f["parent_id"].to_numpy(np.int64)),
            "origin_time": gen,
            "destruction_time": _times(died),
            "genotype": [row.tobytes().hex() for row in packed],
            "alpha": f["alpha"].to_numpy(float),
            "fitness": f["fitness"].to_numpy(float),
            "alive": f["alive"].to_numpy(bool),
            "n_mutations": f["n_mutations"].to_numpy(np.int64),
        }
    )


# ---- quine soups -------------------------------------------------------------------------------
def _check_quine(run: Run) -> None:
    group = run._get(runformat.EVENTS)
    names = runformat.operator_names(group.attrs.get("operators")) if group is not None else {}
    if "overwrite" not in names.values():
        raise ConfigError(
            f"{run.path} is a quine run without the soup's overwrite operator: its members have "
            "no parents, so there is no phylogeny; export one of a quine soup (quine/soup-v1)"
        )


def _quine_chunks(run: Run) -> Iterator[pd.DataFrame]:
    q = int(run.config.get("population", 1))
    ev = run.events
    ow = ev[(ev["operator"] == "overwrite") & ev["applied"].astype(bool)]
    current = np.arange(q, dtype=np.int64)  # member → its incarnation's id
    ids, parents, born, members = [list(range(q))], [[-1] * q], [[0] * q], [list(range(q))]
    died: dict[int, int] = {}
    next_id = q
    for tick, rows in ow.groupby("tick", sort=True):
        actor = rows["actor"].to_numpy(np.int64)
        target = rows["changed"].to_numpy(np.int64)
        parent = current[actor]  # read before this epoch's overwrites
        new = np.arange(next_id, next_id + len(target), dtype=np.int64)
        next_id += len(target)
        for old in current[target].tolist():
            died[old] = int(tick)
        current[target] = new
        ids.append(new.tolist())
        parents.append(parent.tolist())
        born.append([int(tick)] * len(new))
        members.append(target.tolist())
    idx = np.concatenate([np.asarray(x, np.int64) for x in ids])
    dead = np.asarray([died.get(i, -1) for i in idx.tolist()], np.int64)
    yield pd.DataFrame(
        {
            "id": idx,
            "ancestor_list": ancestor_list(np.concatenate([np.asarray(x, np.int64)
                                                           for x in parents])),
            "origin_time": np.concatenate([np.asarray(x, np.int64) for x in born]),
            "destruction_time": _times(dead),
            "member": np.concatenate([np.asarray(x, np.int64) for x in members]),
        }
    )  # fmt: skip


KINDS = {"soup": _soup_chunks, "evolution": _evolution_chunks, "quine": _quine_chunks}


def phylogeny_chunks(run: Run) -> Iterator[pd.DataFrame]:
    """The run's phylogeny as ALife-standard tables, chunk by chunk (see the module docstring).

    Raises ``ConfigError`` for kinds without lineage data.
    """
    make = KINDS.get(run.kind)
    if make is None:
        raise ConfigError(
            f"{run.path} is a {run.kind} run, which records no lineage (parents of individuals);"
            f" phylogenies exist for {', '.join(KINDS)} runs"
        )
    if run.kind == "quine":
        _check_quine(run)
    return make(run)


def phylogeny(run: Run) -> pd.DataFrame:
    """The whole phylogeny as one table (small runs; ``write_phylogeny`` streams)."""
    chunks = list(phylogeny_chunks(run))
    return pd.concat(chunks, ignore_index=True) if chunks else pd.DataFrame(columns=STANDARD)


def write_csv(run: Run, out: TextIO) -> int:
    """Write the phylogeny as ALife-standard CSV to ``out``, chunk by chunk; returns rows."""
    rows = 0
    for i, chunk in enumerate(phylogeny_chunks(run)):
        out.write(csv_text(chunk, header=i == 0))
        rows += len(chunk)
    return rows


# ---- Newick and summaries through the libraries -----------------------------------------------
def rooted_tree(table: pd.DataFrame) -> pd.DataFrame:
    """One tree from a forest: roots hang under a virtual root; first ancestors only.

    table: an ALife phylogeny (``id``, ``ancestor_list``, ``origin_time``). Returns the
    standard columns plus ``taxon_label`` (the id; ``root`` for the virtual root).
    """
    ids = table["id"].to_numpy(np.int64)
    root = int(ids.max()) + 1 if len(ids) else 0
    first = first_ancestor(table["ancestor_list"])
    first = np.where(first >= 0, first, root)
    origin = table["origin_time"].to_numpy(np.int64)
    out = pd.DataFrame(
        {
            "id": np.concatenate([[root], ids]),
            "ancestor_list": ancestor_list(np.concatenate([[-1], first])),
            "origin_time": np.concatenate([[min(0, int(origin.min(initial=0)))], origin]),
            "taxon_label": ["root", *ids.astype(str).tolist()],
        }
    )
    return out


def first_ancestor(lists: pd.Series) -> np.ndarray:
    """The first id of each ``ancestor_list`` string, −1 for ``[none]`` [R] int64."""
    head = lists.astype(str).str.strip("[]").str.split(",", n=1).str[0]
    return pd.to_numeric(head, errors="coerce").fillna(-1).to_numpy(np.int64)


def newick(table: pd.DataFrame) -> str:
    """The phylogeny as one Newick tree (``rooted_tree``), written by the ALife library."""
    try:
        with warnings.catch_warnings():  # the library warns that its optional ete3 is absent
            warnings.simplefilter("ignore")
            from alifedata_phyloinformatics_convert import RosettaTree
    except ImportError:
        raise DependencyNotInstalled(
            f"Newick export needs alifedata-phyloinformatics-convert; {_ALIFE_HINT}"
        ) from None
    if len(table) == 0:
        raise ConfigError("the phylogeny is empty: the run recorded no individual")
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10 * len(table) + 1000))  # deep lineages: dendropy recurses
    try:
        return RosettaTree(rooted_tree(table), validate="error").to_newick().strip()
    finally:
        sys.setrecursionlimit(limit)


__all__ = [
    "CHUNK",
    "FORMATS",
    "KINDS",
    "STANDARD",
    "ancestor_list",
    "csv_text",
    "first_ancestor",
    "newick",
    "phylogeny",
    "phylogeny_chunks",
    "rooted_tree",
    "write_csv",
]
