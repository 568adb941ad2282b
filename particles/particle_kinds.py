"""The 2019 paper's other particle kinds: aggregating and recurrent (``science/particles.md`` §9).

Both read the *whole* target weight vector instead of one weight at a time:

- **aggregating**: cut w [P] in flat order into A collections of ⌊P/A⌋ weights (the leftovers
  join the last), aggregate each (mean, or max), map the A aggregates through the particle's
  MLP (A → h → … → A) and write each output value into every weight of its collection.
  Self-training pulls the A outputs toward the A aggregates of the particle's own weights; the
  fixpoint test compares aggregates (``classify.py``).
- **recurrent**: feed w as a length-P sequence of scalars through a stack of bias-free simple
  RNN layers, h_t = φ(K·x_t + R·h_{t−1}), h_0 = 0 (φ on hidden layers only, none for linear
  particles); the output sequence is the new w. Self-training pulls the output sequence
  toward w itself.

The ``weightwise`` kind lives in ``apply.py`` / ``train.py``; they dispatch here for the others.
Everything is batched over particles: row i of the actors acts on row i of the targets.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from .errors import ConfigError
from .network import ParticleSpec

_ACT = {"tanh": torch.tanh, "sigmoid": torch.sigmoid, "relu": torch.relu, "gelu": F.gelu}


def require_weightwise(spec: ParticleSpec, operation: str) -> None:
    """Raise a one-line ``ConfigError`` when ``operation`` is weightwise-only."""
    if spec.kind != "weightwise":
        raise ConfigError(
            f"{operation} is defined for weightwise particles only, not kind {spec.kind!r}"
        )


def collection_index(spec: ParticleSpec, device: torch.device | str | None = None) -> Tensor:
    """Collection of every weight of an aggregating particle, [P] int64 in [0, A).

    Collections are consecutive runs of ⌊P/A⌋ weights in flat order; leftovers join the last.
    """
    a = spec.aggregates
    size = spec.n_weights // a
    return torch.clamp(torch.arange(spec.n_weights, device=device) // size, max=a - 1)


def aggregate(spec: ParticleSpec, w: Tensor) -> Tensor:
    """The A aggregates of every weight vector. w: [N, P] → [N, A]."""
    a, size = spec.aggregates, spec.n_weights // spec.aggregates
    bounds = [(j * size, (j + 1) * size if j < a - 1 else spec.n_weights) for j in range(a)]
    if spec.aggregation == "max":
        parts = [w[:, lo:hi].amax(dim=1) for lo, hi in bounds]
    else:
        parts = [w[:, lo:hi].mean(dim=1) for lo, hi in bounds]
    return torch.stack(parts, dim=1)


def deaggregate(spec: ParticleSpec, y: Tensor) -> Tensor:
    """Write aggregate j into every weight of collection j. y: [N, A] → [N, P]."""
    return y[:, collection_index(spec, y.device)]


def mlp(spec: ParticleSpec, actors: Tensor, x: Tensor) -> Tensor:
    """The aggregating particles' MLPs, each on its own aggregates (differentiable).

    actors: [N, P]; x: [N, A]. Returns [N, A].
    """
    return layers(spec, actors, x[:, None, :])[:, 0, :]


def layers(spec: ParticleSpec, actors: Tensor, h: Tensor) -> Tensor:
    """Each particle's dense layers on its own rows (the one MLP stack of every kind).

    actors: [N, P]; h: [N, M, n_inputs]. Returns [N, M, n_outputs]; the activation acts
    between layers, never after the last.
    """
    mats = spec.unpack(actors)
    act = _ACT.get(spec.activation)
    for i, W in enumerate(mats):
        h = torch.matmul(h, W.transpose(1, 2))
        if act is not None and i < len(mats) - 1:
            h = act(h)
    return h


def rnn(spec: ParticleSpec, actors: Tensor, seq: Tensor) -> Tensor:
    """The recurrent particles, each on its own sequence of scalars (differentiable).

    actors: [N, P]; seq: [N, T]. Returns the output sequence [N, T].
    """
    mats = spec.unpack(actors)  # K1, R1, K2, R2, …
    act = _ACT.get(spec.activation)
    n, steps = seq.shape
    h_seq = seq[:, :, None]  # [N, T, in]
    for layer in range(spec.depth):
        K, R = mats[2 * layer], mats[2 * layer + 1]
        drive = torch.matmul(h_seq, K.transpose(1, 2))  # [N, T, out]
        state = torch.zeros(n, K.shape[1], dtype=seq.dtype, device=seq.device)
        outs = []
        for t in range(steps):
            state = drive[:, t] + torch.matmul(R, state[:, :, None])[:, :, 0]
            if act is not None and layer < spec.depth - 1:
                state = act(state)
            outs.append(state)
        h_seq = torch.stack(outs, dim=1) if outs else drive
    return h_seq[..., 0]


def apply_kind(spec: ParticleSpec, actors: Tensor, targets: Tensor) -> Tensor:
    """A◁B of an aggregating or recurrent particle for every row pair, no gradient.

    actors, targets: [N, P] (checked by the caller). Returns [N, P].
    """
    with torch.no_grad():
        if spec.kind == "aggregating":
            return deaggregate(spec, mlp(spec, actors, aggregate(spec, targets)))
        return rnn(spec, actors, targets)


def kind_loss(spec: ParticleSpec, w: Tensor, data: Tensor) -> Tensor:
    """Per-particle replication loss of the kind's self-train target on ``data`` (detached).

    aggregating: mean_j (f(agg(d))_j − agg(d)_j)²; recurrent: mean_k (f(d)_k − d_k)².
    w (differentiable), data: [N, P]. Returns [N].
    """
    data = data.detach()
    if spec.kind == "aggregating":
        x = aggregate(spec, data)
        return ((mlp(spec, w, x) - x) ** 2).mean(dim=1)
    return ((rnn(spec, w, data) - data) ** 2).mean(dim=1)


def kind_gradient(spec: ParticleSpec, w: Tensor, data: Tensor) -> tuple[Tensor, Tensor]:
    """Per-particle gradient and loss of ``kind_loss`` by batched autograd.

    w, data: [N, P]. Returns (grad [N, P], loss [N]); Σ_p L_p is differentiated, so each
    particle's gradient is its solo gradient.
    """
    with torch.enable_grad():
        wp = w.detach().clone().requires_grad_(True)
        loss = kind_loss(spec, wp, data)
        (grad,) = torch.autograd.grad(loss.sum(), wp)
    return grad, loss.detach()


def kind_images(spec: ParticleSpec, w: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """What the fixpoint tests compare: (base, image of A◁A, image of A◁(A◁A)).

    aggregating: aggregates of w, of A◁A and of A◁(A◁A), [N, A] each; recurrent: the
    weight vectors themselves, [N, P] each.
    """
    once = apply_kind(spec, w, w)
    twice = apply_kind(spec, w, once)
    if spec.kind == "aggregating":
        return aggregate(spec, w), aggregate(spec, once), aggregate(spec, twice)
    return w, once, twice
