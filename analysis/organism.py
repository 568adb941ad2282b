"""Organism analyses (``science/organism.md``, *Analyses* 1–9) of stored particle weights.

The analyses of one network from its weights (``dropout_table``, ``l1_prune_mask``,
``as_network``) live in ``organism_network.py`` and are re-exported here. The run-file
analyses below read only the run file (snapshots under ``/particles/all``, the
observables, the spec's config) and rebuild the test data from the config with the offline
loaders of ``neurosoup.particles.datasets``; nothing here reads the training code. They are
registered for ``neurosoup analyse/plot/report`` under the kind ``organism``.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache, partial
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from neurosoup.particles import (
    ORGANISM_TYPE_LABELS,
    ConfigError,
    OrganismNetwork,
    OrganismType,
    SnapshotError,
)
from neurosoup.particles.datasets import IMAGE_TASKS, NATIVE_SHAPES, ImageData, load_images
from neurosoup.particles.organism import mlp_forward
from neurosoup.particles.runformat import organism as organism_fmt

from . import plots
from .load import Run
from .organism_network import METRICS, as_network, dropout_table, l1_prune_mask, metric_value
from .report import Figures, register_analyses
from .robustness import robustness
from .soup import pca_fit, pca_project

# ---- analyses of an organism run file (science/organism.md, *Analyses* 1–9) ---------------
TYPE_ORDER = ORGANISM_TYPE_LABELS  # divergent, zero, sr, f
CURVE_MEASURES = organism_fmt.CURVES  # sr_loss, task_loss, train_metric, test_metric
DEAD_PIXEL = 0.01  # a pixel whose mean test intensity is below this counts as empty


@lru_cache(maxsize=4)
def _images(task: str, image_size: int | None, data_dir: str | None) -> ImageData:
    return load_images(task, image_size=image_size, data_dir=data_dir)


def _check_organism(run: Run) -> dict[str, Any]:
    if run.kind != organism_fmt.KIND:
        raise ConfigError(f"{run.path} is a {run.kind} run; this analysis needs an organism run")
    cfg = run.config
    if "layer_sizes" not in cfg or "task" not in cfg:
        raise SnapshotError(f"{run.path}: the spec's config lacks layer_sizes or task; re-run it")
    return cfg


def run_network(run: Run, step: int | None = None) -> OrganismNetwork:
    """The ON of a snapshot (last by default), rebuilt from the stored weights and config."""
    cfg = _check_organism(run)
    frame = run.snapshots.frame(step)
    w = torch.as_tensor(np.ascontiguousarray(frame.weights))
    return as_network(w, tuple(cfg["layer_sizes"]), cfg.get("activation", "none"),
                      cfg.get("residual", "none"))  # fmt: skip


def run_types(run: Run, step: int | None = None) -> np.ndarray:
    """Stored ``OrganismType`` codes of a snapshot: [N] int8 in row order."""
    _check_organism(run)
    return run.snapshots.frame(step).ptype.astype(np.int8)


def snapshot_counts(run: Run, step: int | None = None) -> pd.Series:
    """Particles per type (divergent, zero, sr, f) in a snapshot (last by default).

    The last snapshot can precede the last validation epoch (snapshots every
    ``snapshot_every`` epochs); the weight-based analyses all use the snapshot.
    """
    codes = run_types(run, step)
    counts = np.bincount(codes.astype(np.int64), minlength=len(TYPE_ORDER))
    return pd.Series(counts, index=pd.Index(list(TYPE_ORDER), name="type"), name="count")


def image_shape(run: Run) -> tuple[int, int] | None:
    """(H, W) of the run's input images; None for the addition task."""
    cfg = _check_organism(run)
    if cfg["task"] not in IMAGE_TASKS:
        return None
    size = cfg.get("image_size")
    return (int(size), int(size)) if size is not None else NATIVE_SHAPES[cfg["task"]]


def evaluation_data(run: Run, *, n: int = 1000, seed: int = 0) -> tuple[Tensor, Tensor, str]:
    """The run's test set rebuilt from its config: (x, y, metric).

    Images: the fixed test split (clean: no input noise), labels → ``accuracy``. Addition:
    ``n`` fresh ``randn(2)`` pairs from ``seed`` (the run drew fresh pairs too), → ``mae``.
    """
    cfg = _check_organism(run)
    dtype = torch.float64 if cfg.get("dtype") == "float64" else torch.float32
    if cfg["task"] not in IMAGE_TASKS:
        x = torch.randn(n, 2, generator=torch.Generator().manual_seed(seed), dtype=dtype)
        return x, x.sum(dim=1, keepdim=True), "mae"
    data = _images(cfg["task"], cfg.get("image_size"), cfg.get("data_dir"))
    return (torch.as_tensor(data.x_test, dtype=dtype), torch.as_tensor(data.y_test),
            "accuracy")  # fmt: skip


