"""Analyses of SeRANN evolution run files (``kind = "evolution"``, ``science/serann.md``).

Everything is read from ``/population`` (one row per individual and generation: id, parent id,
packed genotype, α, alive, fertility, offspring, mutations) and ``/architectures``. An
individual's fitness is W = its fertility (0 for a dead program), so a generation's mean fitness
is survival × mean fertility. Analyses (``neurosoup analyse FILE NAME``):

* ``adaptation`` (the default) — per generation: mean fitness, fertility, survival, mutation
  rate (mean mutations of the offspring this generation made), α, mutational robustness
  1 − mean |W_child − W_parent| over the mutant children of this generation, each with a rolling
  mean (``--window``);
* ``alleles`` — per site whose derived allele ever reaches ``--min-freq``: first seen, peak,
  fixation and loss generations, independent origins, genetic backgrounds at the peak and
  ``soft`` (a soft sweep: the allele common in two or more backgrounds); ``allele_frequencies``
  gives the trajectories (derived relative to each individual's founder, or to the ancestor);
* ``clones`` — the clone tree (a clone = a genotype whose frequency reaches ``--threshold``;
  its parent = the clone of the parent of its first carrier), with fitness, beneficial flag and
  depth-first Muller order; ``muller`` — per generation the share of each clone (individuals
  belong to their nearest clone ancestor); ``interference`` — generations where two or more
  beneficial clones not on one line of descent are above the threshold at once;
* ``dfe`` — the distribution of fitness effects of new mutations per period (``--periods``):
  lethal (dead program) / deleterious / neutral / beneficial shares of mutant offspring, by
  W_child / W_parent − 1 against ``neutral``; ``mutations`` — one row per mutant offspring;
* ``lineage`` — without ``--id``: the ancestry of the final population (ancestors per
  generation, most recent common ancestor); with ``--id N``: N and its parent and grandparent
  (genotype, mutated sites, α, fertility, survival, offspring) and their decoded programs.

``read_evaluation``, ``evaluation_summary`` and ``developmental_noise`` read the files of
``neurosoup evaluate`` (re-trainings of sampled genotypes; plain HDF5, not run files).

Readers only: nothing here imports ``neurosoup.chemistry`` or ``neurosoup.scenarios``. Fitness
values are one training each, so every fitness difference includes developmental noise.
"""

from __future__ import annotations

import json
import weakref
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import h5py
import numpy as np
import pandas as pd

from neurosoup.particles import ConfigError, runformat
from neurosoup.particles.serann.genotype import N_BITS, from_hex, to_hex

from . import evolution_plots as eplots
from .load import Run
from .report import Figures, register_analyses

CLASSES = ("lethal", "deleterious", "neutral", "beneficial")
SCALAR_COLUMNS = ("generation", "id", "parent_id", "alpha", "n_params", "arch", "alive",
                  "fertility", "accuracy", "copy_error", "n_offspring", "n_mutations")  # fmt: skip


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
        cols = run.table("population")
        if not cols:
            raise ConfigError(f"{run.path} has no /population table; it recorded no generation")
        _CACHE[run] = population_from_columns(cols)
    return _CACHE[run]


def architectures(run: Run) -> pd.DataFrame:
    """The ``/architectures`` table: arch, generation first seen, n_params, signature, program."""
    _check(run)
    cols = run.table("architectures")
    return (
        pd.DataFrame(cols)
        if cols
        else pd.DataFrame(
            {c: [] for c in ("arch", "generation", "n_params", "hash", "signature", "program")}
        )
    )


# ---- adaptation ---------------------------------------------------------------------------
def _pop_of(data: Run | Population) -> Population:
    return data if isinstance(data, Population) else population(data)


