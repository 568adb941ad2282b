"""``neurosoup reproduce serann``: the SeRANN headlines (``science/serann.md``) beside ours.

One evolution per scale is recorded to ``out/runs/`` (``small``: ``serann/smoke-v1`` with
N = 16 for 12 generations, about a minute; ``paper``: ``serann/evolution-v1``, N = 64 for 200
generations, about 45 minutes on 2 cores). A file already there with the same settings is
reused, and resumed when it stopped early, so a long run survives an interrupted
``reproduce``. One ``neurosoup evaluate`` file re-trains sampled genotypes of the latest
generation with at least K distinct living genotypes (developmental noise; a converged
population has none to compare) and the single and double mutants of its commonest genotype at
the top-k sites whose single mutant lives (epistasis). Every number is read back from those
files by ``neurosoup.analysis``.

The paper's numbers are N = 1000 over 6000 generations on MNIST; ours are far shorter runs on
8×8 digits, so only directions and shapes compare, never magnitudes.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from neurosoup.analysis import epistasis as ae
from neurosoup.analysis import evolution as ev
from neurosoup.analysis import open_run, plots
from neurosoup.analysis.evolution_plots import epistasis_figure
from neurosoup.analysis.report import write_figures
from neurosoup.analysis.robustness import one_thread
from neurosoup.particles import ConfigError

from .common import Result

SOURCE = "Shvartzman & Ram 2024 (N 1000, 6000 gen., MNIST)"
#: scale → (scenario, overrides, evaluation: sample K, trainings R, top-k sites)
PLAN = {
    "small": ("serann/smoke-v1", {"population": 16, "steps": 12}, (4, 3, 3)),
    "paper": ("serann/evolution-v1", {}, (8, 4, 8)),
}
#: the controls (``mutation_model``) beside the endogenous run: scale → overrides of its run
CONTROLS = ("shuffled", "exogenous")
CONTROL_PLAN = {"small": {"population": 8, "steps": 4}, "paper": {}}


def _model(scale: str, seed: int, control: str | None = None):
    """The scale's evolution model (not yet run); ``control``: a mutation model of CONTROLS."""
    from neurosoup.scenarios.registry import make

    scenario, overrides, _ = PLAN[scale]
    if control is not None:
        overrides = {**overrides, **CONTROL_PLAN[scale], "mutation_model": control}
    return make(scenario, seed=seed, **overrides)


def _run_path(scale: str, seed: int, out: Path, control: str | None = None) -> Path:
    tail = f"_{control}" if control else ""
    return out / "runs" / f"serann_{PLAN[scale][0].split('/')[-1]}{tail}_seed{seed}.h5"


def ensure_run(scale: str, seed: int, out: Path,
               control: str | None = None) -> tuple[Path, str]:  # fmt: skip
    """The scale's evolution run file: recorded, resumed or reused; returns (path, how)."""
    from neurosoup.chemistry.recorder import record, resume

    path = _run_path(scale, seed, out, control)
    scenario, model = PLAN[scale][0], _model(scale, seed, control)
    want = json.loads(json.dumps(model.config.to_dict()))
    t0 = time.perf_counter()
    if path.exists():
        with open_run(path) as run:
            spec, done = run.spec, int(run.observable("mean_fitness")[0][-1])
            extinct = float(run.observable("survival")[1][-1]) == 0.0
        try:  # settings added since the file was written take their defaults
            have = json.loads(json.dumps(type(model.config).from_dict(spec.get("config", {}))
                                         .to_dict()))  # fmt: skip
        except ConfigError:
            have = None
        if have != want or int(spec.get("seed", -1)) != seed:
            raise ConfigError(f"{path} holds another run than {scenario} seed {seed} at scale "
                              f"{scale}; remove it or choose another --out")  # fmt: skip
        if done >= model.config.steps or extinct:
            return path, f"reused {path.name} ({done} generations)"
        with one_thread():
            resume(path, progress=scale == "paper")  # a bar over the long run
        return path, f"resumed {path.name} at generation {done}: {time.perf_counter() - t0:.0f} s"
    path.parent.mkdir(parents=True, exist_ok=True)
    with one_thread():
        record(model, path, progress=scale == "paper")
    return path, f"recorded {path.name}: {time.perf_counter() - t0:.0f} s"


