"""``reproduce organism`` row ``growth`` — beyond the papers: soup-grown vs random organisms.

Per seed: a ``soup/organism-growth-v1`` soup grows organisms shaped as the 2-3-3-1 addition
ON (``docs/growth.md``); ``neurosoup harvest`` takes its largest organism at the last tick
(particles keep their soup weights); the harvested ON and a randomly initialised ON of the same
shape and seed (``organism/float-addition-v1``: same later random draws, only the start
differs) learn float addition. Measures: epochs to test MAE ≤ 1e-4, final MAE, the share of
particles that are self-replicators (start, end), and PN_SR dropout vs l1 pruning. Digits
would need a 395-particle organism (64-5-5-10): beyond the shared 2-core CPU, not run.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from neurosoup.analysis import open_run, plots
from neurosoup.analysis import organism as ao
from neurosoup.analysis.robustness import one_thread
from neurosoup.analysis.soup import organism_sizes

from .common import Result, mean_sd, seeds_label

#: scale → (seeds, soup overrides, ON epochs)
GROWTH_PLAN = {
    "small": (1, {"n_particles": 36, "steps": 60, "self_train.steps": 2,
                  "grow.found_rate": 0.005, "grow.rate": 0.2, "checkpoint_every": 20}, 6),
    "paper": (5, {}, 60),
}  # fmt: skip
TARGET_MAE = 1e-4


def _epochs_to(curve: pd.Series, target: float) -> float:
    """First validated epoch with test MAE ≤ target (NaN: never)."""
    hit = curve[curve <= target]
    return float(hit.index[0]) if len(hit) else np.nan


def _grow_and_train(seed: int, scale: str, out: Path) -> dict[str, float]:
    from neurosoup.chemistry.recorder import record
    from neurosoup.scenarios.harvest import harvest
    from neurosoup.scenarios.registry import make, spec
    from neurosoup.scenarios.runner import resolve

    _, soup_sets, epochs = GROWTH_PLAN[scale]
    runs = out / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    soup_path = runs / f"growth_soup_seed{seed}.h5"
    with one_thread():
        soup = make("soup/organism-growth-v1", seed=seed, **soup_sets)
        record(soup, soup_path, overwrite=True, progress=False)
    (spec_path,) = harvest(soup_path, soup.steps, runs / f"growth_harvest_seed{seed}")
    sc, grown_cfg, _ = resolve(str(spec_path), {"steps": epochs, "validate_every": 1})
    random_cfg = spec("organism/float-addition-v1").resolve(steps=epochs, validate_every=1)
    row: dict[str, float] = {
        "complete": soup.observables["complete_organisms"],
        "largest": soup.observables["largest_organism"],
        "grown": float(grown_cfg.source["grown"]),
    }
    from neurosoup.chemistry.organism_training import OrganismTraining

    for name, cfg in (("grown", grown_cfg), ("random", random_cfg)):
        path = runs / f"growth_{name}_seed{seed}.h5"
        with one_thread():
            record(OrganismTraining(cfg, seed=seed, scenario=sc.id), path, overwrite=True,
                   progress=False)  # fmt: skip
        with open_run(path) as run:
            curve, counts = ao.curves(run)["test_metric"], ao.organism_counts(run)
            drop = ao.run_dropout(run).set_index("strategy")
        row[f"{name}_epochs"] = _epochs_to(curve, TARGET_MAE)
        row[f"{name}_mae"] = float(curve.iloc[-1])
        row[f"{name}_sr0"] = float(counts["sr"].iloc[0])
        row[f"{name}_sr"] = float(counts["sr"].iloc[-1])
        row[f"{name}_drop_sr"] = float(drop.loc["zero_sr", "metric"])
        row[f"{name}_l1"] = float(drop.loc["l1", "metric"])
    return row


def _cell(x: np.ndarray, fmt: str = "{:.2g}") -> str:
    x = np.asarray(x, dtype=float)
    return " / ".join("never" if np.isnan(v) else fmt.format(v) for v in x)


def row_growth(scale: str, seed: int, out: Path) -> list[Result]:
    """Soup-grown vs random 2-3-3-1 ONs on float addition, over the plan's seeds."""
    n, _, epochs = GROWTH_PLAN[scale]
    rows = pd.DataFrame([_grow_and_train(s, scale, out) for s in range(seed, seed + n)])
    rows.index = pd.Index(range(seed, seed + n), name="seed")
    rows.to_csv(out / "organism_growth_table.csv")
    with open_run(out / "runs" / f"growth_soup_seed{seed}.h5") as soup:
        sizes = organism_sizes(soup)
    plots.save_figure(plots.organism_sizes_figure(sizes, "Grown organisms (2-3-3-1 shape)"),
                      sizes, out, "organism_growth_sizes")  # fmt: skip
    common = dict(source="beyond the papers (docs/growth.md): no reference",
                  scale=f"{n} soup{'s' * (n > 1)} → {n} grown + {n} random ONs × {epochs} "
                  "epochs", seeds=seeds_label(seed, n))  # fmt: skip
    exp = "beyond the papers: soup-grown vs random 2-3-3-1 ON, float addition"

    def both(name: str, fmt: str = "{:.2g}") -> str:
        grown, rand = _cell(rows[f"grown_{name}"], fmt), _cell(rows[f"random_{name}"], fmt)
        return f"grown {grown} | random {rand}"

    never = "never = not within the run"
    return [
        Result("growth", exp, "soup: complete organisms (of 18) / largest at the last tick",
               f"{mean_sd(rows['complete'])} / {mean_sd(rows['largest'])}",
               "— (beyond the papers)", **common),
        Result("growth", exp, f"epochs to test MAE ≤ {TARGET_MAE:g} (per seed)",
               both("epochs", "{:.0f}"), f"— (beyond the papers); {never}", **common),
        Result("growth", exp, f"test MAE at epoch {epochs}", both("mae"),
               "— (beyond the papers); random init: 8.1e-8 (public code)", **common),
        Result("growth", exp, "PN_SR of 18 at epoch 0 → at the end",
               f"grown {mean_sd(rows['grown_sr0'])} → {mean_sd(rows['grown_sr'])} | random "
               f"{mean_sd(rows['random_sr0'])} → {mean_sd(rows['random_sr'])}",
               "— (beyond the papers); random init: 18/18 at the end (paper)", **common),
        Result("growth", exp, "test MAE with every PN_SR zeroed vs l1 pruning of as many",
               f"grown {_cell(rows['grown_drop_sr'])} vs {_cell(rows['grown_l1'])} | random "
               f"{_cell(rows['random_drop_sr'])} vs {_cell(rows['random_l1'])}",
               "— (beyond the papers); with 18/18 PN_SR both remove every weight", **common),
    ]  # fmt: skip


__all__ = ["GROWTH_PLAN", "row_growth"]
