"""Training quines: per-member optimisers, epochs, regeneration (``science/quine.md``).

An epoch freezes θ as targets, visits every coordinate once in each member's own random order,
minibatch 10, and takes one optimiser step per minibatch on the summed minibatch loss
(L_SR = Σ (f(c) − θ_c)², plus λ·Σ CE(softmax(logits / 0.01)) for auxiliary quines); the
gradient flows through f only. Every member has its own optimiser (name, learning rate, state
rows of [Q, N] stacks), so members of one population may use different optimisers and each
one moves exactly as it would alone. The update rules are torch.optim's formulas (default
hyper-parameters) written as tensor expressions over rows; tests compare them with torch.optim.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor
from torch.nn import functional as F

from .errors import ConfigError, ShapeError
from .quine import QuinePopulation

#: The paper's optimisers; ``sgd_momentum`` is torch SGD with momentum 0.9.
OPTIMISERS = ("sgd", "sgd_momentum", "adam", "adagrad", "adamax", "rmsprop", "hill_climbing")
#: torch.optim defaults (SGD at the paper's 0.01); for hill-climbing the "rate" is σ of the noise.
DEFAULT_LR = {
    "sgd": 0.01,
    "sgd_momentum": 0.01,
    "adam": 1e-3,
    "adagrad": 1e-2,
    "adamax": 2e-3,
    "rmsprop": 1e-2,
    "hill_climbing": 3e-5,
}
MOMENTUM = 0.9
BETAS = (0.9, 0.999)  # Adam and Adamax
ADAM_EPS = 1e-8
ADAGRAD_EPS = 1e-10
RMS_ALPHA, RMS_EPS = 0.99, 1e-8
#: temperature of the auxiliary task's softmax (logits / 0.01)
TEMPERATURE = 0.01
STATE_KEYS = ("step", "m", "v")


def check_optimiser(name: object) -> str:
    """The optimiser name, or ``ConfigError`` with a did-you-mean."""
    if name not in OPTIMISERS:
        import difflib

        close = difflib.get_close_matches(str(name), OPTIMISERS, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ConfigError(
            f"unknown optimiser {name!r}; expected one of {', '.join(OPTIMISERS)}.{hint}"
        )
    return str(name)


class QuineOptimiser:
    """Per-member optimiser state for a [Q, N] population.

    Args:
        names: one optimiser name per member (len Q), from ``OPTIMISERS``.
        n_weights: N.
        lr: per-member learning rates [Q] (σ of the noise for hill-climbing); None = defaults.
        dtype, device: of the state rows.

    State (all plain tensors, see ``state_dict``): ``step`` [Q] int64 optimiser steps taken,
    ``m`` [Q, N] first moment / momentum buffer, ``v`` [Q, N] second moment (Adam, RMSprop),
    infinity norm (Adamax) or sum of squares (Adagrad). Zero-initialised, which equals
    torch.optim's first step for every rule (μ·0 + g = g, max(0, |g| + ε) = |g| + ε).
    """

    def __init__(
        self,
        names: Sequence[str],
        n_weights: int,
        lr: Sequence[float] | None = None,
        *,
        dtype: torch.dtype = torch.float32,
        device: torch.device | str = "cpu",
    ) -> None:
        names = [check_optimiser(n) for n in names]
        if not names:
            raise ConfigError("a quine optimiser needs one name per member (Q >= 1), got none")
        q = len(names)
        lrs = [DEFAULT_LR[n] for n in names] if lr is None else [float(x) for x in lr]
        if len(lrs) != q:
            raise ConfigError(f"lr must have one entry per member ({q}), got {len(lrs)}")
        for x in lrs:
            if not (x > 0 and x != float("inf")):
                raise ConfigError(f"every learning rate must be finite and > 0, got {x}")
        self.names = tuple(names)
        self.lr = torch.tensor(lrs, dtype=torch.float64, device=device)
        self.dtype, self.device = dtype, torch.device(device)
        self.groups = {
            k: torch.tensor([i for i, n in enumerate(names) if n == k], device=device)
            for k in OPTIMISERS
            if k in names
        }
        self.state = {
            "step": torch.zeros(q, dtype=torch.int64, device=device),
            "m": torch.zeros(q, n_weights, dtype=dtype, device=device),
            "v": torch.zeros(q, n_weights, dtype=dtype, device=device),
        }

    @property
    def uses_gradient(self) -> bool:
        """True when some member needs a gradient (every optimiser but hill-climbing)."""
        return any(k != "hill_climbing" for k in self.groups)

    @property
    def hill_rows(self) -> Tensor | None:
        """Indices of hill-climbing members, or None."""
        return self.groups.get("hill_climbing")

    def state_dict(self) -> dict[str, Tensor]:
        """The state as plain tensors (clones), for checkpoints."""
        return {k: v.clone() for k, v in self.state.items()}

    def load_state_dict(self, state: dict[str, Tensor]) -> None:
        """Restore ``state_dict`` output (tensors or numpy arrays)."""
        for key in STATE_KEYS:
            if key not in state:
                raise ShapeError(f"optimiser state lacks `{key}`; expected keys {STATE_KEYS}")
            old = self.state[key]
            new = torch.as_tensor(state[key]).to(dtype=old.dtype, device=old.device)
            if new.shape != old.shape:
                raise ShapeError(
                    f"optimiser state `{key}` must be {list(old.shape)}, got {list(new.shape)}"
                )
            self.state[key] = new.clone()

    def subset(self, rows: Tensor) -> QuineOptimiser:
        """A new optimiser for members ``rows`` [R] with copies of their names, rates and state."""
        idx = rows.tolist()
        sub = QuineOptimiser(
            [self.names[i] for i in idx], int(self.state["m"].shape[1]),
            [float(self.lr[i]) for i in idx], dtype=self.dtype, device=self.device,
        )  # fmt: skip
        sub.load_state_dict({k: v.index_select(0, rows) for k, v in self.state.items()})
        return sub

    def put(self, rows: Tensor, sub: QuineOptimiser) -> None:
        """Write the state of ``sub`` (from ``subset(rows)``) back into rows ``rows``."""
        for key in STATE_KEYS:
            self.state[key].index_copy_(0, rows, sub.state[key])

    def reset(self, rows: Tensor) -> None:
        """Zero the state of members ``rows`` (a newborn starts its optimiser afresh)."""
        for key in STATE_KEYS:
            self.state[key].index_fill_(0, rows, 0)

    def step(self, w: Tensor, grad: Tensor) -> Tensor:
        """Apply every gradient member's update rule to its rows; hill-climbers are untouched.

        w, grad: [Q, N]. Returns the new weights [Q, N] (w is not modified).
        """
        out = w.clone()
        st = self.state
        for name, rows in self.groups.items():
            if name == "hill_climbing":
                continue
            full = rows.numel() == w.shape[0]
            pick = (lambda t: t) if full else (lambda t, r=rows: t.index_select(0, r))
            t = pick(st["step"]) + 1
            new_w, new_m, new_v = _update(
                name, pick(w), pick(grad), pick(st["m"]), pick(st["v"]), t, pick(self.lr)
            )
            if full:
                out, st["m"], st["v"], st["step"] = new_w, new_m, new_v, t
            else:
                out.index_copy_(0, rows, new_w)
                st["m"].index_copy_(0, rows, new_m)
                st["v"].index_copy_(0, rows, new_v)
                st["step"].index_copy_(0, rows, t)
        return out

    def count_hill_steps(self) -> None:
        """Advance the step counter of the hill-climbing members by one."""
        rows = self.hill_rows
        if rows is not None:
            self.state["step"].index_add_(0, rows, torch.ones_like(rows))


def _update(
    name: str, w: Tensor, g: Tensor, m: Tensor, v: Tensor, t: Tensor, lr: Tensor
) -> tuple[Tensor, Tensor, Tensor]:
    """One torch.optim step of rows w, g, m, v: [R, N]; t: [R] steps after this one; lr: [R]."""
    lr_ = lr.to(w.dtype)[:, None]
    tf = t.to(torch.float64)
    if name == "sgd":
        return w - lr_ * g, m, v
    if name == "sgd_momentum":
        m = MOMENTUM * m + g
        return w - lr_ * m, m, v
    if name == "adam":
        b1, b2 = BETAS
        m = torch.lerp(m, g, 1 - b1)
        v = v * b2 + (1 - b2) * (g * g)
        step_size = (lr / (1 - b1**tf)).to(w.dtype)[:, None]
        bc2_sqrt = ((1 - b2**tf) ** 0.5).to(w.dtype)[:, None]
        denom = v.sqrt() / bc2_sqrt + ADAM_EPS
        return w - step_size * (m / denom), m, v
    if name == "adamax":
        b1, b2 = BETAS
        m = torch.lerp(m, g, 1 - b1)
        v = torch.maximum(v * b2, g.abs() + ADAM_EPS)
        clr = (lr / (1 - b1**tf)).to(w.dtype)[:, None]
        return w - clr * (m / v), m, v
    if name == "adagrad":
        v = v + g * g
        return w - lr_ * (g / (v.sqrt() + ADAGRAD_EPS)), m, v
    if name == "rmsprop":
        v = v * RMS_ALPHA + (1 - RMS_ALPHA) * (g * g)
        return w - lr_ * (g / (v.sqrt() + RMS_EPS)), m, v
    raise ConfigError(f"optimiser {name!r} has no gradient update")  # pragma: no cover


@dataclass(frozen=True)
class TaskData:
    """Images of the auxiliary task on the quines' device.

    images: [M, n_pixels] in [0, 1]; labels: [M] int64.
    """

    images: Tensor
    labels: Tensor

    def __post_init__(self) -> None:
        if self.images.dim() != 2 or self.labels.shape != (self.images.shape[0],):
            raise ShapeError(
                f"task data must be images [M, n_pixels] and labels [M], got "
                f"{list(self.images.shape)} and {list(self.labels.shape)}"
            )


@dataclass(frozen=True)
class EpochDraws:
    """All randomness of one epoch, drawn up front so populations and twins can share it.

    order: [Q, N] each member's permutation of the coordinates; image_index: [Q, N] training
    image of each visited coordinate (auxiliary only); noise: [S, Q, N] standard-normal
    hill-climbing noise per step (None: drawn step by step from the generator).
    """

    order: Tensor
    image_index: Tensor | None = None
    noise: Tensor | None = None


def draw_epoch(
    pop: QuinePopulation, generator: torch.Generator, n_train: int | None = None
) -> EpochDraws:
    """Permutations [Q, N] (and random training images for auxiliary quines) from ``generator``."""
    q, n, dev = pop.n_quines, pop.n_weights, pop.weights.device
    keys = torch.rand(q, n, generator=generator, device=dev)
    order = torch.argsort(keys, dim=1)
    idx = None
    if pop.spec.is_auxiliary:
        if not n_train:
            raise ConfigError("an auxiliary quine's epoch needs training images (n_train >= 1)")
        idx = torch.randint(0, n_train, (q, n), generator=generator, device=dev)
    return EpochDraws(order, idx)


def _check_lambda(lam: object) -> None:
    if isinstance(lam, bool) or not isinstance(lam, int | float) or not lam >= 0:
        raise ConfigError(f"task weight λ must be a number >= 0, got {lam!r}; the paper uses 0.01")


def task_weights(q: int, lam: float | Sequence[float]) -> float | Tensor:
    """λ as given (one number for all) or a float64 row [Q] of per-member task weights."""
    if isinstance(lam, list | tuple | Tensor):
        values = [float(x) for x in lam] if isinstance(lam, Tensor) else list(lam)
        if len(values) != q:
            raise ConfigError(
                f"task weight λ lists {len(values)} entries but the population has {q}; "
                "give one per member or a single number"
            )
        for x in values:
            _check_lambda(x)
        return torch.tensor([float(x) for x in values], dtype=torch.float64)
    _check_lambda(lam)
    return lam


def check_loss_weights(
    q: int, lam: float | Sequence[float], sr_weight: Sequence[float] | None
) -> Tensor | None:
    """Validate λ ≥ 0 (one or per member) and per-member SR weights (0 = classification only)."""
    task_weights(q, lam)
    if sr_weight is None:
        return None
    if len(sr_weight) != q:
        raise ConfigError(f"sr_weight must have one entry per member ({q}), got {len(sr_weight)}")
    if any(not (x >= 0) for x in sr_weight):
        raise ConfigError(f"every sr_weight must be >= 0, got {list(sr_weight)}")
    return torch.tensor([float(x) for x in sr_weight], dtype=torch.float64)


def minibatch_loss(
    pop: QuinePopulation,
    w: Tensor,
    coords: Tensor,
    targets: Tensor,
    feats: Tensor | None,
    labels: Tensor | None,
    lam: float | Tensor,
    sr_w: Tensor | None,
) -> Tensor:
    """Summed loss per member [Q]: sr_w·Σ (f − θ_c)² (+ λ·Σ CE(logits / 0.01, label)).

    ``lam`` is one number or a per-member row [Q] (weights' dtype and device).
    """
    f, logits = pop.forward(w, coords, feats)
    sr = ((f - targets) ** 2).sum(dim=1)
    if sr_w is not None:
        sr = sr * sr_w
    if logits is None:
        return sr
    q, b, k = logits.shape
    ce = F.cross_entropy(
        (logits / TEMPERATURE).reshape(q * b, k), labels.reshape(q * b), reduction="none"
    )
    return sr + lam * ce.reshape(q, b).sum(dim=1)


def train_epoch(
    pop: QuinePopulation,
    opt: QuineOptimiser,
    draws: EpochDraws,
    generator: torch.Generator | None = None,
    *,
    task: TaskData | None = None,
    lam: float | Sequence[float] = 0.01,
    sr_weight: Sequence[float] | None = None,
    minibatch: int = 10,
    targets: Tensor | None = None,
) -> dict[str, Tensor]:
    """One epoch of every member (in place on ``pop.weights`` and ``opt.state``).

    ``lam``: one task weight λ or one per member. ``targets`` [Q, N]: the frozen targets
    (default: the members' own weights at the start of the epoch; another quine's weights
    make it learn-from). Returns ``loss`` [Q] (mean minibatch loss over the epoch before each
    step) and ``accepted`` [Q] (fraction of hill-climbing proposals kept; NaN for gradient members).
    """
    q, n = pop.n_quines, pop.n_weights
    if len(opt.names) != q:
        raise ConfigError(f"optimiser has {len(opt.names)} members, population {q}")
    if isinstance(minibatch, bool) or not isinstance(minibatch, int) or minibatch < 1:
        raise ConfigError(f"minibatch must be an int >= 1, got {minibatch!r}")
    sr_w = check_loss_weights(q, lam, sr_weight)
    lam_t = task_weights(q, lam)
    if isinstance(lam_t, Tensor):
        lam = lam_t.to(pop.weights.dtype).to(pop.weights.device)
    if sr_w is not None:
        sr_w = sr_w.to(pop.weights.dtype).to(pop.weights.device)
    if draws.order.shape != (q, n):
        raise ShapeError(f"draws.order must be [{q}, {n}], got {list(draws.order.shape)}")
    aux = pop.spec.is_auxiliary
    if aux and (task is None or draws.image_index is None):
        raise ConfigError("an auxiliary quine's epoch needs task data and draws.image_index")
    feats_all = pop.image_features(task.images) if aux else None
    labels_all = task.labels.to(pop.weights.device) if aux else None
    hill = opt.hill_rows
    if hill is not None and draws.noise is None and generator is None:
        raise ConfigError("hill-climbing needs a generator (or draws.noise) for its noise")
    hill_lr = None if hill is None else opt.lr.index_select(0, hill).to(pop.weights.dtype)
    if targets is None:
        targets_all = pop.weights.detach().clone()  # θ frozen at the start of the epoch
    elif tuple(targets.shape) != (q, n):
        raise ShapeError(f"targets must be [{q}, {n}], got {list(targets.shape)}")
    else:
        targets_all = targets.detach().to(pop.weights.dtype).clone()
    w = pop.weights.detach()
    loss_sum = torch.zeros(q, dtype=torch.float64, device=w.device)
    accepted = torch.zeros(q, dtype=torch.float64, device=w.device)
    n_steps = 0
    for s, a in enumerate(range(0, n, minibatch)):
        coords = draws.order[:, a : a + minibatch]
        targets = targets_all.gather(1, coords)
        feats = labels = None
        if aux:
            img = draws.image_index[:, a : a + minibatch]
            feats, labels = feats_all[img], labels_all[img]
        if opt.uses_gradient:
            with torch.enable_grad():
                wp = w.clone().requires_grad_(True)
                loss = minibatch_loss(pop, wp, coords, targets, feats, labels, lam, sr_w)
                (grad,) = torch.autograd.grad(loss.sum(), wp)
            loss = loss.detach()
            w_new = opt.step(w, grad)
        else:
            with torch.no_grad():
                loss = minibatch_loss(pop, w, coords, targets, feats, labels, lam, sr_w)
            w_new = w.clone()
        if hill is not None:
            if draws.noise is not None:
                z = draws.noise[s].index_select(0, hill)
            else:
                z = torch.randn(
                    hill.numel(), n, generator=generator, device=w.device, dtype=w.dtype
                )
            w_h = w.index_select(0, hill)
            trial = w_h + hill_lr[:, None] * z
            sub = QuinePopulation(pop.spec, trial, pop.projection, pop.image_projection)
            with torch.no_grad():
                new_loss = minibatch_loss(
                    sub,
                    trial,
                    coords.index_select(0, hill),
                    targets.index_select(0, hill),
                    None if feats is None else feats.index_select(0, hill),
                    None if labels is None else labels.index_select(0, hill),
                    lam.index_select(0, hill) if isinstance(lam, Tensor) else lam,
                    None if sr_w is None else sr_w.index_select(0, hill),
                )
            keep = new_loss < loss.index_select(0, hill)
            w_new.index_copy_(0, hill, torch.where(keep[:, None], trial, w_h))
            accepted.index_add_(0, hill, keep.to(torch.float64))
            opt.count_hill_steps()
        w = w_new
        loss_sum += loss.to(torch.float64)
        n_steps += 1
    pop.weights = w
    acc = torch.full((q,), float("nan"), dtype=torch.float64, device=w.device)
    if hill is not None:
        acc[hill] = accepted[hill] / n_steps
    return {"loss": loss_sum / n_steps, "accepted": acc}


def train_generation(
    pop: QuinePopulation,
    opt: QuineOptimiser,
    generator: torch.Generator,
    epochs: int,
    *,
    task: TaskData | None = None,
    test_images: Tensor | None = None,
    lam: float | Sequence[float] = 0.01,
    sr_weight: Sequence[float] | None = None,
    minibatch: int = 10,
) -> Tensor:
    """Alternation: ``epochs`` (T ≥ 0) optimiser epochs, then one regeneration. Returns [Q, N].

    Auxiliary quines regenerate with coordinate c paired with test image c mod n_test.
    """
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 0:
        raise ConfigError(f"epochs per generation T must be an int >= 0, got {epochs!r}")
    n_train = None if task is None else int(task.images.shape[0])
    for _ in range(epochs):
        draws = draw_epoch(pop, generator, n_train)
        train_epoch(
            pop, opt, draws, generator, task=task, lam=lam, sr_weight=sr_weight,
            minibatch=minibatch,
        )  # fmt: skip
    return pop.regenerate(test_images)


__all__ = [
    "DEFAULT_LR",
    "OPTIMISERS",
    "EpochDraws",
    "QuineOptimiser",
    "TaskData",
    "check_loss_weights",
    "check_optimiser",
    "draw_epoch",
    "minibatch_loss",
    "task_weights",
    "train_epoch",
    "train_generation",
]
