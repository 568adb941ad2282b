"""Named analyses of a run, every figure that fits it, and a self-contained HTML report.

Dispatch is on the run file's ``kind``: ``ANALYSES[kind]`` maps the names the CLI accepts
(``neurosoup analyse FILE NAME``) to functions ``Run → DataFrame`` and ``FIGURES[kind]`` says
which figures a run supports (for soups: organisms only with bonds, robustness and basins only
with stored fixpoints, the lineage tree only for small soups). Every kind has the generic
``observables`` analysis and figure; a kind's module adds its own with ``register_analyses``.
"""

from __future__ import annotations

import base64
import difflib
import html
import json
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from neurosoup.particles import ConfigError

from . import plots
from .load import Run
from .robustness import (
    linspace_clones,
    robustness_summary,
    run_basins,
    run_robustness,
    stored_fixpoints,
)
from .soup import (
    distance_table,
    final_counts,
    lineage_table,
    organism_sizes,
    pca_trajectories,
    type_counts,
)

LINEAGE_TREE_MAX = 200  # particles; larger lineages are summarised, not drawn


Figures = dict[str, tuple[Callable[[], Figure], pd.DataFrame | pd.Series]]


def observables(run: Run) -> pd.DataFrame:
    """Every observable per recorded step (the generic analysis of any kind)."""
    return run.observables


#: kind → analysis name → function(run, **options) → DataFrame
ANALYSES: dict[str, dict[str, Callable[..., pd.DataFrame]]] = {
    "soup": {
        "counts": type_counts,
        "trajectories": pca_trajectories,
        "lineage": lineage_table,
        "organisms": organism_sizes,
        "robustness": run_robustness,  # keywords: clones, cap, seed
        "basins": run_basins,  # keywords: clones, steps, seed
        "observables": observables,
    },
}
#: kind → figures(run, **options) → Figures; kinds without an entry get the generic one
FIGURES: dict[str, Callable[..., Figures]] = {}
#: kind → figures(runs) → Figures over several run files of that kind (``plot A B C``)
MULTI_FIGURES: dict[str, Callable[..., Figures]] = {}
#: kind → the analysis ``neurosoup analyse FILE`` prints when no name is given
DEFAULT_ANALYSIS: dict[str, str] = {"soup": "counts"}


def register_analyses(
    kind: str,
    analyses: dict[str, Callable[..., pd.DataFrame]],
    figures: Callable[..., Figures] | None = None,
    default: str | None = None,
    multi_figures: Callable[..., Figures] | None = None,
) -> None:
    """Add a kind's analyses (and its figure choosers) to the dispatch tables.

    ``multi_figures(runs)`` draws figures over several run files (mean ± sd over seeds);
    ``write_figures(run, out, others=[...])`` uses it, replacing same-named single-run ones.
    """
    ANALYSES.setdefault(kind, {"observables": observables}).update(analyses)
    if figures is not None:
        FIGURES[kind] = figures
    if default is not None:
        DEFAULT_ANALYSIS[kind] = default
    if multi_figures is not None:
        MULTI_FIGURES[kind] = multi_figures


def analyses_of(kind: str) -> dict[str, Callable[..., pd.DataFrame]]:
    """The analyses a run of this kind supports (the generic one for unknown kinds)."""
    return ANALYSES.get(kind, {"observables": observables})


