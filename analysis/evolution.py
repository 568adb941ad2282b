"""Analyses of SeRANN evolution run files (``kind = "evolution"``, ``science/serann.md``).

Everything is read from ``/population`` (one row per individual and generation: id, parent id,
packed genotype, α, alive, fertility, viability, fitness, offspring, mutations, site errors) and
``/architectures``. An individual's fitness is the paper's W = V·F (V: the viable share of the
copies it made; F: fertility; 0 for a dead program); on files that predate V, W is fertility and
the tables say so. ``fitness="fertility"`` (``--fitness fertility``) keeps W = fertility on any
file, labelled as such (table ``attrs["fitness"]`` and the notes). Analyses
(``neurosoup analyse FILE NAME``):

* ``adaptation`` (the default) — per generation: mean fitness, viability, fertility, survival,
  mutation rate (mean mutations of the offspring this generation made), α, mutational robustness
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
  lethal (W = 0: a dead program, or no viable copy) / deleterious / neutral / beneficial shares
  of mutant offspring, by
  W_child / W_parent − 1 against ``neutral``; ``mutations`` — one row per mutant offspring;
* ``neighbourhood`` and ``spectrum`` — the mechanism behind the lethal share
  (``evolution_mechanism``): the dead share of the commonest genotype's mutants, and the
  copier's per-site error rates, hot spots and their lethal share;
* ``lineage`` — without ``--id``: the ancestry of the final population (ancestors per
  generation, most recent common ancestor); with ``--id N``: N and its parent and grandparent
  (genotype, mutated sites, α, fertility, survival, offspring) and their decoded programs.

``read_evaluation``, ``evaluation_summary`` and ``developmental_noise`` read the files of
``neurosoup evaluate`` (re-trainings of sampled genotypes; plain HDF5, not run files).

Readers only: nothing here imports ``neurosoup.chemistry`` or ``neurosoup.scenarios``. Fitness
values are one training each, so every fitness difference includes developmental noise.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd

from neurosoup.particles import ConfigError

from . import evolution_plots as eplots
from .evolution_evaluation import (
    EVALUATION_ATTR,
    EVALUATION_MEASURES,
    EVALUATION_TABLES,
    Evaluation,
    developmental_noise,
    evaluation_summary,
    read_evaluation,
)
from .evolution_genetics import (
    REFERENCES,
    Clones,
    allele_frequencies,
    alleles,
    ancestry,
    clone_assignment,
    clones,
    derived,
    interference,
    lineage,
    lineage_shares,
    muller,
    muller_layers,
    muller_order,
    story,
)
from .evolution_mechanism import neighbourhood, site_error_rates, spectrum
from .evolution_population import (
    SCALAR_COLUMNS,
    Population,
    architectures,
    as_population,
    population,
    population_from_columns,
)
from .load import Run
from .report import Figures, register_analyses

CLASSES = ("lethal", "deleterious", "neutral", "beneficial")


# ---- adaptation ---------------------------------------------------------------------------
def adaptation(run: Run | Population, window: int | None = None,
               fitness: str = "paper") -> pd.DataFrame:  # fmt: skip
    """Per generation: fitness, viability, fertility, survival, mutation rate, α, robustness.

    ``mean_fitness`` is the mean of W (``fitness``: the paper's V·F or fertility);
    ``mean_viability`` the mean V of the living (NaN on files that predate V);
    ``mean_fertility`` the mean F of the living.
    ``mutation_rate`` of generation g is the mean number of mutations of the offspring g made
    (the rows of g + 1; for the last generation the stored observable when there is one).
    ``robustness`` = 1 − mean |W_child − W_parent| over g's mutant offspring (Eq 5). ``window``:
    the rolling-mean width (default: a tenth of the generations, at least 1). Each column has
    its rolling mean (``<col>_rolling``).
    """
    pop = as_population(run, fitness)
    f = pop.frame
    fert, viab = f["fertility_w"].to_numpy(), f["viability"].to_numpy(float)
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
            "mean_viability": _nanmean(viab[here & alive]),
            "mean_fertility": fert[here & alive].mean() if (here & alive).any() else np.nan,
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
    for col in ("mean_fitness", "mean_viability", "mean_fertility", "survival", "mutation_rate",
                "mean_alpha", "robustness"):  # fmt: skip
        table[f"{col}_rolling"] = table[col].rolling(window, min_periods=1).mean()
    table.attrs["window"] = window
    _label(table, pop)
    return table


def _nanmean(x: np.ndarray) -> float:
    x = x[~np.isnan(x)]
    return float(x.mean()) if len(x) else float("nan")


def _label(table: pd.DataFrame, pop: Population) -> None:
    """Name the fitness definition in ``attrs["fitness"]`` and the first note."""
    table.attrs["fitness"] = pop.fitness_label
    table.attrs["notes"] = [f"fitness: {pop.fitness_label}", *table.attrs.get("notes", [])]


# ---- distribution of fitness effects ----------------------------------------------------------
def mutations(run: Run | Population, neutral: float = 0.05,
              fitness: str = "paper") -> pd.DataFrame:  # fmt: skip
    """One row per mutant offspring: its and its parent's fitness, s = W/W_parent − 1, class.

    Classes: ``lethal`` (W_child = 0: a dead program, or under W = V·F a living one none of
    whose copies lives), then by s: ``deleterious`` (s < −neutral), ``neutral`` (|s| ≤
    neutral), ``beneficial`` (s > neutral). ``alive``: the child's own program is valid.
    """
    if not neutral >= 0:
        raise ConfigError(f"neutral must be >= 0, got {neutral}")
    pop = as_population(run, fitness)
    f = pop.frame
    rows = np.flatnonzero((pop.parent_row >= 0) & (f["n_mutations"].to_numpy() > 0))
    w = f["fitness"].to_numpy()
    wp, wc = w[pop.parent_row[rows]], w[rows]
    s = np.where(wp > 0, wc / np.where(wp > 0, wp, 1.0) - 1.0, np.nan)
    alive = f["alive"].to_numpy()[rows]
    cls = np.where(~alive | (wc == 0), "lethal", np.where(s < -neutral, "deleterious",
                   np.where(s > neutral, "beneficial", "neutral")))  # fmt: skip
    table = pd.DataFrame({
        "generation": f["generation"].to_numpy()[rows], "id": f["id"].to_numpy()[rows],
        "parent_id": f["parent_id"].to_numpy()[rows],
        "n_mutations": f["n_mutations"].to_numpy()[rows], "w_parent": wp, "w_child": wc,
        "s": s, "class": cls, "alive": alive,
    })  # fmt: skip
    _label(table, pop)
    return table


def dfe(run: Run | Population, periods: int = 4, neutral: float = 0.05,
        fitness: str = "paper") -> pd.DataFrame:  # fmt: skip
    """Shares of lethal / deleterious / neutral / beneficial mutant offspring per period.

    The offspring generations are cut into ``periods`` near-equal consecutive spans. Also the
    mean s of viable mutants and ``bimodal`` (lethal and neutral shares both above the
    deleterious share: the paper's lethal + near-neutral DFE).
    """
    if not (isinstance(periods, int) and periods >= 1):
        raise ConfigError(f"periods must be an int >= 1, got {periods!r}")
    pop = as_population(run, fitness)
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
    _label(table, pop)
    return table


def dfe_by_generation(run: Run | Population, neutral: float = 0.05,
                      fitness: str = "paper") -> pd.DataFrame:  # fmt: skip
    """The DFE class shares per offspring generation (the lethal and neutral shares over time)."""
    pop = as_population(run, fitness)
    m = mutations(pop, neutral)
    table = pd.crosstab(m["generation"], m["class"], normalize="index")
    table = table.reindex(columns=list(CLASSES), fill_value=0.0)
    table["n_mutants"] = m["generation"].value_counts().sort_index()
    table.index.name = "generation"
    _label(table, pop)
    return table


# ---- figures ------------------------------------------------------------------------------
def evolution_figures(run: Run, *, min_freq: float = 0.1, threshold: float = 0.1,
                      fitness: str = "paper", **_: int) -> Figures:  # fmt: skip
    """Every figure that fits an evolution run (PNG + CSV via ``neurosoup plot``)."""
    pop = as_population(run, fitness)
    out: Figures = {}
    ad = adaptation(pop)
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
    if pop.has_viability:
        spec, rates = spectrum(run), site_error_rates(pop)
        out["spectrum"] = (partial(eplots.spectrum_figure, rates, spec), spec)
    near = neighbourhood(run)
    if len(near):
        out["neighbourhood"] = (partial(eplots.neighbourhood_figure, near), near)
    return out


register_analyses(
    "evolution",
    {"adaptation": adaptation, "alleles": alleles, "clones": clones, "muller": muller,
     "interference": interference, "dfe": dfe, "mutations": mutations, "lineage": lineage,
     "neighbourhood": neighbourhood, "spectrum": spectrum},
    figures=evolution_figures,
    default="adaptation",
)  # fmt: skip

__all__ = [
    "CLASSES",
    "EVALUATION_ATTR",
    "EVALUATION_MEASURES",
    "EVALUATION_TABLES",
    "REFERENCES",
    "SCALAR_COLUMNS",
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
    "neighbourhood",
    "population",
    "population_from_columns",
    "read_evaluation",
    "site_error_rates",
    "spectrum",
    "story",
]
