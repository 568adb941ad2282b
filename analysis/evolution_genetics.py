"""Population genetics of a SeRANN run: alleles, clones and the Muller plot, interference, lineages.

Computed from the population table (``evolution_population``); see ``analysis/evolution.py``
for what each analysis reports.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from neurosoup.particles import ConfigError
from neurosoup.particles.serann.genotype import N_BITS, from_hex, to_hex

from .evolution_population import Population, as_population
from .load import Run

# ---- alleles --------------------------------------------------------------------------------
REFERENCES = ("founder", "ancestor")


def derived(run: Run | Population, reference: str = "founder") -> np.ndarray:
    """Derived-allele indicator [R, 100] bool.

    ``founder``: a bit differs from the individual's own founder (first generation, along
    parent ids). ``ancestor``: differs from the run's ``ancestor_hex`` when the founders were
    the ancestor, else from the first generation's majority bit.
    """
    pop = as_population(run)
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
    pop = as_population(run)
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
    pop = as_population(run)
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
    pop = as_population(run)
    cl = clone_assignment(pop, threshold)
    gen = pop.frame["generation"].to_numpy()
    shares = pd.crosstab(gen, cl.clone_of, normalize="index")
    cols = [-1, *muller_order(cl.parent)]
    table = shares.reindex(columns=cols, fill_value=0.0)
    table.columns = ["background" if c < 0 else f"clone_{c}" for c in cols]
    table.index.name = "generation"
    table.attrs["parent"] = dict(cl.parent)
    return table


def clones(run: Run | Population, threshold: float = 0.1,
           fitness: str = "paper") -> pd.DataFrame:  # fmt: skip
    """The clone tree: one row per clone (parent, genotype, origin, shares, fitness, rank).

    A clone's fitness is the mean W of its members (``fitness``: the paper's V·F or fertility).
    """
    pop = as_population(run, fitness)
    cl = clone_assignment(pop, threshold)
    cl.table.attrs["fitness"] = pop.fitness_label
    cl.table.attrs["notes"] = [
        f"fitness: {pop.fitness_label}",
        f"{len(cl.table)} clones (genotypes reaching a share of "
        f"{threshold:g}); Muller order {muller_order(cl.parent)}",
    ]
    return cl.table


def interference(run: Run | Population, threshold: float = 0.1,
                 fitness: str = "paper") -> pd.DataFrame:  # fmt: skip
    """Per generation: beneficial clones above ``threshold`` (with descendants), interfering.

    Clonal interference = two or more such clones at once, neither descending from the other;
    beneficial = a clone's mean W above its parent clone's (``fitness`` as in ``clones``).
    """
    pop = as_population(run, fitness)
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
    table.attrs["fitness"] = pop.fitness_label
    table.attrs["notes"] = [
        f"fitness: {pop.fitness_label}",
        f"clonal interference in {len(hits)} of {len(table)} generations"
        + (f" (first at generation {hits[0]})" if len(hits) else ""),
    ]
    return table


# ---- lineages -------------------------------------------------------------------------------
def ancestry(run: Run | Population) -> pd.DataFrame:
    """Per generation: how many individuals are ancestors of the final population.

    The notes give the most recent common ancestor (the latest generation with one ancestor).
    """
    pop = as_population(run)
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
    pop = as_population(run)
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
                         "viability", "fitness", "accuracy", "copy_error", "alive",
                         "n_offspring", "n_params", "arch"]].copy()  # fmt: skip
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
                         f"{f['fertility_w'].iloc[r]:.4g}, W {f['fitness'].iloc[r]:.4g}) ---")
            notes.extend(text.splitlines() or [text])
        out.attrs["notes"] = notes
    return out


def lineage(run: Run | Population, id: int | None = None) -> pd.DataFrame:
    """Without ``id``: the ancestry of the final population; with it: the three-generation story."""
    return ancestry(run) if id is None else story(run, id)


__all__ = [
    "REFERENCES",
    "Clones",
    "allele_frequencies",
    "alleles",
    "ancestry",
    "clone_assignment",
    "clones",
    "derived",
    "interference",
    "lineage",
    "lineage_shares",
    "muller",
    "muller_layers",
    "muller_order",
    "story",
]
