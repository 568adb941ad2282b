"""The mechanism behind the lethal share: the genotype's neighbourhood and the copier's spectrum.

Two analyses of a SeRANN run (issue 20 §3; ``science/serann.md``, "What a probe of our model
found"):

* ``neighbourhood`` — every ``every`` generations, the commonest living genotype: the dead share
  of its 100 single-bit neighbours and of ``samples`` random 2-, 4- and 8-bit mutants (decode
  and interpret only, with the run's image shape and parameter cap; no training);
* ``spectrum`` — the copier's mutation spectrum per generation from ``site_errors`` (per adult,
  how many of its P copies got each site wrong): the per-site error rate of the copies made, the
  hot spots (a site copied wrongly in ≥ ``hot`` of one adult's copies), the share of errors at
  hot spots and the share of hot-spot errors that are lethal (the adult's genotype with that
  one site flipped decodes to a dead program), weighted by the errors made there.

Readers only: the programs are decoded by the shipped RiboAE and judged by the whitelist
interpreter (``particles.serann``), never executed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from neurosoup.particles import ConfigError
from neurosoup.particles.serann import default_ribosome, interpret
from neurosoup.particles.serann.genotype import N_BITS, to_hex
from neurosoup.particles.serann.ir import Death

from .evolution_population import Population, as_population
from .load import Run

ORDERS = (2, 4, 8)  # the random multi-bit mutants of ``neighbourhood``


class Judge:
    """Whether genotypes decode to a living program under one run's image shape and cap.

    Each distinct decoded text is interpreted once (cached across calls).
    """

    def __init__(self, image_shape: tuple[int, int, int], param_cap: int) -> None:
        self.image_shape, self.param_cap = image_shape, param_cap
        self.ribo = default_ribosome()
        self._verdict: dict[str, bool] = {}

    @classmethod
    def of_run(cls, run: Run) -> Judge:
        """The judge of ``run``'s settings (task → image shape; ``param_cap``)."""
        task = run.config.get("task", "digits")
        shape = (8, 8, 1) if task == "digits" else (28, 28, 1)
        return cls(shape, int(run.config.get("param_cap", 200_000)))

    def dead(self, bits: np.ndarray) -> np.ndarray:
        """bits: [M, 100] uint8 → [M] bool, True where the decoded program is dead."""
        if not len(bits):
            return np.zeros(0, bool)
        texts = self.ribo.decode(torch.from_numpy(np.ascontiguousarray(bits, np.uint8)))
        for t in set(texts) - self._verdict.keys():
            ir = interpret(t, image_shape=self.image_shape, param_cap=self.param_cap)
            self._verdict[t] = isinstance(ir, Death)
        return np.array([self._verdict[t] for t in texts], bool)


def single_mutants(bits: np.ndarray) -> np.ndarray:
    """The 100 single-bit neighbours of one genotype [100] → [100, 100] (row i: bit i flipped)."""
    out = np.repeat(bits[None, :].astype(np.uint8), N_BITS, 0)
    out[np.arange(N_BITS), np.arange(N_BITS)] ^= 1
    return out


