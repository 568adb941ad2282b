"""Batched self-training and learn-from (``science/particles.md`` §3).

One step minimises Σ_p L_p over all particles, so each particle's gradient is exactly its solo
gradient: L_p = mean_k (f_p(x_k(w̄)) − w̄_k)², inputs and targets rebuilt from w̄ and detached.
Linear particles use a closed-form gradient through the chain v = W_L ⋯ W_1 (no autograd);
other activations use batched autograd. Both paths are checked against each other in the tests.

Aggregating and recurrent particles (``particle_kinds.py``) train toward their own targets by
autograd through the same SGD update. ``second_order_step`` trains weightwise particles toward
a 2-cycle (§9).
"""

from __future__ import annotations

import torch
from torch import Tensor

from .apply import forward
from .encoding import encode_positions
from .errors import ConfigError, ShapeError
from .network import ParticleSpec, check_pair, check_weights
from .particle_kinds import kind_gradient, require_weightwise

Rate = float | Tensor


def _gradient_linear(
    spec: ParticleSpec, w: Tensor, data: Tensor, pos: Tensor, target: Tensor
) -> tuple[Tensor, Tensor]:
    """Closed-form gradient of mean_m (v·x_m − t_m)² for linear particles.

    w: [N, P]; data, target: [N, M]; pos: [N or 1, M, n_inputs] (column 0 ignored).
    Returns (grad [N, P], loss [N]).
    """
    check_weights(spec, w, "w")
    return _linear(spec, w, data, _positions(pos), target)


def _positions(pos: Tensor) -> tuple[Tensor, Tensor | None, Tensor | None]:
    """``pos`` prepared for ``_linear``: columns 1–3 [B, M, 3], and [M, 3], [3, M] when shared.

    Made once per call of many steps, not once per step; B = 1 is a table shared by all rows.
    """
    p = pos[..., 1:4]
    if p.shape[0] == 1:
        return p, p[0], p[0].T
    return p, None, None


def _linear(
    spec: ParticleSpec,
    w: Tensor,
    data: Tensor,
    pos: tuple[Tensor, Tensor | None, Tensor | None],
    target: Tensor,
) -> tuple[Tensor, Tensor]:
    """``_gradient_linear`` on a checked ``w`` and ``_positions`` output (same arithmetic)."""
    n = w.shape[0]
    mats = [w[:, off : off + r * c].view(n, r, c)
            for off, (r, c) in zip(spec.offsets, spec.layer_shapes, strict=True)]  # fmt: skip
    v = mats[-1]
    suffixes = [v]  # suffix row vectors s_l = W_L ⋯ W_{l+1}, built backwards
    for W in reversed(mats[1:-1]):
        v = torch.matmul(v, W)
        suffixes.append(v)
    v = torch.matmul(v, mats[0])[:, 0, :]  # [N, i]
    p, p0, p0t = pos  # [B, M, 3]; a shared table (B = 1) takes plain matmuls
    pos_term = v[:, 1:4] @ p0t if p0t is not None else (p @ v[:, 1:4, None])[..., 0]
    r = data * v[:, :1] + pos_term - target  # [N, M] residuals
    scale = 2.0 / data.shape[1]
    loss = (r * r).mean(dim=1)
    g_pos = r @ p0 if p0 is not None else (r[:, None, :] @ p)[:, 0, :]  # [N, 3]
    if v.shape[1] == 4:  # no auxiliary inputs: one cat (elementwise the same products)
        g_v = torch.cat([(r * data).sum(dim=1, keepdim=True), g_pos], dim=1) * scale
    else:
        g_v = torch.zeros_like(v)
        g_v[:, 0] = (r * data).sum(dim=1) * scale
        g_v[:, 1:4] = g_pos * scale
    grads = []
    u = g_v  # u_l = W_{l-1} ⋯ W_1 g_v, [N, in_l]
    n_layers = len(mats)
    for layer, W in enumerate(mats):
        if layer == n_layers - 1:  # dL/dW_L = u_L as a row (one output)
            grads.append(u)
            break
        s = suffixes[n_layers - 2 - layer][:, 0, :]  # [N, out_l]
        grads.append((s[:, :, None] * u[:, None, :]).reshape(n, s.shape[1] * u.shape[1]))
        u = (W @ u[:, :, None])[:, :, 0]
    return torch.cat(grads, dim=1), loss


