"""The models a view page drives: a live model of a scenario, or a replay of a run file.

Both are Mesa models (Mesa's ``SolaraViz`` steps, plays and resets them) with the same small
read interface for the panels (``panels.py``): ``kind``, ``current_step``, ``history()`` —
the observables up to now as a table indexed by step — and ``frame_figure()``, the kind's
picture of the current moment (or None). Neither ever writes a file: a replay opens its run
file read-only through ``neurosoup.analysis``.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import mesa
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from neurosoup.analysis import open_run
from neurosoup.analysis.storyboard import SoupMap, fit_map, quine_figure, storyboard
from neurosoup.chemistry.model_kinds import get_kind
from neurosoup.particles.runformat import quine as quine_fmt

from ..runner import resolve
from .fast import LiveCounts, LiveMap


def flatten(observables: dict[str, Any]) -> dict[str, float]:
    """Scalars as they are; a per-member array ``name`` [Q] as ``name_0 … name_{Q−1}``."""
    out: dict[str, float] = {}
    for name, value in observables.items():
        arr = np.asarray(value, dtype=np.float64).reshape(-1)
        if np.ndim(value) == 0:
            out[name] = float(arr[0])
        else:
            out.update({f"{name}_{j}": float(v) for j, v in enumerate(arr)})
    return out


class ReplayModel(mesa.Model):
    """A run file played back: one ``step()`` moves to the next recorded frame.

    Args:
        path: the run file (opened read-only; refused with ``SnapshotError`` when damaged).
        frame: the frame to start at.
    """

    def __init__(self, path: str, frame: int = 0) -> None:
        super().__init__(seed=0)
        self.path = str(path)
        self.run_file = open_run(self.path)
        self.run_file.verify()
        self.kind = self.run_file.kind
        self.board = storyboard(self.run_file)
        self.observables = self.run_file.observables
        self.n_frames = len(self.board)
        self.frame = max(0, min(int(frame), self.n_frames - 1))
        self.running = self.frame < self.n_frames - 1
        self._draw = cache(self.board.draw)

    def step(self) -> None:
        """Show the next recorded frame (the last one stops play)."""
        self.goto(self.frame + 1)

    def goto(self, frame: int) -> None:
        """Show frame ``frame`` (clipped to the run's frames)."""
        self.frame = max(0, min(int(frame), self.n_frames - 1))
        self.running = self.frame < self.n_frames - 1

    @property
    def current_step(self) -> int:
        """The model step (tick, epoch, generation) of the frame shown."""
        return int(self.board.steps[self.frame]) if self.n_frames else 0

    def history(self) -> pd.DataFrame:
        """The recorded observables up to the frame shown."""
        obs = self.observables
        return obs.loc[: self.current_step] if len(obs) else obs

    def frame_figure(self) -> Figure | None:
        """The storyboard's figure of the frame shown."""
        return self._draw(self.frame) if self.n_frames else None

    def bonds(self) -> np.ndarray:
        """Bonds (uid pairs, [E, 2]) of the frame shown (soups)."""
        return self.run_file.bonds(self.current_step) if self.kind == "soup" else np.zeros((0, 2))


def live_model(target: str, sets: dict[str, Any] | None = None, seed: int | None = None
               ) -> LiveBase:  # fmt: skip
    """A live model of a scenario id or TOML file (plus overrides), ready to step."""
    sc, _, file_seed = resolve(target, sets)
    seed = seed if seed is not None else (file_seed or 0)
    return live_class(sc.kind)(target=target, seed=seed, **(sets or {}))


class LiveBase:
    """Mixin of every live model: its history and its frame figure."""

    kind: str
    steps: int

    def _start_history(self) -> None:
        self._rows = [{"step": int(self.steps), **flatten(self.observables)}]
        self.subscribe(lambda m: m._rows.append({"step": int(m.steps), **flatten(m.observables)}))
        self._map: SoupMap | None = None
        self._live_map: LiveMap | None = None
        self._live_counts: LiveCounts | None = None

    @property
    def current_step(self) -> int:
        """The model's step count."""
        return int(self.steps)

    def history(self) -> pd.DataFrame:
        """Observables of every step so far, indexed by step."""
        return pd.DataFrame(self._rows).set_index("step")

    def frame_figure(self) -> Figure | None:
        """Soups: the particles on the PCA map; quines: SSE and R² per member; else None."""
        if self.kind == "soup":
            return self._soup_map()
        if self.kind == "quine" and quine_fmt.SSE in self.observables:
            obs = self.observables
            sse = pd.Series(np.asarray(obs[quine_fmt.SSE], dtype=float).reshape(-1))
            r2 = pd.Series(np.asarray(obs[quine_fmt.R2], dtype=float).reshape(-1))
            pos = sse[(sse > 0) & np.isfinite(sse)]
            rng = (pos.min() / 10, pos.max() * 10) if len(pos) else (1e-3, 1.0)
            return quine_figure(sse, r2, self.current_step, rng)
        return None

    def _soup_map(self) -> Figure:
        store = self.store  # type: ignore[attr-defined]
        slots = store.alive_slots()
        w = store.weights[slots].detach().cpu().numpy()
        if self._map is None:  # fitted once: points move, the projection does not
            self._map = fit_map(w)
            self._live_map = LiveMap(self._map)
        self._map = self._map.widened(self._map.scores(w))  # the view zooms out, never jumps
        self._live_map.update_limits(self._map)
        codes = store.ptype[slots].cpu().numpy()
        uids = store.uid[slots].cpu().numpy()
        bonds = self.bonds()  # type: ignore[attr-defined]
        rows = np.zeros((0, 2), dtype=np.int64)
        if len(bonds):
            pos = {int(u): k for k, u in enumerate(uids.tolist())}
            pairs = [(pos[a], pos[b]) for a, b in bonds.tolist() if a in pos and b in pos]
            rows = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
        return self._live_map.draw(self._map.project(w), codes, rows, self.current_step)

    def counts_figure(self, counts: pd.DataFrame) -> Figure:
        """Soup types over time on one figure kept for the model's life."""
        if self._live_counts is None:
            self._live_counts = LiveCounts()
        return self._live_counts.draw(counts)


@cache
def live_class(kind: str) -> type:
    """The live model class of a kind: its model, built from a scenario and keyword settings.

    Mesa's reset calls ``cls(**parameters)``, so the class takes the target and every setting
    as keywords (``attack.rate`` included, through ``**kwargs``).
    """
    base = get_kind(kind).model

    def init(self: Any, target: str, seed: int = 0, device: str = "cpu", **kwargs: Any) -> None:
        sc, config, _ = resolve(target, kwargs)
        base.__init__(self, config, seed=int(seed), device=device, scenario=sc.id)
        self._start_history()

    return type(f"Live{base.__name__}", (LiveBase, base), {"__init__": init, "kind": kind})


__all__ = ["LiveBase", "ReplayModel", "flatten", "live_class", "live_model"]