def random_mutants(bits: np.ndarray, k: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` mutants of one genotype [100], each with ``k`` distinct random sites flipped."""
    sites = np.argsort(rng.random((n, N_BITS)), axis=1)[:, :k]
    out = np.repeat(bits[None, :].astype(np.uint8), n, 0)
    np.put_along_axis(out, sites, 1 - np.take_along_axis(out, sites, 1), 1)
    return out


def commonest(pop: Population, g: int) -> tuple[int, float] | None:
    """Row of the commonest living genotype of generation ``g`` and its share; None if none."""
    rows = pop.rows_of(g)
    rows = rows[pop.frame["alive"].to_numpy()[rows]]
    if not len(rows):
        return None
    _, first, counts = np.unique(pop.bits[rows], axis=0, return_index=True, return_counts=True)
    best = int(np.argmax(counts))
    return int(rows[first[best]]), float(counts[best] / len(pop.rows_of(g)))


def neighbourhood(run: Run | Population, every: int | None = None, samples: int = 200,
                  seed: int = 0, judge: Judge | None = None) -> pd.DataFrame:  # fmt: skip
    """Dead shares of the commonest living genotype's 1-bit and random 2-, 4-, 8-bit mutants.

    One row per sampled generation (every ``every``-th from the first, and the last; default a
    twentieth of the run): generation, id and hex of the genotype, its share of the
    generation, ``dead_1`` (of its 100 single-bit neighbours; ``lethal_sites`` lists them) and
    ``dead_<k>`` over ``samples`` random k-bit mutants (``numpy.random.default_rng(seed)``,
    one stream per row in order). ``judge``: needed when ``run`` is a bare ``Population``.
    """
    if every is not None and (not isinstance(every, int) or every < 1):
        raise ConfigError(f"--every must be an int >= 1 generation, got {every!r}")
    if not (isinstance(samples, int) and samples >= 1):
        raise ConfigError(f"samples must be an int >= 1, got {samples!r}")
    pop = as_population(run)
    if judge is None:
        if not isinstance(run, Run):
            raise ConfigError("neighbourhood of a bare population table needs a judge")
        judge = Judge.of_run(run)
    gens = pop.generations
    step = every or max(1, len(gens) // 20)
    picked = sorted(set(gens[::step].tolist()) | {int(gens[-1])})
    rng = np.random.default_rng(seed)
    rows = []
    for g in picked:
        hit = commonest(pop, g)
        if hit is None:
            continue
        r, share = hit
        dead1 = judge.dead(single_mutants(pop.bits[r]))
        row = {"generation": int(g), "id": int(pop.frame["id"].iloc[r]),
               "genotype": to_hex(torch.from_numpy(pop.bits[r : r + 1]))[0], "share": share,
               "dead_1": float(dead1.mean())}  # fmt: skip
        for k in ORDERS:
            mutants = random_mutants(pop.bits[r], k, samples, rng)
            row[f"dead_{k}"] = float(judge.dead(mutants).mean())
        row["lethal_sites"] = " ".join(map(str, np.flatnonzero(dead1)))
        rows.append(row)
    cols = ["generation", "id", "genotype", "share", "dead_1", *[f"dead_{k}" for k in ORDERS],
            "lethal_sites"]  # fmt: skip
    table = pd.DataFrame(rows, columns=cols).set_index("generation")
    table.attrs["notes"] = [
        f"commonest living genotype every {step} generation(s); {samples} random mutants per "
        f"order {', '.join(map(str, ORDERS))} (seed {seed}); decoded and interpreted, not trained"
    ]
    return table


def _errors(pop: Population) -> tuple[np.ndarray, np.ndarray]:
    """site_errors [R, 100] and copies made [R] of the living adults (0 for the dead)."""
    if not pop.has_viability:
        raise ConfigError("this run file has no site_errors (it predates evolution_version 2); "
                          "re-run the scenario to get the copier's spectrum")  # fmt: skip
    alive = pop.frame["alive"].to_numpy()
    errors = np.where(alive[:, None], pop.site_errors, 0)
    return errors, np.where(alive, pop.frame["n_copies"].to_numpy(), 0)


def site_error_rates(run: Run | Population) -> pd.DataFrame:
    """Per generation (rows) and site (columns 0 … 99): wrong copies / copies made."""
    pop = as_population(run)
    errors, made = _errors(pop)
    gen = pop.frame["generation"].to_numpy()
    num = pd.DataFrame(errors).groupby(gen).sum()
    den = pd.Series(made).groupby(gen).sum()
    rates = num.div(den.replace(0, np.nan), axis=0)
    rates.index.name, rates.columns.name = "generation", "site"
    return rates


def spectrum(run: Run | Population, hot: float = 0.1,
             judge: Judge | None = None) -> pd.DataFrame:  # fmt: skip
    """The copier's mutation spectrum per generation (see the module docstring).

    Columns: errors_per_copy (mean wrong bits per copy made by the living adults), n_hot_sites
    (sites that are a hot spot of at least one adult), hot_share (share of all errors made at
    an adult's hot spots), hot_lethal_share (share of those hot-spot errors whose single flip
    kills the adult's program), top_sites (the five sites with most errors, with their rates).
    """
    if not 0 < hot <= 1:
        raise ConfigError(f"hot must be in (0, 1], got {hot}")
    pop = as_population(run)
    if judge is None:
        if not isinstance(run, Run):
            raise ConfigError("spectrum of a bare population table needs a judge")
        judge = Judge.of_run(run)
    errors, made = _errors(pop)
    rates = site_error_rates(pop)
    gen = pop.frame["generation"].to_numpy()
    per_adult = errors / np.maximum(made, 1)[:, None]
    is_hot = (per_adult >= hot) & (made > 0)[:, None]
    lethal_cache: dict[bytes, np.ndarray] = {}
    rows = []
    for g in pop.generations:
        here = np.flatnonzero(gen == g)
        e, h = errors[here], is_hot[here]
        total, hot_errors = int(e.sum()), int((e * h).sum())
        lethal = 0
        for r in here[h.any(1)]:
            key = pop.bits[r].tobytes()
            if key not in lethal_cache:
                lethal_cache[key] = judge.dead(single_mutants(pop.bits[r]))
            lethal += int((errors[r] * is_hot[r] * lethal_cache[key]).sum())
        top = rates.loc[g].fillna(0).nlargest(5)
        rows.append({
            "generation": int(g),
            "errors_per_copy": total / made[here].sum() if made[here].sum() else np.nan,
            "n_hot_sites": int(h.any(0).sum()),
            "hot_share": hot_errors / total if total else np.nan,
            "hot_lethal_share": lethal / hot_errors if hot_errors else np.nan,
            "top_sites": " ".join(f"{s}:{v:.2f}" for s, v in top.items() if v > 0),
        })  # fmt: skip
    table = pd.DataFrame(rows).set_index("generation")
    table.attrs["notes"] = [
        f"hot spot: a site copied wrongly in >= {hot:g} of one adult's copies; lethal: the "
        "adult's genotype with that site flipped decodes to a dead program"
    ]
    return table


__all__ = [
    "ORDERS",
    "Judge",
    "commonest",
    "neighbourhood",
    "random_mutants",
    "single_mutants",
    "site_error_rates",
    "spectrum",
]
