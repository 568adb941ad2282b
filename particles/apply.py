"""Batched weightwise application (``science/particles.md`` §3).

Row i of every function here is particle i acting on row i of its argument; there is no loop
over particles. Linear particles (the default and every reference) collapse to one row vector
``v = W_L ⋯ W_1`` so ``f_A(x) = v·x``; that fast path is exact in real arithmetic and is checked
against the general layer-by-layer path in the tests.

``apply_weightwise`` and ``self_apply`` work for every particle kind (aggregating and recurrent
particles dispatch to ``particle_kinds.py``); the auxiliary application and the effective vector are
weightwise-only and raise ``ConfigError`` for the other kinds.
"""

from __future__ import annotations

import torch
from torch import Tensor

from .encoding import encode_inputs, encode_positions
from .errors import ConfigError, ShapeError
from .network import ParticleSpec, check_pair, check_weights
from .particle_kinds import apply_kind, layers, require_weightwise


def forward(spec: ParticleSpec, actors: Tensor, x: Tensor) -> Tensor:
    """Evaluate each particle on its own rows of inputs, layer by layer (differentiable).

    actors: [N, n_weights]; x: [N, M, n_inputs]. Returns [N, M].
    """
    return layers(spec, actors, x)[..., 0]


def effective_vector(spec: ParticleSpec, actors: Tensor) -> Tensor:
    """The row vector v = W_L ⋯ W_1 of linear particles, so that f(x) = v·x.

    actors: [N, n_weights]. Returns [N, n_inputs].
    """
    require_weightwise(spec, "effective_vector")
    if not spec.is_linear:
        raise ConfigError(
            f"effective_vector needs a linear particle, got activation {spec.activation!r}"
        )
    mats = spec.unpack(actors)
    v = mats[-1]  # [N, 1, h]
    for W in reversed(mats[:-1]):
        v = torch.matmul(v, W)
    return v[:, 0, :]


def _apply_linear(spec: ParticleSpec, actors: Tensor, targets: Tensor) -> Tensor:
    v = effective_vector(spec, actors)  # [N, i]
    pos = encode_positions(spec, dtype=actors.dtype, device=actors.device)[:, 1:4]  # [P, 3]
    return targets * v[:, :1] + v[:, 1:4] @ pos.T


def apply_weightwise(
    spec: ParticleSpec, actors: Tensor, targets: Tensor, *, fast: bool = True
) -> Tensor:
    """Weightwise application A◁B for every row pair: (A◁B)_k = f_A(x_k(w_B)).

    actors, targets: [N, n_weights], same dtype and device. Returns [N, n_weights]; row i is
    actor i applied to target i. No gradient flows. ``fast=False`` forces the layer-by-layer
    path for linear particles (used to check the fast path). Aggregating and recurrent
    particles apply their own way (``kinds.apply_kind``), same shapes.
    """
    check_pair(spec, actors, targets, ("actors", "targets"))
    if spec.kind != "weightwise":
        return apply_kind(spec, actors, targets)
    with torch.no_grad():
        if spec.is_linear and fast:
            return _apply_linear(spec, actors, targets)
        return forward(spec, actors, encode_inputs(spec, targets))


def self_apply(spec: ParticleSpec, w: Tensor, *, fast: bool = True) -> Tensor:
    """Self-application A◁A of every particle. w: [N, n_weights] → [N, n_weights]."""
    return apply_weightwise(spec, w, w, fast=fast)


def apply_auxiliary(spec: ParticleSpec, w: Tensor, x: Tensor) -> Tensor:
    """Auxiliary application y = f_A(0, 0, 0, 0, x) (Def. 6), for specs with ≥ 5 inputs.

    w: [N, n_weights]; x: [N] or [N, M] (one scalar per row, or M per particle).
    Returns the same shape as x.
    """
    check_weights(spec, w, "w")
    require_weightwise(spec, "auxiliary application")
    if spec.n_inputs < 5:
        raise ConfigError(
            f"auxiliary application needs a particle with >= 5 inputs, got {spec.name}; "
            "use ParticleSpec(n_inputs=5, ...)"
        )
    if not isinstance(x, Tensor) or x.dim() not in (1, 2) or x.shape[0] != w.shape[0]:
        shape = list(x.shape) if isinstance(x, Tensor) else type(x).__name__
        raise ShapeError(f"x must be a tensor [{w.shape[0]}] or [{w.shape[0]}, M], got {shape}")
    xm = x if x.dim() == 2 else x[:, None]
    inputs = torch.zeros(*xm.shape, spec.n_inputs, dtype=w.dtype, device=w.device)
    inputs[..., 4] = xm
    y = forward(spec, w, inputs)
    return y if x.dim() == 2 else y[:, 0]


def extracted_weight(spec: ParticleSpec, w: Tensor) -> Tensor:
    """ŵ_A = f_A(0, 0, 0, 0, 1): the scalar weight a linear particle plays in auxiliary mode.

    w: [N, n_weights] → [N].
    """
    return apply_auxiliary(spec, w, torch.ones(w.shape[0], dtype=w.dtype, device=w.device))
