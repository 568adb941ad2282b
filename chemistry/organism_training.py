"""Training an organism network on a task while its particles self-train (model kind ``organism``).

``science/organism.md``, *Training schedule*. One model step = one epoch. For each batch:

1. self-replication phase (skipped until the train-to-task-first latch opens):
   ``st_steps_per_batch`` self-train steps of all particles at once, with a *fresh*
   SGD(lr, momentum) buffer per batch; loss = Σ_particles mean_i (PN(enc_i) − w_i)²;
2. one step of the *persistent* task SGD(lr, momentum) over all particle parameters.

Every particle update is one batched tensor expression over the ``[N, P]`` stack: the gradient
of particle n depends only on particle n, and SGD is elementwise, so this is identical to
independent per-particle optimizers. Validation (types, metrics) runs after steps divisible by
``validate_every``, after the last planned step, and at step 0 (the initial organism).
"""

from __future__ import annotations

import itertools
import json
import math
from typing import Any, ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from neurosoup.particles import (
    ORGANISM_TYPE_LABELS,
    ConfigError,
    OrganismNetwork,
    OrganismType,
    ParticleSpec,
    self_train_step,
)
from neurosoup.particles.runformat import organism as organism_fmt

from .model_kinds import Layout, ModelBase, Series
from .organism_config import OrganismConfig
from .tasks import AdditionTask, ImageTask, load_images

OBSERVABLES = organism_fmt.OBSERVABLES
SNAPSHOT_ARRAYS = organism_fmt.SNAPSHOT_ARRAYS
SR_LOSS, TASK_LOSS = organism_fmt.SR_LOSS, organism_fmt.TASK_LOSS
TRAIN_METRIC, TEST_METRIC = organism_fmt.TRAIN_METRIC, organism_fmt.TEST_METRIC

# What the paper / the science doc report, printed beside a run's result by ``summary``.
REFERENCE = {
    "addition": "paper: 18/18 PN_SR, MAE ≈ 1e-7 (public code, seed 0: 1.4e-7 at 10 ST, "
    "8.1e-8 at 25 ST)",
    "digits": "science doc (dense re-implementation, 100 epochs): test acc 0.90-0.92, "
    "PN_SR 40-46 of 395; not comparable with the paper's MNIST",
    "fashion_mnist": "science doc (100 epochs, train-first 0.7): test acc 0.785, 41/1200 PN_SR",
    "mnist5k": "paper (full MNIST, 200 epochs): test acc > 0.8, ≈25 % PN_SR; "
    "the 5k subset is not comparable",
}




# ---- the batched kernels of one batch ----------------------------------------------------
def self_train_phase(
    spec: ParticleSpec, w: Tensor, steps: int, lr: float, momentum: float
) -> tuple[Tensor, Tensor]:
    """``steps`` self-train steps of every particle with a fresh SGD buffer.

    w: [N, P]. Returns (w_new [N, P], per-particle loss [N] at the last step, before it).
    """
    buf, loss = None, None
    for _ in range(steps):
        w, loss, buf = self_train_step(spec, w, lr, momentum=momentum, buf=buf)
    assert loss is not None
    return w, loss


def task_loss(out: Tensor, y: Tensor, kind: str) -> Tensor:
    """MSE (addition) or cross-entropy (images), averaged over the batch."""
    return F.mse_loss(out, y) if kind == "mse" else F.cross_entropy(out, y)


