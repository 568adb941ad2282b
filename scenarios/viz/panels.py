"""The panels of a view page, declared once per kind (``PAGES``), for live and replay models.

A panel is a function ``panel(model) -> solara element`` (Mesa's ``SolaraViz`` re-renders it
after every step). Each kind declares:

* ``summary``: the observables printed in the one-line status (the counts a test reads);
* ``series``: figures over time, each a title and the observables it draws;
* the frame figure of the model (``models.py``): soup PCA map, organism heatmap, evolution
  Muller plot, quine SSE and R² per member;
* soups with merge also get the organisms drawn with networkx.

Figures are drawn on the Agg canvas and sent as PNG.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import solara
from matplotlib.figure import Figure

from neurosoup.analysis import plots
from neurosoup.particles.runformat import evolution as evo_fmt
from neurosoup.particles.runformat import organism as org_fmt
from neurosoup.particles.runformat import quine as quine_fmt
from neurosoup.particles.runformat import soup as soup_fmt
from neurosoup.particles.runformat.common import count_observable

from .fast import png

#: the last panel render times in seconds, by panel name (for benchmarks and the status line)
TIMINGS: dict[str, float] = {}


@dataclass(frozen=True)
class KindPage:
    """What a kind's page shows: status observables, figures over time, organisms or not."""

    summary: tuple[str, ...]
    series: tuple[tuple[str, tuple[str, ...]], ...]
    counts: tuple[str, ...] = ()
    organisms: bool = False


_EVOLUTION = tuple(n for n in evo_fmt.OBSERVABLES
                   if n in ("mean_fitness", "mean_viability", "mutation_rate", "mean_alpha"))
PAGES: dict[str, KindPage] = {
    "soup": KindPage(summary=(*soup_fmt.TYPE_OBSERVABLES, soup_fmt.N_ALIVE), series=(),
                     counts=soup_fmt.TYPE_OBSERVABLES, organisms=True),
    "organism": KindPage(summary=(*org_fmt.TYPE_OBSERVABLES, org_fmt.TRAIN_METRIC,
                                  org_fmt.TEST_METRIC),
                         series=(("accuracy or MAE", (org_fmt.TRAIN_METRIC, org_fmt.TEST_METRIC)),),
                         counts=org_fmt.TYPE_OBSERVABLES),
    "evolution": KindPage(summary=_EVOLUTION, series=(
        ("fitness, viability, mutation rate and α per generation", _EVOLUTION),)),
    "quine": KindPage(summary=(quine_fmt.SSE, quine_fmt.R2),
                      series=(("SSE and R² per member", (quine_fmt.SSE, quine_fmt.R2)),)),
}  # fmt: skip
_COUNT = count_observable("")  # the prefix of every type count


def _png(fig: Figure | None, name: str, started: float) -> Any:
    if fig is None:
        TIMINGS[name] = time.perf_counter() - started
        return solara.Text("")
    data = png(fig)
    TIMINGS[name] = time.perf_counter() - started
    return solara.Image(data, format="png")


def _columns(history: pd.DataFrame, names: tuple[str, ...]) -> list[str]:
    """History columns of the named observables (``sse`` also matches ``sse_0``, ``sse_1``…)."""
    out = []
    for name in names:
        out += [c for c in history.columns if c == name or (c.startswith(f"{name}_")
                and c[len(name) + 1 :].isdigit())]  # fmt: skip
    return out


def status_text(model: Any) -> str:
    """One line: the step and the kind's summary observables now (``name value`` pairs)."""
    page = PAGES[model.kind]
    hist = model.history()
    parts = [f"step {model.current_step}"]
    if len(hist):
        last = hist.iloc[-1]
        for col in _columns(hist, page.summary)[:12]:
            v = last[col]
            label = col.removeprefix(_COUNT)
            parts.append(f"{label} {int(v)}" if col.startswith(_COUNT) and np.isfinite(v)
                         else f"{label} {v:.4g}")  # fmt: skip
    return " · ".join(parts)