def _gradient_autograd(
    spec: ParticleSpec, w: Tensor, data: Tensor, pos: Tensor, target: Tensor
) -> tuple[Tensor, Tensor]:
    """Same contract as ``_gradient_linear``, through torch autograd (any activation)."""
    x = pos.expand(w.shape[0], -1, -1).clone()
    x[:, :, 0] = data
    with torch.enable_grad():
        wp = w.detach().clone().requires_grad_(True)
        loss = ((forward(spec, wp, x) - target) ** 2).mean(dim=1)
        (grad,) = torch.autograd.grad(loss.sum(), wp)
    return grad, loss.detach()


def gradient(
    spec: ParticleSpec,
    w: Tensor,
    data: Tensor,
    pos: Tensor,
    target: Tensor,
    *,
    analytic: bool = True,
) -> tuple[Tensor, Tensor]:
    """Per-particle gradient and loss of the replication objective on given samples."""
    if spec.is_linear and analytic:
        return _gradient_linear(spec, w, data, pos, target)
    return _gradient_autograd(spec, w, data, pos, target)


def _rate(value: Rate, n: int, like: Tensor, name: str, *, allow_zero: bool) -> Tensor | float:
    """Validate a scalar or [N] rate; return it broadcastable against [N, P]."""
    if isinstance(value, Tensor):
        if value.dim() != 1 or value.shape[0] != n:
            raise ShapeError(f"{name} must be a scalar or a tensor [{n}], got {list(value.shape)}")
        bad = ~torch.isfinite(value) | ((value < 0) if allow_zero else (value <= 0))
        if bool(bad.any()):
            relation = ">= 0" if allow_zero else "> 0"
            raise ConfigError(f"every {name} must be {relation}, got {value}")
        return value.to(dtype=like.dtype, device=like.device)[:, None]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{name} must be a number or a tensor [{n}], got {type(value).__name__}")
    if not (value >= 0 if allow_zero else value > 0) or value != value or value == float("inf"):
        hint = "0.9" if name == "momentum" else "0.04"
        relation = ">= 0" if allow_zero else "> 0"
        raise ConfigError(f"{name} must be {relation} and finite, got {value}; try {hint}")
    return float(value)


def _sgd(
    w: Tensor, grad: Tensor, lr: Tensor | float, momentum: Tensor | float, buf: Tensor | None
) -> tuple[Tensor, Tensor | None]:
    """Torch-SGD update (no dampening, no Nesterov): b ← μ·b + g; w ← w − lr·b."""
    if buf is None and isinstance(momentum, float) and momentum == 0.0:
        return w - lr * grad, None
    buf = grad if buf is None else momentum * buf + grad
    return w - lr * buf, buf


def _check_buf(buf: Tensor | None, w: Tensor) -> None:
    if buf is not None and (buf.shape != w.shape or buf.dtype != w.dtype):
        raise ShapeError(
            f"momentum buffer must match the weights {list(w.shape)} {w.dtype}, "
            f"got {list(buf.shape)} {buf.dtype}"
        )


def _full_step(
    spec: ParticleSpec,
    w: Tensor,
    data: Tensor,
    lr: Rate,
    momentum: Rate,
    buf: Tensor | None,
    analytic: bool,
) -> tuple[Tensor, Tensor, Tensor | None]:
    n = w.shape[0]
    lr_t = _rate(lr, n, w, "lr", allow_zero=False)
    mu_t = _rate(momentum, n, w, "momentum", allow_zero=True)
    _check_buf(buf, w)
    data = data.detach()
    if spec.kind != "weightwise":
        grad, loss = kind_gradient(spec, w.detach(), data)
    else:
        pos = encode_positions(spec, dtype=w.dtype, device=w.device)[None]
        grad, loss = gradient(spec, w.detach(), data, pos, data, analytic=analytic)
    w_new, buf = _sgd(w.detach(), grad, lr_t, mu_t, buf)
    return w_new, loss, buf