def organism_counts(run: Run) -> pd.DataFrame:
    """Particles per type at every validation epoch (the ``count_*`` observables).

    Returns: one int column per type (divergent, zero, sr, f), indexed by ``step``.
    """
    _check_organism(run)
    obs = run.observables
    cols = list(organism_fmt.TYPE_OBSERVABLES)
    if all(c in obs.columns for c in cols):
        frame = obs[cols].dropna().astype(np.int64)
    else:  # fall back on the stored types of the snapshots
        codes = run.snapshots.all_types()
        frame = pd.DataFrame((codes[:, :, None] == np.arange(len(TYPE_ORDER))).sum(axis=1),
                             index=pd.Index(run.snapshots.steps, name="step"))  # fmt: skip
    frame.columns = list(TYPE_ORDER)
    frame.index.name = "step"
    return frame


def curves(run: Run) -> pd.DataFrame:
    """SR loss, task loss, train and test metric per validation epoch (index ``step``)."""
    _check_organism(run)
    obs = run.observables
    missing = [c for c in CURVE_MEASURES if c not in obs.columns]
    if missing:
        raise SnapshotError(f"{run.path}: observables {missing} missing; re-run the scenario")
    frame = obs[list(CURVE_MEASURES)].dropna(how="all")
    frame.attrs["metric"] = "mae" if run.config.get("task") == "addition" else "accuracy"
    return frame


def curves_over_runs(runs: Sequence[Run]) -> pd.DataFrame:
    """Mean ± sd over several run files of the ``curves`` of each, per epoch and measure.

    Runs must share the task (the same metric). Returns a long table: step, measure, mean,
    sd (ddof 1; 0 for one run), n (runs recorded at that step).
    """
    if len(runs) == 0:
        raise ConfigError("curves_over_runs needs at least one organism run")
    tasks = {_check_organism(r)["task"] for r in runs}
    if len({"addition" if t == "addition" else "images" for t in tasks}) > 1:
        raise ConfigError(f"runs mix tasks with different metrics ({sorted(tasks)}); "
                          "pass runs of one task")  # fmt: skip
    long = pd.concat(
        [
            curves(r).reset_index().melt(id_vars="step", var_name="measure").assign(run=i)
            for i, r in enumerate(runs)
        ],
        ignore_index=True,
    )
    g = long.dropna(subset=["value"]).groupby(["step", "measure"], sort=True)["value"]
    out = pd.DataFrame({"mean": g.mean(), "sd": g.std(ddof=1).fillna(0.0), "n": g.count()})
    out = out.reset_index()
    out.attrs["metric"] = curves(runs[0]).attrs["metric"]
    out.attrs["runs"] = len(runs)
    return out


def pn_sr_robustness(
    run: Run,
    *,
    clones: int = 10,
    cap: int = 1000,
    seed: int = 0,
    step: int | None = None,
    max_parents: int | None = None,
) -> pd.DataFrame:
    """Robustness of the run's PN_SR to noise (``particles.md`` §5 loop, cap 1,000).

    Every PN_SR of the snapshot (last by default; the first ``max_parents`` in row order when
    given) × ``clones`` × σ = 10^-k, k = 0…9: ±U(0, 1)·σ per weight, then replicative
    self-application until zero or divergent. Returns the ``robustness`` table (parent,
    sigma, clone, t_verge, t_fix, censored) plus ``row`` and ``layer`` of the parent and
    ``source`` = ``pn_sr``; empty when there is no PN_SR.
    """
    net = run_network(run, step)
    sr = np.flatnonzero(run_types(run, step) == int(OrganismType.SR))[:max_parents]
    if len(sr) == 0:
        cols = ("parent", "sigma", "clone", "t_verge", "t_fix", "censored", "row", "layer")
        return pd.DataFrame({c: [] for c in cols}).assign(source=pd.Series(dtype=object))
    parents = net.weights[torch.as_tensor(sr)]
    table = robustness(net.spec, parents, clones=clones, cap=cap,
                       epsilon=run.epsilon, seed=seed)  # fmt: skip
    layers = net.index[:, 0].numpy()
    table["row"] = sr[table["parent"].to_numpy()]
    table["layer"] = layers[table["row"].to_numpy()]
    table["source"] = "pn_sr"
    return table