def status_panel(model: Any) -> Any:
    """The status line (what the end-to-end test reads)."""
    return solara.Markdown(f"**{status_text(model)}**")


def counts_of(model: Any) -> Figure | None:
    """Particle types over time (stacked; organism types as lines)."""
    page = PAGES[model.kind]
    hist = model.history()
    cols = [c for c in page.counts if c in hist.columns]
    if not cols:
        return None
    counts = hist[cols].dropna().astype(np.int64)
    counts.columns = [c.removeprefix(_COUNT) for c in cols]
    if all(c in plots.TYPE_COLORS for c in counts.columns):
        fast = getattr(model, "counts_figure", None)  # a live soup keeps one figure
        return fast(counts) if fast is not None else plots.counts_figure(counts)
    return plots.observables_figure(counts, "Particle types over time")


def series_of(title: str, names: tuple[str, ...]) -> Callable[[Any], Figure | None]:
    """A figure function drawing the named observables over time."""

    def figure(model: Any) -> Figure | None:
        hist = model.history()
        cols = _columns(hist, names)
        return plots.observables_figure(hist[cols], title) if cols and len(hist) else None

    return figure


def frame_of(model: Any) -> Figure | None:
    """The kind's picture of the current moment (PCA map, heatmap, Muller plot, SSE/R²)."""
    return model.frame_figure()


def organisms_of(model: Any) -> Figure | None:
    """Soups with merge: the organisms as graphs."""
    return organisms_figure(model.bonds(), model.current_step)


def figures(model: Any) -> dict[str, Callable[[Any], Figure | None]]:
    """The figure functions of ``model``'s kind, in page order (name → function)."""
    page = PAGES[model.kind]
    out: dict[str, Callable[[Any], Figure | None]] = {}
    if page.counts:
        out["counts"] = counts_of
    for title, names in page.series:
        out[title] = series_of(title, names)
    out["frame"] = frame_of
    if page.organisms and _has_merge(model):
        out["organisms"] = organisms_of
    return out


def figure_panel(name: str, fn: Callable[[Any], Figure | None]) -> Callable[[Any], Any]:
    """A panel showing ``fn(model)`` as PNG; its build time goes to ``TIMINGS[name]``."""

    def panel(model: Any) -> Any:
        t = time.perf_counter()
        return _png(fn(model), name, t)

    panel.__name__ = f"panel_{fn.__name__}"
    return panel


def organisms_figure(bonds: np.ndarray, step: int) -> Figure:
    """Organisms (bond components) drawn with networkx; bonds: [E, 2] uid pairs."""
    fig = plots._figure((5, 4))
    ax = fig.subplots()
    g = nx.Graph()
    g.add_edges_from(np.asarray(bonds).reshape(-1, 2).tolist())
    n_org = sum(1 for c in nx.connected_components(g) if len(c) >= 2)
    if g.number_of_nodes():
        pos = nx.spring_layout(g, seed=0, iterations=30)
        nx.draw_networkx(g, pos, ax=ax, node_size=40, with_labels=g.number_of_nodes() <= 30,
                         font_size=6, node_color="#2ca02c", edge_color="#888888")  # fmt: skip
    ax.set_axis_off()
    ax.set_title(f"{n_org} organisms, {g.number_of_edges()} bonds, step {step}")
    return fig


def components(model: Any) -> list[Callable[[Any], Any]]:
    """The panels of ``model``'s kind, in page order: the status line, then the figures."""
    return [status_panel, *(figure_panel(n, f) for n, f in figures(model).items())]


def _has_merge(model: Any) -> bool:
    ops = (getattr(model, "config", None) or {})
    if hasattr(ops, "op"):
        return ops.op("merge") is not None
    spec = getattr(getattr(model, "run_file", None), "config", {}) or {}
    return any(o.get("name") == "merge" for o in spec.get("operators", []) if isinstance(o, dict))


__all__ = ["PAGES", "TIMINGS", "KindPage", "components", "figures", "organisms_figure",
           "status_text"]