def self_train_step(
    spec: ParticleSpec,
    w: Tensor,
    lr: Rate,
    *,
    momentum: Rate = 0.0,
    buf: Tensor | None = None,
    analytic: bool = True,
) -> tuple[Tensor, Tensor, Tensor | None]:
    """One full-batch self-train step of every particle (Def. 5).

    w: [N, P]; lr, momentum: scalars or [N]; buf: [N, P] momentum buffer or None.
    Returns (w_new [N, P], loss [N] before the step, buf). ``w`` is not modified.
    Aggregating particles pull their A outputs toward the aggregates of their own weights,
    recurrent ones their output sequence toward w (autograd; ``analytic`` is ignored).
    """
    check_weights(spec, w, "w")
    return _full_step(spec, w, w, lr, momentum, buf, analytic)


def self_train_steps(
    spec: ParticleSpec,
    w: Tensor,
    steps: int,
    lr: Rate,
    *,
    momentum: Rate = 0.0,
    buf: Tensor | None = None,
    analytic: bool = True,
) -> tuple[Tensor, Tensor, Tensor | None]:
    """``steps`` calls of ``self_train_step`` in one: the same bits, less overhead per step.

    The checks, the rates and the position table are prepared once (a small soup's tick is
    bound by per-call overhead, not arithmetic). w: [N, P]; lr, momentum: scalars or [N].
    Returns (w [N, P], loss [N] of the last step before its update — zeros for 0 steps, buf).
    """
    check_weights(spec, w, "w")
    loss = torch.zeros(w.shape[0], dtype=w.dtype, device=w.device)
    if steps <= 0:
        return w, loss, buf
    if spec.kind != "weightwise" or not (spec.is_linear and analytic):
        for _ in range(steps):
            w, loss, buf = self_train_step(spec, w, lr, momentum=momentum, buf=buf,
                                           analytic=analytic)  # fmt: skip
        return w, loss, buf
    n = w.shape[0]
    lr_t = _rate(lr, n, w, "lr", allow_zero=False)
    mu_t = _rate(momentum, n, w, "momentum", allow_zero=True)
    _check_buf(buf, w)
    pos = _positions(encode_positions(spec, dtype=w.dtype, device=w.device)[None])
    w = w.detach()
    for _ in range(steps):
        grad, loss = _linear(spec, w, w, pos, w)
        w, buf = _sgd(w, grad, lr_t, mu_t, buf)
    return w, loss, buf


def learn_from_step(
    spec: ParticleSpec,
    learners: Tensor,
    teachers: Tensor,
    lr: Rate,
    *,
    momentum: Rate = 0.0,
    buf: Tensor | None = None,
    analytic: bool = True,
) -> tuple[Tensor, Tensor, Tensor | None]:
    """One step of each learner's self-train loss on its teacher's data.

    Learner i learns to output teacher i's weights at teacher i's positions.
    learners, teachers: [N, P]. Returns (learners_new [N, P], loss [N], buf).
    """
    check_pair(spec, learners, teachers, ("learners", "teachers"))
    return _full_step(spec, learners, teachers, lr, momentum, buf, analytic)