def task_step(
    net: OrganismNetwork,
    w: Tensor,
    buf: Tensor | None,
    x: Tensor,
    y: Tensor,
    loss_kind: str,
    lr: float,
    momentum: float,
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """One step of the persistent task SGD (torch's rule: b ← μb + g, w ← w − lr·b).

    w: [N, P]; buf: [N, P] or None (first step: b = g). Returns (w_new, buf, loss, out), the
    loss and outputs [B, n_r] before the step.
    """
    with torch.enable_grad():
        wl = w.detach().requires_grad_(True)
        out = net.evaluate(wl, x)
        loss = task_loss(out, y, loss_kind)
        (grad,) = torch.autograd.grad(loss, wl)
    buf = grad if buf is None else momentum * buf + grad
    return w.detach() - lr * buf, buf, loss.detach(), out.detach()


def make_task(config: OrganismConfig, dtype: torch.dtype, device: torch.device):
    """The task a config trains on (images are loaded here, offline)."""
    if config.task == "addition":
        n_batches = 50 if config.n_batches is None else config.n_batches
        return AdditionTask(n_batches, config.batch_size, config.test_size, dtype=dtype,
                            device=device)  # fmt: skip
    data = load_images(config.task, image_size=config.image_size, data_dir=config.data_dir)
    return ImageTask(data, config.batch_size, config.n_batches, config.noise_std, dtype=dtype,
                     device=device)  # fmt: skip


# ---- the model kind ----------------------------------------------------------------------
class OrganismTraining(ModelBase):
    """Model kind ``organism``: one ``step()`` = one epoch of the alternating schedule.

    Attributes:
        network: the ``OrganismNetwork`` (its store is current after every step).
        observables: the pinned ``OBSERVABLES`` on validation steps (and step 0), else {}.
        st_on: the train-to-task-first latch (True once self-replication runs).
    """

    kind: ClassVar[str] = "organism"
    unit: ClassVar[str] = "epoch"

    def __init__(
        self,
        config: OrganismConfig,
        seed: int = 0,
        device: torch.device | str | None = None,
        *,
        scenario: str | None = None,
    ) -> None:
        if not isinstance(config, OrganismConfig):
            raise ConfigError(f"config must be an OrganismConfig, got {type(config).__name__}")
        super().__init__(config, seed, device, scenario=scenario)
        dev, rngs = self.device, self.rngs
        self.dtype = torch.float64 if config.dtype == "float64" else torch.float32
        self.task = make_task(config, self.dtype, dev)
        self.network = OrganismNetwork(
            config.layer_sizes,
            config.hidden,
            config.activation,
            config.residual,
            generator=rngs.torch,
            dtype=self.dtype,
            device=dev,
        )
        if config.init_weights is not None:  # drawn init replaced: later draws stay the same
            self.network.set_weights(torch.tensor(config.init_weights, dtype=self.dtype,
                                                  device=dev))  # fmt: skip
        self.spec = self.network.spec
        self.task_buf: Tensor | None = None
        self.st_on = config.train_first is None
        self.ptype, self._typed_at = self.network.classify(config.epsilon), 0
        self.last_epoch: dict[str, float] = {}
        self.observables: dict[str, float] = {}
        self._validate(None)

    @classmethod
    def memory_need(cls, config: OrganismConfig) -> tuple[int, str]:
        """Particles (initial weights, store, momentum) and one batch's per-edge activations."""
        size = 8 if config.dtype == "float64" else 4
        sizes = config.layer_sizes
        n = sum(a * b for a, b in itertools.pairwise(sizes))
        per_particle = 4 * config.particle.n_weights * size + 34
        return n * per_particle + config.batch_size * n * size, "layer_sizes or batch_size"

    # ---- the epoch -----------------------------------------------------------------------
    def step(self) -> None:
        """One epoch (Mesa's wrapper has already incremented ``self.steps``)."""
        cfg, net, gen = self.config, self.network, self.rngs.torch
        w, buf = net.store.weights, self.task_buf
        sr_losses, task_losses, scores, n_seen = [], [], [], 0
        st_on = self.st_on and cfg.st_steps_per_batch > 0
        for x, y in self.task.batches(gen):
            if st_on:
                w, loss = self_train_phase(
                    self.spec, w, cfg.st_steps_per_batch, cfg.st_lr, cfg.st_momentum
                )
                sr_losses.append(loss.mean())
            w, buf, loss, out = task_step(
                net, w, buf, x, y, self.task.loss, cfg.lr, cfg.momentum
            )
            task_losses.append(loss)
            scores.append(self.task.score(out, y).sum())
            n_seen += x.shape[0]
        net.store.weights = w.detach().contiguous()
        net.store.ptype[:] = -1
        self.task_buf = buf
        train_metric = float(torch.stack(scores).sum()) / n_seen
        epoch = {
            TASK_LOSS: float(torch.stack(task_losses).mean()),
            TRAIN_METRIC: train_metric,
            SR_LOSS: float(torch.stack(sr_losses).mean()) if sr_losses else self._sr_loss(),
        }
        self.last_epoch = epoch
        if not self.st_on and cfg.train_first is not None and train_metric >= cfg.train_first:
            self.st_on = True  # latched from the next epoch on
        if self.steps % cfg.validate_every == 0 or self.steps == cfg.steps:
            self._validate(epoch)
        else:
            self.observables = {}

    def _sr_loss(self) -> float:
        """Mean over particles of the current self-train loss (no training)."""
        w = self.network.store.weights
        _, loss, _ = self_train_step(self.spec, w, self.config.st_lr)
        return float(loss.mean())

    def _validate(self, epoch: dict[str, float] | None) -> None:
        """Types, test metric and the epoch's metrics → ``observables``."""
        self.ptype, self._typed_at = self.network.classify(self.config.epsilon), self.steps
        counts = torch.bincount(self.ptype.long().cpu(), minlength=len(OrganismType))
        obs = {name: float(counts[i]) for i, name in enumerate(organism_fmt.TYPE_OBSERVABLES)}
        gen = self.rngs.torch
        x_test, y_test = self.task.test_set(gen)
        with torch.no_grad():
            out = self.network(x_test)
            if epoch is None:  # step 0: no epoch yet; measure on the training data
                x_tr, y_tr = self.task.train_set(gen)
                out_tr = self.network(x_tr)
                epoch = {
                    TASK_LOSS: float(task_loss(out_tr, y_tr, self.task.loss)),
                    TRAIN_METRIC: float(self.task.score(out_tr, y_tr).mean()),
                    SR_LOSS: self._sr_loss(),
                }
        obs[SR_LOSS] = epoch[SR_LOSS]
        obs[TASK_LOSS] = epoch[TASK_LOSS]
        obs[TRAIN_METRIC] = epoch[TRAIN_METRIC]
        obs[TEST_METRIC] = float(self.task.score(out, y_test).mean())
        self.observables = obs
        self.last_validation = dict(obs)

    # ---- run-machinery protocol ----------------------------------------------------------
    def layout(self) -> Layout:
        """Observables on validation epochs; particle weights, types and uids per snapshot."""
        wdtype = np.float64 if self.config.dtype == "float64" else np.float32
        p = self.spec.n_weights
        fields = organism_fmt.SNAPSHOT_FIELDS
        series = (
            Series(organism_fmt.field(organism_fmt.WEIGHTS), wdtype, (p,)),
            *(Series(organism_fmt.field(name), dt) for name, dt in fields),
        )
        return Layout({name: () for name in OBSERVABLES}, series)

    def step_records(self) -> dict[str, Any]:
        """No per-epoch tables."""
        return {}

    def size_hint(self) -> int:
        """Particles times batch size: the work of one self-train step."""
        return self.network.n_particles * self.config.batch_size

    def result(self) -> dict[str, float]:
        """Final counts per ``OrganismType`` and the test metric."""
        out = {k: float(v) for k, v in self.counts().items()}
        last = getattr(self, "last_validation", {})
        out[TEST_METRIC] = float(last.get(TEST_METRIC, math.nan))
        return out

    def snapshot(self) -> dict[str, np.ndarray]:
        """Particle weights [N, P], types [N] int8 (``OrganismType``) and uids [N] int64."""
        net = self.network
        if self._typed_at != self.steps:
            self.ptype, self._typed_at = net.classify(self.config.epsilon), self.steps
        weights, ptype, uid = SNAPSHOT_ARRAYS
        return {
            weights: net.store.weights.detach().cpu().numpy().copy(),
            ptype: self.ptype.cpu().numpy().astype(np.int8),
            uid: net.store.uid.cpu().numpy().astype(np.int64),
        }

    def state(self) -> dict[str, Any]:
        """Everything needed to continue exactly: weights, task momentum, RNG, latch."""
        buf = self.task_buf
        return {
            "epoch": int(self.steps),
            "store": self.network.store.state_dict(),
            "has_task_buf": buf is not None,
            "task_buf": (buf if buf is not None else torch.zeros(0)).cpu().numpy().copy(),
            "st_on": bool(self.st_on),
            "rng": self.rngs.state(),
            "observables": json.dumps(self.observables),
            "last_epoch": json.dumps(self.last_epoch),
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Continue from ``state()`` output (same config, seed and device type)."""
        from neurosoup.particles import ParticleStore

        self.steps = int(state["epoch"])
        self.network.store = ParticleStore.from_state(self.spec, state["store"], self.device)
        buf = np.asarray(state["task_buf"])
        self.task_buf = (
            torch.as_tensor(buf).to(device=self.device, dtype=self.dtype).clone()
            if bool(state["has_task_buf"])
            else None
        )
        self.st_on = bool(state["st_on"])
        self.rngs.restore(state["rng"])
        self.observables = json.loads(state["observables"])
        self.last_epoch = json.loads(state["last_epoch"])
        self.ptype, self._typed_at = self.network.classify(self.config.epsilon), self.steps

    def counts(self) -> dict[str, int]:
        """Number of particles per ``OrganismType`` label (current weights)."""
        codes = self.network.classify(self.config.epsilon)
        counts = torch.bincount(codes.long().cpu(), minlength=len(OrganismType))
        return {label: int(counts[i]) for i, label in enumerate(ORGANISM_TYPE_LABELS)}

    def summary(self) -> str:
        """Final type counts and test metric beside the reference numbers."""
        counts = self.counts()
        gen = torch.Generator(device=self.device).manual_seed(0)  # leaves the run's RNG alone
        x, y = self.task.test_set(gen)
        with torch.no_grad():
            metric = float(self.task.score(self.network(x), y).mean())
        n = self.network.n_particles
        types = ", ".join(f"{k} {v}" for k, v in counts.items())
        return (
            f"organism {'-'.join(map(str, self.config.layer_sizes))} h={self.config.hidden} "
            f"on {self.config.task}, epoch {self.steps}: {n} particles ({types}); "
            f"PN_SR {counts['sr']}/{n}\n"
            f"test {self.task.metric} {metric:.4g}\n"
            f"reference: {REFERENCE[self.config.task]}"
        )


__all__ = [
    "OBSERVABLES",
    "SNAPSHOT_ARRAYS",
    "OrganismConfig",
    "OrganismTraining",
    "make_task",
    "self_train_phase",
    "task_loss",
    "task_step",
]
