"""``OrganismConfig``: the settings of an organism training run (``science/organism.md``).

Layer sizes, particle width, task, the alternating schedule (self-train steps per batch, the
train-to-task-first latch), learning rates and cadences; checked once, JSON round-trip. The
model is ``organism_training.OrganismTraining``.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from dataclasses import dataclass
from typing import Any, ClassVar

from neurosoup.particles import ConfigError, ParticleSpec
from neurosoup.particles.organism import ON_ACTIVATIONS, ON_RESIDUALS

from .checks import check_choice, check_int, check_positive
from .config_base import ConfigBase
from .tasks import FASHION_MNIST_DIR, NATIVE_SHAPES, TASKS


# ---- config ------------------------------------------------------------------------------
@dataclass(frozen=True)
class OrganismConfig(ConfigBase):
    """Everything that defines an organism training run (frozen, validated, JSON round-trip).

    Attributes:
        task: ``addition``, ``digits`` (default), ``fashion_mnist`` or ``mnist5k``.
        layer_sizes: neuron layer sizes n_0 … n_r; n_0 must equal the task's input size
            (2 for addition, image_size² or the native H·W for images), n_r its output size.
        hidden: particle hidden width h (PN 5-h-h-1).
        activation: ``none`` or ``gelu`` after every hidden neuron layer.
        residual: ``none`` or ``every``.
        st_steps_per_batch: self-train steps per batch (0 turns self-replication off).
        batch_size: samples per batch.
        n_batches: batches per epoch; None → 50 for addition, every full batch for images.
        test_size: fresh test pairs per evaluation (addition only).
        image_size: resize images to image_size × image_size (None: native size).
        noise_std: σ of Gaussian input noise on every served image (0 = off).
        train_first: skip self-replication until an epoch's running train accuracy is ≥
            this (then latched on); None = self-replicate from the start. Images only.
        lr, momentum: the persistent task SGD.
        st_lr, st_momentum: the per-batch self-train SGD.
        epsilon: typing tolerance ε.
        validate_every: validation period in epochs.
        data_dir: folder of the Fashion-MNIST IDX files.
        dtype: ``float32`` or ``float64``.
        steps: planned epochs; snapshot_every, checkpoint_every: for the run machinery.
        init_weights: the particles' starting weights [n_particles][P] (None: fresh init;
            ``neurosoup harvest`` sets them from a soup-grown organism).
        source: where ``init_weights`` came from (soup file, step, organism, uids; JSON).
    """

    task: str = "digits"
    layer_sizes: tuple[int, ...] = (64, 5, 5, 10)
    hidden: int = 5
    activation: str = "none"
    residual: str = "none"
    st_steps_per_batch: int = 10
    batch_size: int = 100
    n_batches: int | None = None
    test_size: int = 1000
    image_size: int | None = None
    noise_std: float = 0.0
    train_first: float | None = 0.85
    lr: float = 0.004
    momentum: float = 0.9
    st_lr: float = 0.004
    st_momentum: float = 0.9
    epsilon: float = 1e-5
    validate_every: int = 3
    data_dir: str = FASHION_MNIST_DIR
    dtype: str = "float32"
    steps: int = 100
    snapshot_every: int = 3
    checkpoint_every: int = 10
    init_weights: tuple[tuple[float, ...], ...] | None = None
    source: dict[str, Any] | None = None
    noun: ClassVar[str] = "organism"
    omit_when_empty: ClassVar[tuple[str, ...]] = ("init_weights", "source")  # older specs

    def __post_init__(self) -> None:
        if isinstance(self.layer_sizes, list):
            object.__setattr__(self, "layer_sizes", tuple(self.layer_sizes))
        check_choice("task", self.task, TASKS)
        check_choice("activation", self.activation, ON_ACTIVATIONS)
        check_choice("residual", self.residual, ON_RESIDUALS)
        check_choice("dtype", self.dtype, ("float32", "float64"))
        check_int("hidden", self.hidden, 1)
        check_int("st_steps_per_batch", self.st_steps_per_batch, 0)
        check_int("batch_size", self.batch_size, 1)
        check_int("test_size", self.test_size, 1)
        check_int("validate_every", self.validate_every, 1)
        check_int("steps", self.steps, 0)
        check_int("snapshot_every", self.snapshot_every, 1)
        check_int("checkpoint_every", self.checkpoint_every, 1)
        if self.n_batches is not None:
            check_int("n_batches", self.n_batches, 1)
        if self.image_size is not None:
            check_int("image_size", self.image_size, 1)
            if self.task == "addition":
                raise ConfigError("image_size applies to image tasks only; set it to None")
        for name in ("lr", "st_lr", "epsilon"):
            check_positive(name, getattr(self, name))
        for name in ("momentum", "st_momentum", "noise_std"):
            check_positive(name, getattr(self, name), allow_zero=True)
        if self.task == "addition" and self.noise_std != 0:
            raise ConfigError("noise_std applies to image tasks only; set it to 0")
        if self.train_first is not None:
            check_positive("train_first", self.train_first)
            if self.task == "addition":
                raise ConfigError(
                    "train_first is a train-accuracy threshold for image tasks; "
                    "set it to None for addition"
                )
            if self.train_first > 1:
                raise ConfigError(f"train_first is an accuracy in (0, 1], got {self.train_first}")
        if not isinstance(self.layer_sizes, tuple) or len(self.layer_sizes) < 2:
            raise ConfigError(f"layer_sizes must list >= 2 sizes, got {self.layer_sizes!r}")
        for n in self.layer_sizes:
            check_int("every layer size", n, 1)
        if self.init_weights is not None:
            object.__setattr__(self, "init_weights", _check_init(self))
        if self.source is not None and not isinstance(self.source, dict):
            raise ConfigError(f"source must be a table (soup file, step, …), got {self.source!r}")
        n_in, n_out = self.io_sizes
        if self.layer_sizes[0] != n_in or self.layer_sizes[-1] != n_out:
            raise ConfigError(
                f"layer_sizes {list(self.layer_sizes)} do not fit the {self.task} task: it needs "
                f"{n_in} inputs and {n_out} outputs, e.g. {[n_in, *self.layer_sizes[1:-1], n_out]}"
            )

    @property
    def io_sizes(self) -> tuple[int, int]:
        """(inputs, outputs) the task needs."""
        if self.task == "addition":
            return 2, 1
        h, w = NATIVE_SHAPES[self.task]
        if self.image_size is not None:
            h = w = self.image_size
        return h * w, 10

    @property
    def particle(self) -> ParticleSpec:
        """The particle spec, ``ParticleSpec(5, hidden, 1)``."""
        return ParticleSpec(5, self.hidden, 1)

    @classmethod
    def _from_json_values(cls, data: dict[str, Any]) -> dict[str, Any]:
        """``layer_sizes`` comes back from JSON as a list: a tuple again."""
        if isinstance(data.get("layer_sizes"), list):
            data["layer_sizes"] = tuple(data["layer_sizes"])
        return data


CONFIG_KEYS = tuple(f.name for f in dataclasses.fields(OrganismConfig))


def _check_init(config: OrganismConfig) -> tuple[tuple[float, ...], ...]:
    """``init_weights`` as a tuple of rows, checked: one row of P finite numbers per particle."""
    sizes = config.layer_sizes
    n = sum(a * b for a, b in itertools.pairwise(sizes))
    p = ParticleSpec(5, config.hidden, 1).n_weights
    rows = config.init_weights
    ok = isinstance(rows, list | tuple) and len(rows) == n and all(
        isinstance(r, list | tuple) and len(r) == p and all(
            isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in r)
        for r in rows
    )
    if not ok:
        raise ConfigError(
            f"init_weights must hold {n} rows of {p} finite numbers (one per particle of a "
            f"{'-'.join(map(str, sizes))} ON with hidden {config.hidden}); harvest them with "
            "`neurosoup harvest`"
        )
    return tuple(tuple(float(v) for v in r) for r in rows)


__all__ = ["CONFIG_KEYS", "OrganismConfig"]
