"""The fast path of the live page: figures kept between frames and a quick PNG encoder.

Building a matplotlib figure per frame (axes, legend, layout engine) costs more than drawing
10⁴ points, so a live soup keeps one map figure and one counts figure for its life and only
moves their data (``set_offsets``, colours, lines); their margins are fixed (no layout
engine). ``png`` encodes at zlib level 1: the browser gets the same pixels, sooner.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.colors import to_rgba_array
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from PIL import Image

from neurosoup.analysis import plots
from neurosoup.analysis.storyboard import SoupMap
from neurosoup.particles import TYPE_LABELS

LABELS = (*TYPE_LABELS, "unknown")
_RGBA = to_rgba_array([plots.TYPE_COLORS[t] for t in LABELS])  # [6, 4]


def png(fig: Figure, dpi: int = 80) -> bytes:
    """The figure as PNG bytes (Agg canvas, zlib level 1)."""
    fig.set_dpi(dpi)
    fig.canvas.draw()
    rgba = np.asarray(fig.canvas.buffer_rgba())
    buf = io.BytesIO()
    Image.fromarray(rgba[..., :3]).save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def _fixed(figsize: tuple[float, float], right: float = 0.97) -> Figure:
    """A figure on the Agg canvas with fixed margins (no layout engine)."""
    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)
    fig.subplots_adjust(left=0.1, right=right, bottom=0.12, top=0.9)
    return fig


class LiveMap:
    """One soup map figure whose points move: scatter offsets, colours, bonds, legend."""

    def __init__(self, smap: SoupMap) -> None:
        self.fig = _fixed((6.4, 4.8))
        self.ax = self.fig.subplots()
        self.bonds = LineCollection([], colors="#999999", linewidths=0.6, zorder=1)
        self.ax.add_collection(self.bonds)
        self.points = self.ax.scatter([], [], s=10, edgecolors="none", zorder=2)
        self.proxies = [Line2D([], [], ls="", marker="o", color=plots.TYPE_COLORS[t])
                        for t in LABELS]  # fmt: skip
        self.ax.set(xlabel="PC 1", ylabel="PC 2")
        self.limits: tuple[tuple[float, float], tuple[float, float]] | None = None
        self.update_limits(smap)

    def update_limits(self, smap: SoupMap) -> None:
        """Follow the map's (only ever widening) limits."""
        lim = ((smap.low[0], smap.high[0]), (smap.low[1], smap.high[1]))
        if lim != self.limits:
            self.ax.set(xlim=lim[0], ylim=lim[1])
            self.limits = lim

    def draw(self, xy: np.ndarray, types: np.ndarray, bonds: np.ndarray, step: int) -> Figure:
        """Move the points (xy [N, 2], type codes [N], bonds [E, 2] row indices)."""
        codes = np.where((types >= 0) & (types < len(TYPE_LABELS)), types, len(TYPE_LABELS))
        self.points.set_offsets(np.nan_to_num(xy, nan=1e9))
        self.points.set_facecolor(_RGBA[codes])
        self.bonds.set_segments(np.stack([xy[bonds[:, 0]], xy[bonds[:, 1]]], axis=1)
                                if len(bonds) else [])  # fmt: skip
        counts = np.bincount(codes, minlength=len(LABELS))
        shown = [(p, f"{t} ({c})") for p, t, c in zip(self.proxies, LABELS, counts, strict=True)
                 if c]  # fmt: skip
        self.ax.legend(*zip(*shown, strict=True), fontsize=7, loc="upper right")
        self.ax.set_title(f"Particles on the PCA map, step {step}")
        return self.fig


class LiveCounts:
    """One counts-over-time figure (lines per type) whose data grow."""

    def __init__(self) -> None:
        self.fig = _fixed((7, 4), right=0.8)
        self.ax = self.fig.subplots()
        self.lines = {t: self.ax.plot([], [], color=plots.TYPE_COLORS[t], label=t)[0]
                      for t in TYPE_LABELS}  # fmt: skip
        self.ax.set(xlabel="tick", ylabel="particles", title="Particle types over time")
        self.ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8, title="type")

    def draw(self, counts: pd.DataFrame) -> Figure:
        """counts: [T rows] × type columns, index = step."""
        steps = counts.index.to_numpy()
        for t, line in self.lines.items():
            line.set_data(steps, counts[t].to_numpy() if t in counts else np.zeros(len(steps)))
        top = float(counts.to_numpy().max()) if counts.size else 1.0
        self.ax.set_xlim(steps.min() if len(steps) else 0, max(steps.max(), 1) if len(steps) else 1)
        self.ax.set_ylim(0, top * 1.05 + 1)
        return self.fig


__all__ = ["LiveCounts", "LiveMap", "png"]