def _chunked(fn, x: Tensor, size: int = 1000) -> Tensor:
    return torch.cat([fn(x[i : i + size]) for i in range(0, x.shape[0], size)])


def resubstitution(
    run: Run, *, step: int | None = None, n_random: int = 1000, seed: int = 0
) -> pd.DataFrame:
    """Re-substitution error of a snapshot (science doc, analysis 4).

    The ON side runs through the *general* path (every particle evaluated on its input), the
    MLP side is ``to_mlp()`` (weights w̃). Returns one row: step, metric, metric_on,
    metric_mlp, metric_diff = |metric_on − metric_mlp| on the test set, max_abs_diff =
    max |ON(x) − MLP(x)| over ``n_random`` standard-normal inputs, n_random, dtype.
    """
    net = run_network(run, step)
    mlp = net.to_mlp()
    x, y, metric = evaluation_data(run, seed=seed)
    x = x.to(net.dtype)
    with torch.no_grad():
        on = _chunked(lambda b: net(b, general=True), x)
        m_on, m_mlp = metric_value(on, y, metric), metric_value(_chunked(mlp, x), y, metric)
        gen = torch.Generator().manual_seed(seed + 1)
        r = torch.randn(n_random, net.layer_sizes[0], generator=gen, dtype=net.dtype)
        diff = float((_chunked(lambda b: net(b, general=True), r) - mlp(r)).abs().max())
    return pd.DataFrame([{
        "step": int(run.snapshots.frame(step).step), "metric": metric, "metric_on": m_on,
        "metric_mlp": m_mlp, "metric_diff": abs(m_on - m_mlp), "max_abs_diff": diff,
        "n_random": n_random, "dtype": str(net.dtype).removeprefix("torch."),
    }])  # fmt: skip


def run_dropout(run: Run, *, step: int | None = None) -> pd.DataFrame:
    """``dropout_table`` of a snapshot on the run's test set (``neurosoup analyse F dropout``).

    Columns exactly strategy, n_removed, metric, delta; ``attrs["notes"]`` holds the overlap
    of the ``l1`` and ``zero_sr`` sets (the CLI prints it under the table).
    """
    net = run_network(run, step)
    x, y, metric = evaluation_data(run)
    table = dropout_table(net, (x, y), metric=metric, epsilon=run.epsilon)
    n_sr = int(table.loc[table["strategy"] == "zero_sr", "n_removed"].iloc[0])
    table.attrs["notes"] = [
        f"overlap of the l1 and zero_sr sets: {table.attrs['l1_overlap_sr']} of {n_sr} "
        f"particles (metric: test {metric}, snapshot at step {run.snapshots.frame(step).step})"
    ]
    return table


def _prune_order(extracted: Tensor, codes: Tensor, strategy: str) -> Tensor:
    """Row order in which a strategy removes particles (stable: ties by row)."""
    mag = extracted.abs().to(torch.float64)
    if strategy == "l1":
        return torch.sort(mag, stable=True).indices
    # zero_sr: PN_SR first, then zero particles, then the rest; smallest |w̃| first in each
    rank = torch.full_like(mag, 2.0)
    rank[codes == int(OrganismType.ZERO)] = 1.0
    rank[codes == int(OrganismType.SR)] = 0.0
    order = torch.sort(mag, stable=True).indices
    return order[torch.sort(rank[order], stable=True).indices]