def train_pass(
    spec: ParticleSpec,
    w: Tensor,
    data: Tensor,
    lr: Rate,
    generator: torch.Generator | None = None,
    *,
    momentum: Rate = 0.0,
    buf: Tensor | None = None,
    order: Tensor | None = None,
    analytic: bool = True,
) -> tuple[Tensor, Tensor, Tensor | None]:
    """One ``epoch``-mode pass (2019 Keras ``fit``): P single-sample steps in random order.

    Inputs and targets come from ``data`` (w itself for self-train, the teacher for
    learn-from), fixed at the start of the pass. w, data: [N, P]; order: optional [N, P]
    permutation per particle (drawn from ``generator`` otherwise).
    Returns (w_new, mean per-sample loss [N], buf).

    Aggregating and recurrent particles see one sample per pass (the aggregates, or the whole
    sequence), so a pass is one step (as Keras ``fit`` on one sample); the generator is unused.
    """
    check_pair(spec, w, data, ("w", "data"))
    if spec.kind != "weightwise":
        return _full_step(spec, w, data, lr, momentum, buf, analytic)
    n, p = w.shape
    lr_t = _rate(lr, n, w, "lr", allow_zero=False)
    mu_t = _rate(momentum, n, w, "momentum", allow_zero=True)
    _check_buf(buf, w)
    if order is None:
        order = torch.argsort(
            torch.rand(n, p, generator=generator, device=w.device, dtype=torch.float64), dim=1
        )
    data = data.detach()
    table = encode_positions(spec, dtype=w.dtype, device=w.device)
    w = w.detach()
    total = torch.zeros(n, dtype=w.dtype, device=w.device)
    for s in range(p):  # a loop over weights, batched over particles
        k = order[:, s : s + 1]  # [N, 1]
        d = data.gather(1, k)
        grad, loss = gradient(spec, w, d, table[k], d, analytic=analytic)
        total += loss
        w, buf = _sgd(w, grad, lr_t, mu_t, buf)
    return w, total / p, buf



def second_order_step(
    spec: ParticleSpec,
    w: Tensor,
    lr: Rate,
    *,
    momentum: Rate = 0.0,
    buf: Tensor | None = None,
) -> tuple[Tensor, Tensor, Tensor | None]:
    """One full-batch step toward a 2-cycle (the journal's ``SecondaryNet``, §9).

    Minimises L = MSE(f(w̄), −w̄) + MSE(f(f(w̄)), w̄) per particle, f = A◁· with A's current
    weights, w̄ = w detached at the start of the step. The first application reads the
    encoding x_k(w̄); the second reads a fresh encoding whose weight column is the first
    output y = f(w̄) *itself*, so the gradient flows through y into the second application as
    well as through A's weights directly (journal code). Positions and targets are constants.
    Batched autograd, Σ_p L_p, so each particle's gradient is its solo gradient.

    A particle whose weights are non-finite does not train: its weights and momentum row stay
    as they were (the step that made it non-finite is kept, so ``classify`` calls it divergent),
    and rows never mix, so its NaN cannot reach the others. Weightwise particles only.

    w: [N, P]; lr, momentum: scalars or [N]; buf: [N, P] or None.
    Returns (w_new [N, P], loss [N] before the step, buf).
    """
    check_weights(spec, w, "w")
    require_weightwise(spec, "second_order_step")
    n = w.shape[0]
    lr_t = _rate(lr, n, w, "lr", allow_zero=False)
    mu_t = _rate(momentum, n, w, "momentum", allow_zero=True)
    _check_buf(buf, w)
    w0 = w.detach()
    pos = encode_positions(spec, dtype=w.dtype, device=w.device)  # [P, i], column 0 zero
    x1 = pos.expand(n, -1, -1).clone()
    x1[:, :, 0] = w0
    rest = pos[None, :, 1:].expand(n, -1, -1)
    with torch.enable_grad():
        wp = w0.clone().requires_grad_(True)
        once = forward(spec, wp, x1)  # [N, P]
        twice = forward(spec, wp, torch.cat([once[:, :, None], rest], dim=2))
        loss = ((once + w0) ** 2).mean(dim=1) + ((twice - w0) ** 2).mean(dim=1)
        (grad,) = torch.autograd.grad(loss.sum(), wp)
    live = torch.isfinite(w0).all(dim=1)[:, None]  # [N, 1]
    grad = torch.where(live, grad, torch.zeros_like(grad))
    w_new, new_buf = _sgd(w0, grad, lr_t, mu_t, buf)
    w_new = torch.where(live, w_new, w0)
    if new_buf is not None:
        new_buf = torch.where(live, new_buf, buf if buf is not None else torch.zeros_like(w0))
    return w_new, loss.detach(), new_buf