def evaluation_generation(pop: ev.Population, k: int) -> int:
    """The latest generation with >= k distinct living genotypes (else the most diverse one).

    A converged population (one genotype) has no between-genotype variation to set the
    developmental noise against, so the re-evaluation looks back to where there is some.
    """
    alive = pop.frame["alive"].to_numpy()
    counts = {}
    for g in pop.generations:
        rows = pop.rows_of(int(g))
        living = pop.bits[rows[alive[rows]]]
        counts[int(g)] = len(np.unique(living, axis=0)) if len(living) else 0
    diverse = [g for g, c in counts.items() if c >= k]
    return max(diverse) if diverse else max(counts, key=lambda g: (counts[g], g))


def _evaluation(scale: str, seed: int, out: Path) -> Path:
    """The evaluate file of ``evaluation_generation``: noise samples and top-k epistasis.

    Reused when one with the same settings is there (the noise and epistasis rows share it).
    """
    from neurosoup.scenarios.evaluate import evaluate_run, write_evaluation

    path, _ = ensure_run(scale, seed, out)
    target = out / "runs" / f"serann_{scale}_seed{seed}_evaluation.h5"
    sample, trainings, top_k = PLAN[scale][2]
    with open_run(path) as run:
        last = evaluation_generation(ev.population(run), sample)
    if target.exists():
        meta = ev.read_evaluation(target).meta
        same = (meta["source"], meta["generation"], meta["seed"], meta["sample"],
                meta["trainings"], meta.get("epistasis", {}).get("top_k"))  # fmt: skip
        if same == (str(path), last, seed, sample, trainings, top_k):
            return target
    with one_thread():
        result = evaluate_run(path, last, sample, trainings, copies=10, seed=seed, top_k=top_k)
    write_evaluation(result, target, overwrite=True)
    return target