def pruning_curves(run: Run, *, step: int | None = None, points: int = 51) -> pd.DataFrame:
    """Test metric against the fraction of particles removed, for both strategies.

    ``l1``: the k smallest |w̃| over all layers; ``zero_sr``: the PN_SR first (smallest
    |w̃| first), then zero particles, then the rest by |w̃| — at k = #PN_SR it is exactly the
    PN_SR dropout. Removed particles have w̃ = 0, evaluated in the re-substituted MLP (the
    same as zeroing them in the ON). Fractions: ``points`` evenly from 0 to 1 plus #PN_SR / N.

    Returns: strategy, fraction, n_removed, metric.
    """
    net = run_network(run, step)
    codes = torch.as_tensor(run_types(run, step)).long()
    x, y, metric = evaluation_data(run)
    x = x.to(net.dtype)
    mats = net.extracted_weights()
    flat = torch.cat([m.reshape(-1) for m in mats])
    n = flat.shape[0]
    n_sr = int((codes == int(OrganismType.SR)).sum())
    ks = sorted({*np.round(np.linspace(0, 1, points) * n).astype(int).tolist(), n_sr})
    rows = []
    with torch.no_grad():
        for strategy in ("l1", "zero_sr"):
            order = _prune_order(flat, codes, strategy)
            for k in ks:
                kept = flat.clone()
                kept[order[:k]] = 0.0
                pieces = kept.split([m.numel() for m in mats])
                out = mlp_forward([p.view_as(m) for p, m in zip(pieces, mats, strict=True)], x,
                                  net.activation, net.residual)  # fmt: skip
                rows.append((strategy, k / n, k, metric_value(out, y, metric)))
    table = pd.DataFrame(rows, columns=["strategy", "fraction", "n_removed", "metric"])
    table.attrs.update(metric=metric, n_sr=n_sr, n_particles=n)
    return table


def heatmap(run: Run, *, step: int | None = None) -> pd.DataFrame:
    """PN_SR of the first ON layer over the input pixels, beside the mean test image.

    Particle (0, c, e) sits on pixel e (row-major H×W). Returns one row per pixel: pixel,
    row, col, n_sr (cells whose particle there is PN_SR, 0…n_1), sum_abs_w_sr (Σ |w̃| over
    those PN_SR) and mean_image (mean test intensity). Image tasks only.
    """
    shape = image_shape(run)
    if shape is None:
        raise ConfigError(f"{run.path} trains on {run.config['task']}; the heatmap needs an "
                          "image task (its first layer's particles sit on pixels)")  # fmt: skip
    net = run_network(run, step)
    codes = run_types(run, step)
    n_in, n_out = net.layer_sizes[0], net.layer_sizes[1]
    sr = (codes[net.layer_rows(0)] == int(OrganismType.SR)).reshape(n_out, n_in)
    wt = net.extracted_weights()[0].abs().to(torch.float64).numpy()
    x, _, _ = evaluation_data(run)
    pixel = np.arange(n_in)
    return pd.DataFrame({
        "pixel": pixel, "row": pixel // shape[1], "col": pixel % shape[1],
        "n_sr": sr.sum(axis=0), "sum_abs_w_sr": (wt * sr).sum(axis=0),
        "mean_image": x.to(torch.float64).mean(dim=0).numpy(),
    })  # fmt: skip


def connectivity(run: Run, *, step: int | None = None) -> pd.DataFrame:
    """One segment per particle (science doc, analysis 8), with its type.

    Particle (l, c, e) runs from (x = l − 1, y = e / max(n_l − 1, 1)) to (x = l,
    y = c / max(n_{l+1} − 1, 1)); x = −1 is the input vector. Returns: row, name, l, c, e,
    type, x0, y0, x1, y1.
    """
    net = run_network(run, step)
    codes = run_types(run, step)
    idx = net.index.numpy()
    sizes = np.asarray(net.layer_sizes)
    lo, c, e = idx[:, 0], idx[:, 1], idx[:, 2]
    return pd.DataFrame({
        "row": np.arange(len(idx)), "name": net.names, "l": lo, "c": c, "e": e,
        "type": np.asarray(TYPE_ORDER, dtype=object)[codes],
        "x0": lo - 1.0, "y0": e / np.maximum(sizes[lo] - 1, 1),
        "x1": lo.astype(float), "y1": c / np.maximum(sizes[lo + 1] - 1, 1),
    })  # fmt: skip


