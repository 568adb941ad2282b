"""Harvest: the largest organisms of a grown soup → organism-network run specs (TOML).

``neurosoup harvest FILE --at STEP [--largest K] --out DIR`` reads the soup's stored state at
``STEP`` (its checkpoint history, ``chemistry/checkpoint_history.py``: weights, uids and the
grow positions), takes the K largest organisms and writes one scenario file per organism that
extends the organism scenario of the soup's ``grow.shape`` (2-…-1: float addition, 64-…-10:
digits). Each particle keeps its soup weights at its position (l, c, e); a position the
organism never filled gets a fresh Xavier init (seeded, counted in ``source.filled``). The
file's ``source`` table (soup file, step, organism, uids, grown/filled) goes into the
organism's run file with its config. Reads files only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import torch

from neurosoup.chemistry.checkpoint import read_checkpoint
from neurosoup.chemistry.checkpoint_history import checkpoint_at
from neurosoup.chemistry.growth import positions
from neurosoup.chemistry.recorder import checkpoint_path, open_run_spec
from neurosoup.particles import ConfigError, ParticleSpec

#: organism scenario per task, by (inputs, outputs) of the ON shape
TASK_SCENARIOS = {(2, 1): "organism/float-addition-v1", (64, 10): "organism/digits-v1"}


def _shape(spec: dict[str, Any], path: Path) -> list[int]:
    if spec.get("kind") != "soup":
        raise ConfigError(f"{path} is a {spec.get('kind')} run; harvest reads grown soups")
    grow = [op for op in spec["config"].get("operators", []) if op.get("name") == "grow"]
    if not grow:
        raise ConfigError(f"{path} has no grow operator, so its organisms have no ON shape; "
                          "harvest a soup/organism-growth-v1 run")  # fmt: skip
    return list(grow[0]["shape"])


def organisms_at(path: str | Path, at: int) -> tuple[list[int], dict[str, Any], list[dict]]:
    """The shape, the spec and the organisms at ``at``, largest first.

    Each organism: ``{"id", "uids" [by position], "weights" [n_positions, P] (NaN: empty)}``.
    """
    path = Path(path)
    file, spec = open_run_spec(path)
    file.close()
    shape = _shape(spec, path)
    state = read_checkpoint(checkpoint_at(path, at, checkpoint_path(path)))
    store, orgs = state["store"], state["organisms"]
    slot_of = {int(u): s for s, u in enumerate(np.asarray(store["uid"]).tolist())
               if bool(np.asarray(store["alive"])[s])}  # fmt: skip
    weights = np.asarray(store["weights"])
    where = {int(r[0]): (int(r[1]), int(r[2]), int(r[3]))
             for r in np.asarray(orgs.get("positions", np.zeros((0, 4)))).reshape(-1, 4)}
    graph = nx.Graph()
    graph.add_edges_from(np.asarray(orgs["bonds"]).reshape(-1, 2).tolist())
    ids = dict(zip(np.asarray(orgs["org_uid"]).tolist(), np.asarray(orgs["org_id"]).tolist(),
                   strict=True))  # fmt: skip
    order = {p: i for i, p in enumerate(positions(shape))}
    out = []
    for comp in nx.connected_components(graph):
        held = sorted((order[where[u]], u) for u in comp if u in where)
        if not held:
            continue
        w = np.full((len(order), weights.shape[1]), np.nan)
        uids = [-1] * len(order)
        for i, u in held:
            w[i], uids[i] = weights[slot_of[u]], u
        out.append({"id": int(ids.get(held[0][1], -1)), "uids": uids, "weights": w,
                    "size": len(held)})  # fmt: skip
    out.sort(key=lambda o: (-o["size"], min(u for u in o["uids"] if u >= 0)))
    return shape, spec, out


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | np.integer | np.floating):
        return repr(float(value)) if isinstance(value, float | np.floating) else str(int(value))
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"no TOML for {type(value).__name__}")


def harvest(
    path: str | Path, at: int, out: str | Path, *, largest: int = 1, seed: int = 0
) -> list[Path]:
    """Write ``organism-<rank>.toml`` for the ``largest`` organisms at ``at``; returns paths."""
    path = Path(path)
    if isinstance(largest, bool) or not isinstance(largest, int) or largest < 1:
        raise ConfigError(f"--largest must be an int >= 1, got {largest!r}")
    shape, spec, orgs = organisms_at(path, at)
    particle = ParticleSpec(**spec["config"]["particle"])
    if (particle.n_inputs, particle.n_outputs, particle.depth) != (5, 1, 3) or (
        not particle.is_linear or particle.encoding != "global" or particle.kind != "weightwise"
    ):
        raise ConfigError(f"{path}: its particles are not ON particles (linear 5-h-h-1, global "
                          "encoding); grow them as in soup/organism-growth-v1")  # fmt: skip
    scenario = TASK_SCENARIOS.get((shape[0], shape[-1]))
    if scenario is None:
        raise ConfigError(
            f"{path}: grow.shape {shape} fits no organism task (inputs, outputs): "
            f"{', '.join(f'{k} for {v}' for k, v in TASK_SCENARIOS.items())}"
        )
    if not orgs:
        raise ConfigError(f"{path} has no organism at step {at}; harvest a later step")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    gen = torch.Generator().manual_seed(seed)
    written = []
    for rank, org in enumerate(orgs[:largest]):
        w = org["weights"]
        empty = np.isnan(w).all(axis=1)
        if (~np.isfinite(w[~empty])).any():
            raise ConfigError(f"{path}: organism {org['id']} has divergent particles at step "
                              f"{at}; harvest another step or organism")  # fmt: skip
        if empty.any():
            fresh = particle.init(int(empty.sum()), gen, dtype=torch.float64)
            w[empty] = fresh.numpy()
        w = w.astype(np.float32).astype(np.float64)  # the soup's float32 values, exactly
        source = {"soup_file": str(path.resolve()), "step": int(at), "organism": org["id"],
                  "uids": org["uids"], "grown": int((~empty).sum()),
                  "filled": int(empty.sum()), "fill_seed": int(seed)}  # fmt: skip
        lines = [
            f"# harvested by `neurosoup harvest {path} --at {at}`: organism {org['id']}, "
            f"{source['grown']} of {len(w)} positions grown in the soup",
            f'extends = "{scenario}"',
            f"layer_sizes = {_toml_value(shape)}",
            f"hidden = {particle.hidden}",
            "init_weights = [",
            *[f"  {_toml_value(row.tolist())}," for row in w],
            "]",
            "",
            "[source]",
            *[f"{k} = {_toml_value(v)}" for k, v in source.items()],
        ]
        target = out / f"organism-{rank}.toml"
        target.write_text("\n".join(lines) + "\n", encoding="utf-8")
        written.append(target)
    return written


__all__ = ["TASK_SCENARIOS", "harvest", "organisms_at"]
