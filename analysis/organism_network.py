"""Analyses of one organism network, from its weights: specialist dropout vs magnitude pruning.

``dropout_table`` is a pure function of a weights array [N, P] (or a network) plus the ON's
layer sizes and options: specialist dropout (all parameters of every particle of a type set
to 0, so w̃ = 0) against l1 magnitude pruning of as many extracted weights as there are PN_SR
(``science/organism.md``). ``analysis/organism.py`` applies it to the snapshots of a run file.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from neurosoup.particles import ConfigError, OrganismNetwork, OrganismType, ShapeError
from neurosoup.particles.organism import hidden_from_n_weights, mlp_forward

METRICS = ("accuracy", "mae")


def as_network(
    source: Any,
    layer_sizes: Sequence[int] | None = None,
    activation: str = "none",
    residual: str = "none",
) -> OrganismNetwork:
    """An ``OrganismNetwork`` from a network, a model with ``.network``, or weights [N, P].

    A weights array needs ``layer_sizes`` (and the ON's options); h follows from P = h² + 6h.
    """
    if isinstance(source, OrganismNetwork):
        return source
    if isinstance(getattr(source, "network", None), OrganismNetwork):
        return source.network
    w = torch.as_tensor(np.asarray(source) if not isinstance(source, Tensor) else source)
    if w.dim() != 2:
        raise ShapeError(f"weights must be an array [N, P], got shape {list(w.shape)}")
    if layer_sizes is None:
        raise ConfigError("pass layer_sizes=... with a weights array (e.g. (64, 5, 5, 10))")
    if w.dtype not in (torch.float32, torch.float64):
        w = w.to(torch.float64)
    return OrganismNetwork(layer_sizes, hidden_from_n_weights(w.shape[1]), activation, residual,
                           weights=w, dtype=w.dtype)  # fmt: skip


def metric_value(out: Tensor, y: Tensor, metric: str) -> float:
    """Accuracy of class scores [B, C] against labels [B], or the mean absolute error."""
    if metric == "accuracy":
        return float((out.argmax(dim=1) == y).double().mean())
    return float((out - y.reshape(out.shape)).abs().mean())


def _data(net: OrganismNetwork, data: Any, metric: str | None) -> tuple[Tensor, Tensor, str]:
    try:
        x, y = data
    except (TypeError, ValueError):
        raise ConfigError("data must be a pair (x [B, n_0], y [B] or [B, n_r])") from None
    x = torch.as_tensor(np.asarray(x) if not isinstance(x, Tensor) else x)
    x = x.to(device=net.device, dtype=net.dtype)
    y = torch.as_tensor(np.asarray(y) if not isinstance(y, Tensor) else y).to(net.device)
    if metric is None:
        metric = "mae" if torch.is_floating_point(y) else "accuracy"
    if metric not in METRICS:
        raise ConfigError(f"unknown metric {metric!r}; expected one of {METRICS}")
    if metric == "mae":
        y = y.to(net.dtype)
    return x, y, metric


def l1_prune_mask(extracted: Tensor, k: int) -> Tensor:
    """The k particles with the smallest |w̃| over all layers (ties: lower index first).

    extracted: [N] w̃ in row order. Returns a [N] bool mask.
    """
    order = torch.sort(extracted.abs(), stable=True).indices
    mask = torch.zeros(extracted.shape[0], dtype=torch.bool, device=extracted.device)
    mask[order[:k]] = True
    return mask


def dropout_table(
    model_or_network: Any,
    data: Any,
    *,
    layer_sizes: Sequence[int] | None = None,
    activation: str = "none",
    residual: str = "none",
    metric: str | None = None,
    epsilon: float = 1e-5,
) -> pd.DataFrame:
    """Test metric after removing particles, per strategy.

    Strategies: ``none`` (the whole organism); ``zero_sr``, ``zero_f`` (and ``zero_zero``,
    ``zero_divergent`` when such particles exist): every parameter of those particles set to
    0, evaluated through the ON; ``l1``: the #PN_SR extracted weights of smallest |w̃| set to 0
    in the re-substituted MLP (global, unstructured).

    Args:
        model_or_network: an ``OrganismNetwork``, a model with ``.network``, or weights [N, P].
        data: (x [B, n_0], y): integer labels → accuracy, float targets → MAE.
        layer_sizes: the ON's neuron layer sizes (only with a weights array).
        activation: the ON's activation option (only with a weights array).
        residual: the ON's residual option (only with a weights array).
        metric: ``accuracy`` or ``mae`` to override the choice from y's dtype.
        epsilon: the typing tolerance.

    Returns:
        DataFrame with columns strategy, n_removed, metric, delta (= metric − metric of
        ``none``); ``attrs["l1_overlap_sr"]`` = how many l1-pruned particles are PN_SR.
    """
    net = as_network(model_or_network, layer_sizes, activation, residual)
    x, y, metric = _data(net, data, metric)
    codes = net.classify(epsilon)
    rows = []
    with torch.no_grad():
        base = metric_value(net(x), y, metric)
        rows.append(("none", 0, base))
        for t in (OrganismType.SR, OrganismType.F, OrganismType.ZERO, OrganismType.DIVERGENT):
            mask = codes == t
            n = int(mask.sum())
            if t in (OrganismType.ZERO, OrganismType.DIVERGENT) and n == 0:
                continue
            score = metric_value(net.zero_particles(mask)(x), y, metric)
            rows.append((f"zero_{t.label}", n, score))
        mats = net.extracted_weights()
        flat = torch.cat([m.reshape(-1) for m in mats])
        k = int((codes == OrganismType.SR).sum())
        pruned = l1_prune_mask(flat, k)
        kept = torch.where(pruned, torch.zeros_like(flat), flat)
        pieces = kept.split([m.numel() for m in mats])
        out = mlp_forward([p.view_as(m) for p, m in zip(pieces, mats, strict=True)], x,
                          net.activation, net.residual)  # fmt: skip
        rows.append(("l1", k, metric_value(out, y, metric)))
    table = pd.DataFrame(rows, columns=["strategy", "n_removed", "metric"])
    table["delta"] = table["metric"] - base
    table.attrs["l1_overlap_sr"] = int((pruned & (codes == OrganismType.SR)).sum())
    table.attrs["metric"] = metric
    return table


__all__ = ["METRICS", "as_network", "dropout_table", "l1_prune_mask", "metric_value"]