def layer_trajectories(run: Run, *, every: int = 1) -> pd.DataFrame:
    """Per-layer PCA(2, whitened) trajectories of the particles (science doc, analysis 9).

    ``single``: a PCA fitted on each particle's own T×P trajectory; ``grouped``: one PCA per
    weight layer fitted on all its particles' snapshots stacked. Types are those of the last
    snapshot. Returns a long table: mode, layer, row, name, step, pc1, pc2, final_type.
    """
    net = run_network(run)
    final = np.asarray(TYPE_ORDER, dtype=object)[run_types(run)]
    steps, uids, w = run.snapshots.trajectories(every)  # [S, U, P], uids sorted
    slot_uid = run.snapshots.frame().uid
    w = w[:, np.searchsorted(uids, slot_uid)]  # → row order
    frames = []
    for layer in range(len(net.layer_counts)):
        rows = np.arange(net.n_particles)[net.layer_rows(layer)]
        part = w[:, rows]  # [S, n, P]
        flat = part.reshape(-1, part.shape[2])
        grouped = _project(flat).reshape(len(steps), len(rows), 2)
        single = np.stack([_project(part[:, j]) for j in range(len(rows))], axis=1)
        for mode, scores in (("grouped", grouped), ("single", single)):
            frames.append(pd.DataFrame({
                "mode": mode, "layer": layer, "row": np.tile(rows, len(steps)),
                "name": np.tile(np.asarray(net.names, dtype=object)[rows], len(steps)),
                "step": np.repeat(steps, len(rows)), "pc1": scores[..., 0].reshape(-1),
                "pc2": scores[..., 1].reshape(-1),
                "final_type": np.tile(final[rows], len(steps)),
            }))  # fmt: skip
    return pd.concat(frames, ignore_index=True)


def _project(x: np.ndarray) -> np.ndarray:
    """Whitened PCA(2) scores of the rows of x [T, P] (NaN where it cannot be fitted)."""
    ok = np.isfinite(x).all(axis=1)
    if ok.sum() < 2:
        return np.full((x.shape[0], 2), np.nan)
    pca = pca_fit(x[ok])
    out = np.full((x.shape[0], 2), np.nan)
    out[ok] = pca_project(pca, x[ok])
    return out


def dead_pixel_share(table: pd.DataFrame, threshold: float = DEAD_PIXEL) -> tuple[int, int]:
    """(#first-layer PN_SR on pixels with mean intensity < threshold, #first-layer PN_SR)."""
    dead = table["mean_image"] < threshold
    return int(table.loc[dead, "n_sr"].sum()), int(table["n_sr"].sum())


# ---- figures and registration ------------------------------------------------------------
def organism_figures(run: Run, *, robustness_clones: int = 10, **_: int) -> Figures:
    """Every figure that fits an organism run: name → (figure builder, plotted table)."""
    from . import organism_plots as op

    out: Figures = {}

    def add(name: str, figure, data: pd.DataFrame, **kw: Any) -> None:
        out[name] = (partial(figure, data, **kw), data)

    counts = organism_counts(run)
    if not counts.empty:
        add("counts", op.counts_figure, counts)
    add("curves", op.curves_figure, curves_over_runs([run]))
    if len(run.snapshots) == 0:
        return out
    rob = pn_sr_robustness(run, clones=robustness_clones)
    if len(rob):
        add("robustness", plots.robustness_figure, rob, title="Robustness of PN_SR to noise")
    add("dropout", op.dropout_figure, run_dropout(run), counts=snapshot_counts(run))
    add("pruning", op.pruning_figure, pruning_curves(run))
    if image_shape(run) is not None:
        add("heatmap", op.heatmap_figure, heatmap(run), shape=image_shape(run))
    add("connectivity", op.connectivity_figure, connectivity(run))
    if len(run.snapshots) >= 2:
        add("trajectories", op.trajectories_figure, layer_trajectories(run))
    return out


def organism_multi_figures(runs: Sequence[Run]) -> Figures:
    """Figures over several run files: the curves, mean ± sd."""
    from . import organism_plots as op

    table = curves_over_runs(runs)
    return {"curves": (partial(op.curves_figure, table), table)}


register_analyses(
    "organism",
    {
        "counts": organism_counts,
        "curves": curves,
        "robustness": pn_sr_robustness,  # keywords: clones, cap, seed
        "resubstitution": resubstitution,
        "dropout": run_dropout,
        "pruning": pruning_curves,
        "heatmap": heatmap,
        "connectivity": connectivity,
        "trajectories": layer_trajectories,  # keyword: every
    },
    figures=organism_figures,
    multi_figures=organism_multi_figures,
    default="counts",
)


__all__ = [
    "CURVE_MEASURES",
    "METRICS",
    "as_network",
    "connectivity",
    "curves",
    "curves_over_runs",
    "dead_pixel_share",
    "dropout_table",
    "evaluation_data",
    "heatmap",
    "image_shape",
    "l1_prune_mask",
    "layer_trajectories",
    "organism_counts",
    "organism_figures",
    "organism_multi_figures",
    "pn_sr_robustness",
    "pruning_curves",
    "resubstitution",
    "run_dropout",
    "run_network",
    "run_types",
    "snapshot_counts",
]
