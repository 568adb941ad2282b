"""The solara app of ``neurosoup view``: Mesa's ``SolaraViz`` around a live or replay model.

The server (``serve.py``) names this module as solara's app and passes what to show in the
environment variable ``NEUROSOUP_VIEW`` (JSON: ``target``, ``sets``, ``mode``); importing the
module builds ``page``. Live mode: step, play, pause and reset, with the scenario's main
parameters (seed; for soups the population size and each operator's rate) as controls.
Replay mode: the same buttons walk through the recorded frames, plus a frame slider.
"""

from __future__ import annotations

import json
import os
from typing import Any

import solara
from mesa.visualization import SolaraViz
from mesa.visualization.utils import force_update, update_counter

from .models import ReplayModel, live_model
from .panels import components

ENV = "NEUROSOUP_VIEW"


def live_params(model: Any, target: str, sets: dict[str, Any]) -> dict[str, Any]:
    """The controls of a live model: fixed target and settings, sliders for the main ones."""
    params: dict[str, Any] = {"target": target, **sets}
    params["seed"] = {"type": "SliderInt", "value": int(model.seed), "min": 0, "max": 99,
                      "step": 1, "label": "seed"}  # fmt: skip
    if model.kind == "soup":
        n = int(model.config.n_particles)
        params["n_particles"] = {"type": "SliderInt", "value": n, "min": 2,
                                 "max": max(2_000, n), "step": 1, "label": "particles"}  # fmt: skip
        for entry in model.config.operators:
            rate = entry.as_dict().get("rate")
            if isinstance(rate, int | float) and not isinstance(rate, bool):
                params[f"{entry.name}.rate"] = {
                    "type": "SliderFloat", "value": float(rate), "min": 0.0, "max": 1.0,
                    "step": 0.01, "label": f"{entry.name} rate",
                }  # fmt: skip
    return params


def frame_slider(model: Any) -> Any:
    """Replay: a slider over the recorded frames."""
    update_counter.get()

    def goto(value: int) -> None:
        model.goto(value)
        force_update()

    return solara.SliderInt("frame", value=model.frame, min=0, max=max(model.n_frames - 1, 0),
                            on_value=goto)  # fmt: skip


def build_page(view: dict[str, Any]) -> Any:
    """The ``SolaraViz`` element of a view request (``mode``: live or replay)."""
    if view["mode"] == "replay":
        model: Any = ReplayModel(view["target"])
        parts: list[Any] = [frame_slider, *components(model)]
        params: dict[str, Any] = {"path": view["target"]}
        name = f"{model.kind} run {os.path.basename(view['target'])} (replay)"
    else:
        sets = dict(view.get("sets") or {})
        model = live_model(view["target"], sets, view.get("seed"))
        parts, params = components(model), live_params(model, view["target"], sets)
        name = f"{model.scenario} ({model.kind}, live)"
    return SolaraViz(model, components=[(c, 0) for c in parts], model_params=params, name=name,
                     play_interval=150)  # fmt: skip


page = build_page(json.loads(os.environ.get(ENV, '{"mode": "live", "target": "soup/journal-v1"}')))