def _windows(table: pd.DataFrame, column: str) -> tuple[float, float]:
    """Mean of ``column`` over its first and last tenth (>= 1 value each; NaNs left out)."""
    values = table[column].to_numpy(float)
    values = values[~np.isnan(values)]
    if not len(values):
        return float("nan"), float("nan")
    w = max(1, len(values) // 10)
    return float(np.nanmean(values[:w])), float(np.nanmean(values[-w:]))


def _scale_label(scale: str, pop: ev.Population) -> str:
    n = int(pop.frame.groupby("generation").size().iloc[0])
    return f"{scale}: N {n}, {len(pop.generations) - 1} generations, 8×8 digits"


def _open(scale: str, seed: int, out: Path) -> tuple[object, str]:
    path, how = ensure_run(scale, seed, out)
    return open_run(path), how


def _lines(row: str, experiment: str, label: str, seed: int,
           items: list[tuple[str, str, str]]) -> list[Result]:  # fmt: skip
    """Table lines of one row from (measure, ours, reference) triples."""
    return [Result(row, experiment, m, o, r, SOURCE, label, str(seed)) for m, o, r in items]


def adaptation_row(scale: str, seed: int, out: Path) -> list[Result]:
    """Mutation-rate fall, fitness, α, survival and robustness: first vs last tenth."""
    run, how = _open(scale, seed, out)
    with run:
        pop = ev.population(run)
        table = ev.adaptation(run)
        fert = ev.adaptation(run, fitness="fertility")
        write_figures(run, out / "serann_figures")
    rate0, rate1 = _windows(table, "mutation_rate")
    fall = f"{rate0 / rate1:.1f}× ({rate0:.2f} → {rate1:.2f})" if rate1 > 0 else (
        f"to 0 ({rate0:.2f} → 0)")  # fmt: skip
    items = [("mutation rate, first → last tenth (fall ×)", fall,
              "2–7 per replication at first; falls 175×")]  # fmt: skip
    refs = {"mean_fitness": "rises", "mean_alpha": "falls (anti-mutators, lower α, win)",
            "survival": "— (dead programs keep their slot)", "robustness": "rises"}  # fmt: skip
    for col, ref in refs.items():
        a, b = _windows(table, col)
        items.append((f"{col}, first → last tenth", f"{a:.3f} → {b:.3f}", ref))
    a, b = _windows(table, "mean_viability")
    items.append(("mean_viability V, first → last tenth", f"{a:.3f} → {b:.3f}",
                  "rises with the fall of the mutation rate"))  # fmt: skip
    for col in ("mean_fitness", "robustness"):
        a, b = _windows(fert, col)
        items.append((f"fertility-only {col}, first → last tenth", f"{a:.3f} → {b:.3f}",
                      "— (not the paper's definition)"))  # fmt: skip
    items.append(("fitness definition", table.attrs["fitness"], "W = V·F"))
    items.append(("the run", how, "8 × V100 GPUs"))
    return _lines("adaptation", "evolution", _scale_label(scale, pop), seed, items)


def dfe_row(scale: str, seed: int, out: Path) -> list[Result]:
    """DFE of new mutations per period: bimodal? lethal and neutral shares first → last."""
    run, _ = _open(scale, seed, out)
    with run:
        pop = ev.population(run)
        table = ev.dfe(pop, periods=4)
        fert = ev.dfe(pop, periods=4, fitness="fertility").dropna(subset=["lethal"])
    known = table.dropna(subset=["lethal"])
    items = [("mutant offspring", "none (no copy errors)", "bimodal: lethal + near-neutral")]
    if len(known):
        first, last = known.iloc[0], known.iloc[-1]
        share = " / ".join(f"{first[c]:.2f}" for c in ev.CLASSES)
        items = [
            ("lethal / deleterious / neutral / beneficial (1st period)",
             f"{share} of {int(first['n_mutants'])}", "bimodal: lethal + near-neutral"),
            ("periods with a bimodal DFE", f"{int(known['bimodal'].sum())} of {len(known)}",
             "bimodal throughout"),
            ("lethal share, first → last period", f"{first['lethal']:.2f} → {last['lethal']:.2f}",
             "falls"),
            ("neutral share, first → last period",
             f"{first['neutral']:.2f} → {last['neutral']:.2f}", "rises (survival of the flattest)"),
            ("lethal / neutral share (W = fertility), first → last period",
             f"{fert['lethal'].iloc[0]:.2f} → {fert['lethal'].iloc[-1]:.2f} / "
             f"{fert['neutral'].iloc[0]:.2f} → {fert['neutral'].iloc[-1]:.2f}",
             "— (not the paper's definition)"),
        ]  # fmt: skip
    return _lines("dfe", "evolution", _scale_label(scale, pop), seed, items)


def clones_row(scale: str, seed: int, out: Path) -> list[Result]:
    """Clonal interference, fixations and soft sweeps."""
    run, _ = _open(scale, seed, out)
    with run:
        pop = ev.population(run)
        inter = ev.interference(pop)
        alleles = ev.alleles(run)
        clones = ev.clones(pop)
    hits = inter.index[inter["interfering"]]
    seen = (f"yes: {len(hits)} of {len(inter)} generations (first {int(hits[0])})" if len(hits)
            else f"no ({len(clones)} clones)")  # fmt: skip
    fixed = len(alleles["fixed_at"].dropna()) if len(alleles) else 0
    soft = int(alleles["soft"].sum()) if len(alleles) else 0
    return _lines("clones", "evolution", _scale_label(scale, pop), seed, [
        ("clonal interference seen", seen, "yes"),
        ("derived alleles fixed / soft sweeps", f"{fixed} / {soft}",
         "bursts of fixation; soft sweeps (site 62)"),
    ])  # fmt: skip


def epistasis_row(scale: str, seed: int, out: Path) -> list[Result]:
    """Pairwise epistasis of the top-k viable sites on the commonest genotype."""
    path = _evaluation(scale, seed, out)
    e = ev.read_evaluation(path)
    pairs = ae.epistasis(e)
    counts = ae.summary(pairs)
    if len(pairs):
        plots.save_figure(epistasis_figure(pairs), pairs, out, "serann_epistasis")
    label = (f"{scale}: generation {e.meta['generation']} (latest with >= {PLAN[scale][2][0]} "
             f"living genotypes), top {PLAN[scale][2][2]} sites whose single mutant lives, "
             f"{e.meta['trainings']} trainings each")  # fmt: skip
    ours = (f"{counts['significant']} of {counts['defined']} defined ε significant "
            f"(mean abs ε {counts['mean_abs_epsilon']:.3f}); {counts['sign_epistasis']} of "
            f"{counts['pairs']} pairs sign epistasis; {counts['synthetic_lethal']} synthetic "
            "lethal")  # fmt: skip
    return _lines("epistasis", "evaluate", label, seed, [
        ("site pairs with epistasis (2 se)", ours,
         "widespread, incl. sign epistasis (sites 37 & 83)")])  # fmt: skip


def noise_row(scale: str, seed: int, out: Path) -> list[Result]:
    """Developmental noise: the share of fertility variation within one genotype."""
    e = ev.read_evaluation(_evaluation(scale, seed, out))
    noise = ev.developmental_noise(e)
    label = (f"{scale}: generation {e.meta['generation']}, {e.meta['n_sampled']} genotypes × "
             f"{e.meta['trainings']} trainings")  # fmt: skip
    fert = noise.loc["fertility"]
    ours = (f"within-genotype share of fertility variance {fert['share']:.2f} (sd "
            f"{np.sqrt(fert['within_var']):.3f}); of mutations per copy "
            f"{noise.loc['mutations', 'share']:.2f}")  # fmt: skip
    return _lines("noise", "evaluate", label, seed, [
        ("developmental noise", ours, "identical genotypes give different phenotypes")])


def mechanism_row(scale: str, seed: int, out: Path) -> list[Result]:
    """The commonest genotype's neighbourhood and the copier's spectrum, first → last."""
    run, _ = _open(scale, seed, out)
    with run:
        pop = ev.population(run)
        near = ev.neighbourhood(run)
        spec = ev.spectrum(run) if pop.has_viability else None
    items = [("dead share of the commonest genotype's 1 / 8-bit mutants, first → last",
              f"{near['dead_1'].iloc[0]:.2f} → {near['dead_1'].iloc[-1]:.2f} / "
              f"{near['dead_8'].iloc[0]:.2f} → {near['dead_8'].iloc[-1]:.2f}",
              "— (probe: 0 → 0.55 single-bit, N 32, 16 generations)")]  # fmt: skip
    if spec is not None:
        for col, what in (("errors_per_copy", "errors per copy"),
                          ("hot_share", "share of errors at hot spots"),
                          ("hot_lethal_share", "share of hot-spot errors lethal")):  # fmt: skip
            a, b = _windows(spec, col)
            items.append((f"{what}, first → last tenth", f"{a:.2f} → {b:.2f}", "—"))
    return _lines("mechanism", "evolution", _scale_label(scale, pop), seed, items)


def controls_row(scale: str, seed: int, out: Path) -> list[Result]:
    """The controls (shuffled, exogenous) beside the endogenous run: rate, W, survival."""
    items = []
    labels = []
    for control in CONTROLS:
        path, _ = ensure_run(scale, seed, out, control)
        with open_run(path) as run:
            pop = ev.population(run)
            table = ev.adaptation(run)
            stop = len(pop.generations) - 1
            n = int(pop.frame.groupby("generation").size().iloc[0])
        labels.append(f"{control} N {n}, {stop} generations")
        parts = []
        for col in ("mutation_rate", "mean_fitness", "survival"):
            a, b = _windows(table, col)
            parts.append(f"{col} {a:.2f} → {b:.2f}")
        items.append((f"{control}: first → last tenth", "; ".join(parts),
                      "— (issue 20 control)"))  # fmt: skip
    return _lines("controls", "evolution", f"{scale}: " + ", ".join(labels), seed, items)


SERANN_ROWS: dict[str, Callable[[str, int, Path], list[Result]]] = {
    "adaptation": adaptation_row,
    "dfe": dfe_row,
    "clones": clones_row,
    "epistasis": epistasis_row,
    "noise": noise_row,
    "mechanism": mechanism_row,
    "controls": controls_row,
}
