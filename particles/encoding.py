"""Weightwise position encoding (``science/particles.md`` §2).

Weight k of a network reads as the input row ``x_k(w) = (w_k, L̂_k, Ĉ_k, Ê_k, 0, …, 0)``. The
position part is a constant table per spec; only column 0 depends on the weights.
"""

from __future__ import annotations

from functools import lru_cache

import torch
from torch import Tensor

from .errors import ConfigError
from .network import ParticleSpec


def raw_positions(spec: ParticleSpec) -> list[tuple[int, int, int]]:
    """Integer (layer, cell, edge) of every weight in flat order; cell = output unit."""
    return [
        (layer, cell, edge)
        for layer, (rows, cols) in enumerate(spec.layer_shapes)
        for cell in range(rows)
        for edge in range(cols)
    ]


@lru_cache(maxsize=64)
def _table(spec: ParticleSpec) -> Tensor:
    """Float64 encoding table [P, n_inputs] on the CPU, column 0 zero."""
    raw = torch.tensor(raw_positions(spec), dtype=torch.float64)  # [P, 3]
    layer, cell, edge = raw[:, 0], raw[:, 1], raw[:, 2]
    if spec.encoding == "global":
        layer_n = _safe_div(layer, layer.max())
        cell_n = _safe_div(cell, cell.max())
        edge_n = _safe_div(edge, edge.max())
    else:  # per_layer and alife2019
        layer_n = _safe_div(layer, torch.tensor(float(spec.depth - 1)))
        rows = torch.tensor([spec.layer_shapes[int(i)][0] for i in layer], dtype=torch.float64)
        cols = torch.tensor([spec.layer_shapes[int(i)][1] for i in layer], dtype=torch.float64)
        cell_n = _safe_div(cell, rows - 1)
        edge_n = _safe_div(edge, cols - 1)
        if spec.encoding == "alife2019":  # the Keras code read the input unit as "cell"
            cell_n, edge_n = edge_n, cell_n
    table = torch.zeros(spec.n_weights, spec.n_inputs, dtype=torch.float64)
    table[:, 1], table[:, 2], table[:, 3] = layer_n, cell_n, edge_n
    return table


def _safe_div(x: Tensor, d: Tensor) -> Tensor:
    """Return x / d elementwise, leaving x unchanged where d == 0 (then x is 0 too)."""
    d = torch.as_tensor(d, dtype=torch.float64).expand_as(x)
    return torch.where(d == 0, x, x / torch.where(d == 0, torch.ones_like(d), d))


def encode_positions(
    spec: ParticleSpec,
    *,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> Tensor:
    """The constant position table of a spec.

    Returns: [n_weights, n_inputs]; column 0 (the weight value) and the auxiliary columns
    are 0, columns 1–3 hold L̂, Ĉ, Ê. A fresh tensor each call (safe to modify).
    """
    if spec.kind != "weightwise":
        raise ConfigError(f"{spec.kind} particles have no position encoding; it is weightwise-only")
    return _table(spec).to(dtype=dtype, device=device).clone()


def encode_inputs(spec: ParticleSpec, w: Tensor) -> Tensor:
    """Full input rows of every weight of every network in a batch.

    w: [N, n_weights] → [N, n_weights, n_inputs], column 0 = w (detached).
    """
    x = encode_positions(spec, dtype=w.dtype, device=w.device).expand(w.shape[0], -1, -1).clone()
    x[:, :, 0] = w.detach()
    return x