def adaptation(run: Run | Population, window: int | None = None) -> pd.DataFrame:
    """Per generation: fitness, fertility, survival, mutation rate, α, robustness (+ rolling).

    ``mutation_rate`` of generation g is the mean number of mutations of the offspring g made
    (the rows of g + 1; for the last generation the stored observable when there is one).
    ``robustness`` = 1 − mean |W_child − W_parent| over g's mutant offspring. ``window``: the
    rolling-mean width (default: a tenth of the generations, at least 1).
    """
    pop = _pop_of(run)
    f = pop.frame
    gens = pop.generations
    gen = f["generation"].to_numpy()
    w, alive = f["fitness"].to_numpy(), f["alive"].to_numpy()
    alpha, nmut = f["alpha"].to_numpy(float), f["n_mutations"].to_numpy()
    has_parent = pop.parent_row >= 0
    parent_gen = np.where(has_parent, gen[pop.parent_row], -1)
    mutant = has_parent & (nmut > 0)
    dw = np.abs(w - w[pop.parent_row])
    rows = []
    for g in gens:
        here = gen == g
        kids = has_parent & (parent_gen == g)
        mk = mutant & (parent_gen == g)
        rows.append({
            "generation": int(g), "n": int(here.sum()),
            "mean_fitness": w[here].mean(),
            "mean_fertility": w[here & alive].mean() if (here & alive).any() else np.nan,
            "survival": alive[here].mean(),
            "mutation_rate": nmut[kids].mean() if kids.any() else np.nan,
            "mean_alpha": np.nanmean(alpha[here & alive]) if (here & alive).any() else np.nan,
            "robustness": 1.0 - dw[mk].mean() if mk.any() else np.nan,
            "n_mutants": int(mk.sum()),
            "n_genotypes": len({pop.bits[r].tobytes() for r in np.flatnonzero(here)}),
            "n_architectures": len(set(f["arch"].to_numpy()[here & alive].tolist())),
        })  # fmt: skip
    table = pd.DataFrame(rows).set_index("generation")
    if isinstance(run, Run) and run.has_observable("mutation_rate") and len(table):
        step, value = run.observable("mutation_rate")
        last = int(gens[-1])
        if np.isnan(table.loc[last, "mutation_rate"]) and last in step.tolist():
            table.loc[last, "mutation_rate"] = float(np.ravel(value)[step.tolist().index(last)])
    window = window if window is not None else max(1, len(table) // 10)
    if window < 1:
        raise ConfigError(f"window must be >= 1 generation, got {window}")
    for col in ("mean_fitness", "mean_fertility", "survival", "mutation_rate", "mean_alpha",
                "robustness"):  # fmt: skip
        table[f"{col}_rolling"] = table[col].rolling(window, min_periods=1).mean()
    table.attrs["window"] = window
    return table


# ---- alleles --------------------------------------------------------------------------------
REFERENCES = ("founder", "ancestor")


def derived(run: Run | Population, reference: str = "founder") -> np.ndarray:
    """Derived-allele indicator [R, 100] bool.

    ``founder``: a bit differs from the individual's own founder (first generation, along
    parent ids). ``ancestor``: differs from the run's ``ancestor_hex`` when the founders were
    the ancestor, else from the first generation's majority bit.
    """
    pop = _pop_of(run)
    if reference not in REFERENCES:
        raise ConfigError(f"reference must be one of {', '.join(REFERENCES)}, got {reference!r}")
    if reference == "founder":
        return pop.bits != pop.bits[pop.founder_row]
    ref = None
    if isinstance(run, Run) and run.config.get("founders", "ancestor") == "ancestor":
        hexa = run.config.get("ancestor_hex")
        if isinstance(hexa, str):
            ref = from_hex(hexa).numpy().reshape(-1)[:N_BITS].astype(np.uint8)
    if ref is None:
        first = pop.rows_of(int(pop.generations[0]))
        ref = (pop.bits[first].mean(axis=0) > 0.5).astype(np.uint8)
    return pop.bits != ref[None, :]


def allele_frequencies(run: Run | Population, reference: str = "founder") -> pd.DataFrame:
    """Derived-allele frequency per generation (rows) and site (columns 0 … 99)."""
    pop = _pop_of(run)
    d = derived(run, reference)
    gen = pop.frame["generation"].to_numpy()
    freq = pd.DataFrame(d.astype(float)).groupby(gen).mean()
    freq.index.name, freq.columns.name = "generation", "site"
    return freq


def _origins(pop: Population, d: np.ndarray) -> np.ndarray:
    """Per row and site: id of the individual where the carried derived allele arose, or −1."""
    ids = pop.frame["id"].to_numpy()
    origin = np.where(d, ids[:, None], -1)
    gen = pop.frame["generation"].to_numpy()
    for g in pop.generations[1:]:
        rows = np.flatnonzero((gen == g) & (pop.parent_row >= 0))
        par = pop.parent_row[rows]
        inherit = d[rows] & d[par]
        origin[rows] = np.where(inherit, origin[par], origin[rows])
    return origin


def alleles(run: Run | Population, min_freq: float = 0.1, reference: str = "founder",
            background: float = 0.1) -> pd.DataFrame:  # fmt: skip
    """Sites whose derived allele reaches ``min_freq``: when, how high, fixation, origins.

    Columns: first_seen, first_above (frequency ≥ min_freq), peak_freq, peak_generation,
    fixed_at (first generation at frequency 1), lost_at (first generation at 0 after
    first_above), final_freq, n_origins (independent mutation events to it: siblings that
    share a copy error count once each), backgrounds (distinct genotypes the allele arose in —
    the parents of its origins — each holding ≥ ``background`` of the carriers at the peak)
    and ``soft`` (backgrounds ≥ 2: a soft sweep). The notes list fixations per generation.
    """
    if not 0 < min_freq <= 1:
        raise ConfigError(f"min_freq must be in (0, 1], got {min_freq}")
    pop = _pop_of(run)
    d = derived(run, reference)
    freq = allele_frequencies(pop if reference == "founder" else run, reference)
    gen = pop.frame["generation"].to_numpy()
    origin = _origins(pop, d)
    # the background of an origin: its parent's genotype (a founder's own genotype)
    row_of_id = pd.Series(np.arange(len(gen)), index=pop.frame["id"].to_numpy())
    keys = np.array([b.tobytes() for b in np.packbits(pop.bits, axis=1)], dtype=object)
    bg_key = keys[np.where(pop.parent_row >= 0, pop.parent_row, np.arange(len(gen)))]
    rows = []
    for site in freq.columns[(freq.max() >= min_freq).to_numpy()]:
        tr = freq[site]
        seen = tr.index[tr > 0]
        above = tr.index[tr >= min_freq]
        peak_g = int(tr.idxmax())
        fixed = tr.index[tr >= 1.0]
        after = tr.loc[above[0] :]
        lost = after.index[after == 0]
        at_peak = origin[(gen == peak_g) & d[:, site], site]
        _, counts = np.unique(bg_key[row_of_id.reindex(at_peak).to_numpy()], return_counts=True)
        backgrounds = int((counts >= background * max(len(at_peak), 1)).sum())
        rows.append({
            "site": int(site), "first_seen": int(seen[0]), "first_above": int(above[0]),
            "peak_freq": float(tr.max()), "peak_generation": peak_g,
            "fixed_at": int(fixed[0]) if len(fixed) else pd.NA,
            "lost_at": int(lost[0]) if len(lost) else pd.NA,
            "final_freq": float(tr.iloc[-1]),
            "n_origins": len(np.unique(origin[d[:, site], site])),
            "backgrounds": backgrounds, "soft": backgrounds >= 2,
        })  # fmt: skip
    cols = ["site", "first_seen", "first_above", "peak_freq", "peak_generation", "fixed_at",
            "lost_at", "final_freq", "n_origins", "backgrounds", "soft"]  # fmt: skip
    table = pd.DataFrame(rows, columns=cols).set_index("site")
    fixed = table["fixed_at"].dropna()
    notes = [
        f"{len(table)} sites reached derived frequency >= {min_freq:g} ({reference} "
        f"reference); {len(fixed)} fixed, {int(table['soft'].sum())} soft sweeps"
    ]
    if len(fixed):
        per = fixed.astype(int).value_counts().sort_index()
        notes.append("fixations per generation: " + ", ".join(f"g{g}: {n}" for g, n in
                                                                per.items()))  # fmt: skip
    table.attrs["notes"] = notes
    return table


# ---- clones and the Muller plot --------------------------------------------------------------
@dataclass(frozen=True)
class Clones:
    """Clone assignment: ``clone_of`` [R] (−1 = background), the clone table, the tree."""

    clone_of: np.ndarray
    table: pd.DataFrame
    parent: dict[int, int]


def clone_assignment(pop: Population, threshold: float = 0.1) -> Clones:
    """Clones (genotypes reaching ``threshold`` in some generation) and each row's clone."""
    if not 0 < threshold <= 1:
        raise ConfigError(f"threshold must be in (0, 1], got {threshold}")
    gen = pop.frame["generation"].to_numpy()
    keys = np.array([b.tobytes() for b in np.packbits(pop.bits, axis=1)], dtype=object)
    counts = pd.DataFrame({"g": gen, "k": keys}).value_counts()
    size = pd.Series(gen).value_counts()
    share = counts / size.reindex(counts.index.get_level_values("g")).to_numpy()
    big = set(share[share >= threshold - 1e-12].index.get_level_values("k"))
    first_row: dict[bytes, int] = {}
    for r, k in enumerate(keys):
        if k in big and k not in first_row:
            first_row[k] = r
    order = sorted(first_row, key=first_row.get)
    index = {k: i for i, k in enumerate(order)}
    own = np.array([index.get(k, -1) for k in keys], np.int64)
    clone_of = own.copy()
    for r in range(len(keys)):  # rows ascend by generation: a parent's clone is known
        if clone_of[r] < 0 and pop.parent_row[r] >= 0:
            clone_of[r] = clone_of[pop.parent_row[r]]
    parent = {}
    for k in order:
        r = first_row[k]
        parent[index[k]] = int(clone_of[pop.parent_row[r]]) if pop.parent_row[r] >= 0 else -1
    w = pop.frame["fitness"].to_numpy()
    rows = []
    dfs = muller_order(parent)
    for c in range(len(order)):
        r = first_row[order[c]]
        mine = clone_of == c
        p = parent[c]
        pw = float(w[clone_of == p].mean()) if p >= 0 else np.nan
        line = lineage_shares(clone_of, gen, parent, c)
        rows.append({
            "clone": c, "parent": p, "genotype": to_hex(pop.bits[r])[0],
            "origin_generation": int(gen[r]), "origin_id": int(pop.frame["id"].iloc[r]),
            "mutations": int((pop.bits[r] != pop.bits[first_row[order[p]]]).sum())
            if p >= 0 else 0,
            "peak_share": float(share.xs(order[c], level="k").max()),
            "lineage_peak": float(line.max()), "final_lineage_share": float(line.iloc[-1]),
            "fixed": bool((line >= 1.0 - 1e-12).any()) and p >= 0,
            "mean_fitness": float(w[mine].mean()), "parent_fitness": pw,
            "beneficial": bool(p >= 0 and w[mine].mean() > pw),
            "depth": _depth(parent, c), "muller_rank": dfs.index(c),
        })  # fmt: skip
    table = pd.DataFrame(rows)
    if len(table):
        table = table.set_index("clone")
    return Clones(clone_of, table, parent)


def _depth(parent: dict[int, int], c: int) -> int:
    d = 0
    while parent.get(c, -1) >= 0:
        c, d = parent[c], d + 1
    return d


def _descendants(parent: dict[int, int], c: int) -> set[int]:
    out = {c}
    changed = True
    while changed:
        changed = False
        for k, p in parent.items():
            if p in out and k not in out:
                out.add(k)
                changed = True
    return out


def lineage_shares(clone_of: np.ndarray, gen: np.ndarray, parent: dict[int, int],
                   c: int) -> pd.Series:  # fmt: skip
    """Per generation: share of individuals in clone ``c`` or its descendant clones."""
    inside = np.isin(clone_of, list(_descendants(parent, c)))
    return pd.Series(inside.astype(float)).groupby(gen).mean()


def muller_order(parent: dict[int, int]) -> list[int]:
    """Depth-first pre-order of the clone tree (children by clone number; roots have −1)."""
    children: dict[int, list[int]] = {}
    for c, p in sorted(parent.items()):
        children.setdefault(p, []).append(c)
    out: list[int] = []
    stack = list(reversed(children.get(-1, [])))
    while stack:
        c = stack.pop()
        out.append(c)
        stack.extend(reversed(children.get(c, [])))
    return out


def muller_layers(parent: dict[int, int]) -> list[int]:
    """Stack order that nests each clone inside its parent: parent, children …, parent again.

    Each clone with children appears twice (its share halved), so its children's bands sit in
    the middle of its band. The background (−1) is the outer layer when present.
    """
    children: dict[int, list[int]] = {}
    for c, p in sorted(parent.items()):
        children.setdefault(p, []).append(c)

    def layers(c: int) -> list[int]:
        inner = [x for k in children.get(c, []) for x in layers(k)]
        return [c, *inner, c] if inner else [c]

    return layers(-1)


def muller(run: Run | Population, threshold: float = 0.1) -> pd.DataFrame:
    """Per generation (rows): the share of each clone (columns, depth-first order).

    An individual belongs to its nearest ancestor (itself included) whose genotype is a clone;
    ``background`` holds individuals with none (founders below the threshold).
    """
    pop = _pop_of(run)
    cl = clone_assignment(pop, threshold)
    gen = pop.frame["generation"].to_numpy()
    shares = pd.crosstab(gen, cl.clone_of, normalize="index")
    cols = [-1, *muller_order(cl.parent)]
    table = shares.reindex(columns=cols, fill_value=0.0)
    table.columns = ["background" if c < 0 else f"clone_{c}" for c in cols]
    table.index.name = "generation"
    table.attrs["parent"] = dict(cl.parent)
    return table


def clones(run: Run | Population, threshold: float = 0.1) -> pd.DataFrame:
    """The clone tree: one row per clone (parent, genotype, origin, shares, fitness, rank)."""
    pop = _pop_of(run)
    cl = clone_assignment(pop, threshold)
    cl.table.attrs["notes"] = [
        f"{len(cl.table)} clones (genotypes reaching a share of "
        f"{threshold:g}); Muller order {muller_order(cl.parent)}"
    ]
    return cl.table


def interference(run: Run | Population, threshold: float = 0.1) -> pd.DataFrame:
    """Per generation: beneficial clones above ``threshold`` (with descendants), interfering.

    Clonal interference = two or more such clones at once, neither descending from the other.
    """
    pop = _pop_of(run)
    cl = clone_assignment(pop, threshold)
    gen = pop.frame["generation"].to_numpy()
    good = [c for c in cl.table.index if cl.table.loc[c, "beneficial"]] if len(cl.table) else []
    lines = {c: lineage_shares(cl.clone_of, gen, cl.parent, c) for c in good}
    desc = {c: _descendants(cl.parent, c) for c in good}
    rows = []
    for g in pop.generations:
        up = [c for c in good if lines[c].get(g, 0.0) >= threshold]
        pair = any(b not in desc[a] and a not in desc[b] for a in up for b in up if a < b)
        rows.append({"generation": int(g), "n_beneficial": len(up), "interfering": pair,
                     "clones": " ".join(map(str, up))})  # fmt: skip
    table = pd.DataFrame(rows).set_index("generation")
    hits = table.index[table["interfering"]]
    table.attrs["notes"] = [
        f"clonal interference in {len(hits)} of {len(table)} generations"
        + (f" (first at generation {hits[0]})" if len(hits) else "")
    ]
    return table


# ---- distribution of fitness effects ----------------------------------------------------------
def mutations(run: Run | Population, neutral: float = 0.05) -> pd.DataFrame:
    """One row per mutant offspring: its and its parent's fitness, s = W/W_parent − 1, class.

    Classes: ``lethal`` (the child's program is dead), then by s: ``deleterious`` (s < −neutral),
    ``neutral`` (|s| ≤ neutral), ``beneficial`` (s > neutral).
    """
    if not neutral >= 0:
        raise ConfigError(f"neutral must be >= 0, got {neutral}")
    pop = _pop_of(run)
    f = pop.frame
    rows = np.flatnonzero((pop.parent_row >= 0) & (f["n_mutations"].to_numpy() > 0))
    w = f["fitness"].to_numpy()
    wp, wc = w[pop.parent_row[rows]], w[rows]
    s = np.where(wp > 0, wc / np.where(wp > 0, wp, 1.0) - 1.0, np.nan)
    alive = f["alive"].to_numpy()[rows]
    cls = np.where(~alive, "lethal", np.where(s < -neutral, "deleterious",
                   np.where(s > neutral, "beneficial", "neutral")))  # fmt: skip
    return pd.DataFrame({
        "generation": f["generation"].to_numpy()[rows], "id": f["id"].to_numpy()[rows],
        "parent_id": f["parent_id"].to_numpy()[rows],
        "n_mutations": f["n_mutations"].to_numpy()[rows], "w_parent": wp, "w_child": wc,
        "s": s, "class": cls,
    })  # fmt: skip


def dfe(run: Run | Population, periods: int = 4, neutral: float = 0.05) -> pd.DataFrame:
    """Shares of lethal / deleterious / neutral / beneficial mutant offspring per period.

    The offspring generations are cut into ``periods`` near-equal consecutive spans. Also the
    mean s of viable mutants and ``bimodal`` (lethal and neutral shares both above the
    deleterious share: the paper's lethal + near-neutral DFE).
    """
    if not (isinstance(periods, int) and periods >= 1):
        raise ConfigError(f"periods must be an int >= 1, got {periods!r}")
    pop = _pop_of(run)
    m = mutations(pop, neutral)
    gens = pop.generations[1:] if len(pop.generations) > 1 else pop.generations
    spans = [s for s in np.array_split(gens, min(periods, max(len(gens), 1))) if len(s)]
    rows = []
    for i, span in enumerate(spans):
        sel = m[m["generation"].isin(span)]
        n = len(sel)
        share = sel["class"].value_counts().reindex(CLASSES, fill_value=0) / max(n, 1)
        viable = sel[sel["class"] != "lethal"]
        rows.append({
            "period": i, "first_generation": int(span[0]), "last_generation": int(span[-1]),
            "n_mutants": n, **{c: float(share[c]) if n else np.nan for c in CLASSES},
            "mean_s_viable": float(viable["s"].mean()) if len(viable) else np.nan,
            "bimodal": bool(n and share["lethal"] > share["deleterious"]
                            and share["neutral"] > share["deleterious"]),
        })  # fmt: skip
    table = pd.DataFrame(rows).set_index("period")
    table.attrs["notes"] = [
        f"{len(m)} mutant offspring; neutral band |s| <= {neutral:g} "
        "(one training per individual: s includes developmental noise)"
    ]
    return table


def dfe_by_generation(run: Run | Population, neutral: float = 0.05) -> pd.DataFrame:
    """The DFE class shares per offspring generation (the lethal and neutral shares over time)."""
    pop = _pop_of(run)
    m = mutations(pop, neutral)
    table = pd.crosstab(m["generation"], m["class"], normalize="index")
    table = table.reindex(columns=list(CLASSES), fill_value=0.0)
    table["n_mutants"] = m["generation"].value_counts().sort_index()
    table.index.name = "generation"
    return table


# ---- lineages -------------------------------------------------------------------------------
def ancestry(run: Run | Population) -> pd.DataFrame:
    """Per generation: how many individuals are ancestors of the final population.

    The notes give the most recent common ancestor (the latest generation with one ancestor).
    """
    pop = _pop_of(run)
    gen = pop.frame["generation"].to_numpy()
    ids = pop.frame["id"].to_numpy()
    current = set(pop.rows_of(int(pop.generations[-1])).tolist())
    rows, mrca = [], None
    for g in pop.generations[::-1]:
        n_g = int((gen == g).sum())
        rows.append({"generation": int(g), "n_ancestors": len(current),
                     "share": len(current) / max(n_g, 1)})  # fmt: skip
        if len(current) == 1 and mrca is None:
            mrca = next(iter(current))
        current = {int(pop.parent_row[r]) for r in current if pop.parent_row[r] >= 0}
        if not current:
            break
    table = pd.DataFrame(rows[::-1]).set_index("generation")
    final = pop.rows_of(int(pop.generations[-1]))
    best = final[np.argmax(pop.frame["fitness"].to_numpy()[final])]
    notes = [
        f"most recent common ancestor of generation {int(pop.generations[-1])}: "
        + (f"id {ids[mrca]} (generation {gen[mrca]})" if mrca is not None else "none")
    ]
    notes.append(f"fittest final individual: id {ids[best]}; story: neurosoup analyse FILE "
                 f"lineage --id {ids[best]}")  # fmt: skip
    table.attrs["notes"] = notes
    return table


def _program_text(bits: np.ndarray) -> list[str]:
    from neurosoup.particles.serann import default_ribosome

    return default_ribosome().decode(bits.astype(np.uint8))


def story(run: Run | Population, id: int, generations: int = 3,
          decode: bool = True) -> pd.DataFrame:  # fmt: skip
    """``id`` and its ancestors (``generations`` in all, oldest first), with decoded programs.

    Columns: generation, id, parent_id, genotype (hex), n_mutations, mutated sites (vs the
    parent), alpha, fertility, accuracy, copy_error, alive, n_offspring, n_params, arch. The
    notes hold each program (decoded from the genotype by the shipped RiboAE).
    """
    pop = _pop_of(run)
    f = pop.frame
    ids = f["id"].to_numpy()
    hit = np.flatnonzero(ids == id)
    if not len(hit):
        raise ConfigError(
            f"no individual with id {id} in the run (ids {ids.min()} … "
            f"{ids.max()}); pick one from `neurosoup analyse FILE lineage`"
        )
    chain = [int(hit[0])]
    while len(chain) < generations and pop.parent_row[chain[-1]] >= 0:
        chain.append(int(pop.parent_row[chain[-1]]))
    chain = chain[::-1]
    out = f.iloc[chain][["generation", "id", "parent_id", "n_mutations", "alpha", "fertility",
                         "accuracy", "copy_error", "alive", "n_offspring", "n_params",
                         "arch"]].copy()  # fmt: skip
    out.insert(3, "genotype", to_hex(pop.bits[chain]))
    sites = []
    for r in chain:
        p = pop.parent_row[r]
        sites.append(" ".join(map(str, np.flatnonzero(pop.bits[r] != pop.bits[p]))) if p >= 0
                     else "")  # fmt: skip
    out.insert(5, "mutated_sites", sites)
    out = out.set_index("id")
    if decode:
        texts = _program_text(pop.bits[chain])
        notes = []
        for r, text in zip(chain, texts, strict=True):
            state = "alive" if f["alive"].iloc[r] else "dead program"
            notes.append(f"--- id {ids[r]} (generation {f['generation'].iloc[r]}, {state}, "
                         f"alpha {f['alpha'].iloc[r]:.4g}, fertility "
                         f"{f['fitness'].iloc[r]:.4g}) ---")  # fmt: skip
            notes.extend(text.splitlines() or [text])
        out.attrs["notes"] = notes
    return out


def lineage(run: Run | Population, id: int | None = None) -> pd.DataFrame:
    """Without ``id``: the ancestry of the final population; with it: the three-generation story."""
    return ancestry(run) if id is None else story(run, id)


# ---- deep re-evaluation (``neurosoup evaluate``) ----------------------------------------
EVALUATION_ATTR = runformat.EVALUATION_ATTR
EVALUATION_MEASURES = ("accuracy", "fertility", "mutations", "survival")
EVALUATION_TABLES = ("samples", "trainings", "copies", "mutants", "mutant_trainings")


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
        missing = [n for n in EVALUATION_TABLES[:3] if n not in file]
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


def evaluation_summary(data: str | Path | Evaluation) -> pd.DataFrame:
    """Per genotype: mean and sd over its R trainings of each measure, and the recorded values.

    Columns: sample, id, n_carriers, recorded_fertility, then ``<measure>_mean`` and
    ``<measure>_sd`` (ddof 1) for accuracy, fertility, mutations (mean per copy) and survival
    (share of copies whose program is valid).
    """
    ev = _evaluation_of(data)
    grouped = ev.trainings.groupby("sample")
    out = ev.samples[["sample", "id", "n_carriers", "recorded_fertility"]].set_index("sample")
    for m in EVALUATION_MEASURES:
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
    for m in EVALUATION_MEASURES:
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


# ---- figures ------------------------------------------------------------------------------
def evolution_figures(run: Run, *, min_freq: float = 0.1, threshold: float = 0.1,
                      **_: int) -> Figures:  # fmt: skip
    """Every figure that fits an evolution run (PNG + CSV via ``neurosoup plot``)."""
    pop = population(run)
    out: Figures = {}
    ad = adaptation(run)
    out["adaptation"] = (partial(eplots.adaptation_figure, ad), ad)
    out["fitness_vs_mutation"] = (partial(eplots.fitness_vs_mutation_figure, ad), ad)
    freq = allele_frequencies(pop)
    keep = freq.columns[(freq.max() >= min_freq).to_numpy()]
    if len(keep):
        data = freq[keep]
        data.columns = [f"site_{c}" for c in keep]
        out["alleles"] = (partial(eplots.alleles_figure, data, min_freq), data)
    mu = muller(pop, threshold)
    out["muller"] = (partial(eplots.muller_figure, mu, mu.attrs["parent"]), mu)
    if len(mutations(pop)):
        d, per_gen = dfe(pop), dfe_by_generation(pop)
        out["dfe"] = (partial(eplots.dfe_figure, d, per_gen), d)
        out["dfe_by_generation"] = (partial(eplots.dfe_time_figure, per_gen), per_gen)
    return out


register_analyses(
    "evolution",
    {"adaptation": adaptation, "alleles": alleles, "clones": clones, "muller": muller,
     "interference": interference, "dfe": dfe, "mutations": mutations, "lineage": lineage},
    figures=evolution_figures,
    default="adaptation",
)  # fmt: skip

__all__ = [
    "CLASSES",
    "EVALUATION_ATTR",
    "EVALUATION_TABLES",
    "Clones",
    "Evaluation",
    "Population",
    "adaptation",
    "allele_frequencies",
    "alleles",
    "ancestry",
    "architectures",
    "clone_assignment",
    "clones",
    "derived",
    "developmental_noise",
    "dfe",
    "dfe_by_generation",
    "evaluation_summary",
    "evolution_figures",
    "interference",
    "lineage",
    "lineage_shares",
    "muller",
    "muller_layers",
    "muller_order",
    "mutations",
    "population",
    "population_from_columns",
    "read_evaluation",
    "story",
]