def analysis(name: str | None, kind: str = "soup") -> Callable[..., pd.DataFrame]:
    """The analysis ``name`` of a kind (None: its default); a did-you-mean error otherwise."""
    table = analyses_of(kind)
    name = name or DEFAULT_ANALYSIS.get(kind, "observables")
    if name not in table:
        close = difflib.get_close_matches(name, table, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise ConfigError(
            f"unknown analysis {name!r} for a {kind} run; {hint}expected one of "
            f"{', '.join(table)}"
        )
    return table[name]


def observable_figures(run: Run, **_: int) -> Figures:
    """One figure of every observable over the recorded steps (any kind)."""
    obs = run.observables
    return {} if obs.empty else {"observables": (partial(plots.observables_figure, obs), obs)}


def run_figures(run: Run, **kwargs: int) -> Figures:
    """Every figure that fits the run: name → (figure builder, plotted table)."""
    from .complexity import complexity_figures  # every kind: high-order entropy over time

    return {**FIGURES.get(run.kind, observable_figures)(run, **kwargs), **complexity_figures(run)}


def soup_figures(run: Run, *, robustness_clones: int = 20, basin_steps: int = 2500) -> Figures:
    """Every figure that fits a soup run."""
    out: Figures = {}

    def add(
        name: str, figure: Callable[..., Figure], data: pd.DataFrame | pd.Series, **kw: str
    ) -> None:
        out[name] = (partial(figure, data, **kw), data)

    counts = type_counts(run)
    if not counts.empty:
        add("counts", plots.counts_figure, counts)
        add("final_counts", plots.final_counts_figure, final_counts(run))
    if len(run.snapshots) == 0:
        return out
    from .soup_muller import muller_figures  # lineages by descent, the evolution Muller code

    out.update(muller_figures(run))
    traj = pca_trajectories(run)
    if traj["pc1"].notna().any():
        add("trajectories", plots.trajectories_figure, traj)
    lineage = lineage_table(run)
    if 0 < len(lineage) <= LINEAGE_TREE_MAX:
        add("lineage", plots.lineage_figure, lineage)
    sizes = organism_sizes(run)
    if len(sizes):
        add("organisms", plots.organism_sizes_figure, sizes)
    fix = stored_fixpoints(run)
    if len(fix):
        add("robustness", plots.robustness_figure, run_robustness(run, clones=robustness_clones))
        add("basins", plots.basin_figure, run_basins(run, steps=basin_steps))
    if len(fix) >= 2:
        lin = linspace_clones(run.particle_spec, fix[0], fix[1], steps=basin_steps)
        add(
            "basins_linspace",
            plots.basin_figure,
            lin,
            x="mae_pre_norm",
            y="mae_post_norm",
            title="Linspace clones: MAE to parent 1 (normalised)",
        )
    frame = run.snapshots.frame()
    finite = np.isfinite(frame.weights).all(axis=1)
    if 2 <= finite.sum() <= LINEAGE_TREE_MAX:
        dist = distance_table(frame.weights[finite], frame.uid[finite], "mim")
        add("distances_mim", plots.distance_figure, dist, metric="mim")
    return out


FIGURES["soup"] = soup_figures


def write_figures(
    run: Run, out_dir: str | Path, *, others: tuple[Run, ...] | list[Run] = (), **kwargs: int
) -> list[Path]:
    """Write every figure of ``run_figures`` as PNG + CSV into ``out_dir``; returns the PNGs.

    ``others``: more run files of the same kind; the kind's multi-run figures are drawn over
    ``[run, *others]`` (a ``ConfigError`` for kinds without them or for mixed kinds).
    """
    figs = run_figures(run, **kwargs)
    if others:
        kinds = sorted({run.kind, *(o.kind for o in others)})
        if len(kinds) > 1:
            raise ConfigError(f"several run files must share one kind, got {', '.join(kinds)}")
        if run.kind not in MULTI_FIGURES:
            raise ConfigError(
                f"{run.kind} runs have no figures over several files; plot one file at a time "
                f"(kinds with them: {', '.join(MULTI_FIGURES) or 'none'})"
            )
        figs.update(MULTI_FIGURES[run.kind]([run, *others]))
    pngs = []
    for name, (build, data) in figs.items():
        png, _ = plots.save_figure(build(), data, out_dir, name)
        pngs.append(png)
    return pngs


def _img(png: Path) -> str:
    data = base64.b64encode(png.read_bytes()).decode()
    return f'<img alt="{png.stem}" src="data:image/png;base64,{data}" style="max-width:100%">'


def _table(frame: pd.DataFrame | pd.Series) -> str:
    return (frame.to_frame() if isinstance(frame, pd.Series) else frame).to_html(
        border=0, float_format=lambda v: f"{v:.4g}"
    )


def write_report(run: Run, out_dir: str | Path, **kwargs: int) -> Path:
    """Write ``report.html`` (images embedded) plus the figures' PNG and CSV into ``out_dir``."""
    out = Path(out_dir)
    figs = run_figures(run, **kwargs)
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>neurosoup report: {html.escape(run.path.name)}</title>",
        "<style>body{font-family:sans-serif;max-width:60em;margin:auto}"
        "table{border-collapse:collapse}td,th{padding:2px 8px;text-align:right}</style>",
        f"</head><body><h1>Run {html.escape(run.path.name)}</h1>",
        f"<p>format version {run.format_version}, kind {html.escape(run.kind)}, written by "
        f"neurosoup {html.escape(run.package_version)}; {len(run.snapshots)} snapshots.</p>",
        "<h2>Resolved scenario</h2><pre>",
        html.escape(json.dumps(run.spec, indent=2, sort_keys=True)),
        "</pre><h2>Observables</h2>",
    ]
    obs = run.observables
    if obs.empty:
        parts.append("<p>No observables recorded.</p>")
    else:
        summary = pd.DataFrame(
            {
                "first": obs.apply(lambda c: c.dropna().iloc[0] if c.notna().any() else None),
                "last": obs.apply(lambda c: c.dropna().iloc[-1] if c.notna().any() else None),
                "min": obs.min(),
                "max": obs.max(),
                "mean": obs.mean(),
            }
        )
        summary.index.name = "observable"
        parts.append(_table(summary))
    parts.append("<h2>Figures</h2>")
    for name, (build, data) in figs.items():
        png, csv = plots.save_figure(build(), data, out, name)
        parts += [f"<h3>{name}</h3>", _img(png), f"<p>Data: <a href='{csv.name}'>{csv.name}</a>"]
        if name == "robustness":
            parts.append(_table(robustness_summary(data)))
        parts.append("</p>")
    parts.append("</body></html>")
    path = out / "report.html"
    out.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


__all__ = [
    "ANALYSES",
    "DEFAULT_ANALYSIS",
    "FIGURES",
    "MULTI_FIGURES",
    "analyses_of",
    "analysis",
    "observable_figures",
    "register_analyses",
    "run_figures",
    "soup_figures",
    "write_figures",
    "write_report",
]
