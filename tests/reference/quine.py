"""Slow, obviously-correct twin of ``particles.quine``: one quine at a time, plain torch.

The weights are separate matrices (W1, W2, w_out, W_cls) trained with torch.optim itself, the
forward pass loops over coordinates one by one, and hill-climbing is written out per step.
Used in float64 to check the batched population kernels.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.nn import functional as F

TEMPERATURE = 0.01


def make_torch_optimiser(name: str, params: list[Tensor], lr: float) -> torch.optim.Optimizer:
    """torch.optim with its defaults (SGD momentum 0.9) for one of the paper's optimisers."""
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr)
    if name == "sgd_momentum":
        return torch.optim.SGD(params, lr=lr, momentum=0.9)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr)
    if name == "adagrad":
        return torch.optim.Adagrad(params, lr=lr)
    if name == "adamax":
        return torch.optim.Adamax(params, lr=lr)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr)
    raise ValueError(name)


class RefQuine:
    """One quine: matrices as leaf tensors, the fixed tables as plain data.

    shapes: (out, in) of each matrix in flat order; flat: [N] initial weights.
    """

    def __init__(
        self,
        shapes: list[tuple[int, int]],
        flat: Tensor,
        projection: Tensor,
        image_projection: Tensor | None,
        optimiser: str,
        lr: float,
    ) -> None:
        self.shapes = shapes
        self.mats: list[Tensor] = []
        k = 0
        for r, c in shapes:
            self.mats.append(flat[k : k + r * c].reshape(r, c).clone().requires_grad_(True))
            k += r * c
        self.projection = projection
        self.image_projection = image_projection
        self.optimiser, self.lr = optimiser, lr
        self.opt = None if optimiser == "hill_climbing" else make_torch_optimiser(
            optimiser, self.mats, lr
        )  # fmt: skip

    def flat(self) -> Tensor:
        return torch.cat([m.detach().reshape(-1) for m in self.mats])

    def set_flat(self, flat: Tensor) -> None:
        k = 0
        with torch.no_grad():
            for m in self.mats:
                m.copy_(flat[k : k + m.numel()].reshape(m.shape))
                k += m.numel()

    def predict_one(
        self, mats: list[Tensor], c: int, image: Tensor | None
    ) -> tuple[Tensor, Tensor | None]:
        """f(c) (a scalar) and the logits for one coordinate and one image."""
        h = self.projection[c]
        if image is not None:
            h = torch.cat([h, image @ self.image_projection])
        h = F.selu(h)
        h = F.selu(mats[0] @ h)
        h = F.selu(mats[1] @ h)
        f = (mats[2] @ h)[0]
        logits = mats[3] @ h if len(mats) == 4 else None
        return f, logits

    def batch_loss(self, mats, coords, targets, images, labels, lam, sr_weight) -> Tensor:
        total = torch.zeros((), dtype=self.projection.dtype)
        for i, c in enumerate(coords.tolist()):
            img = None if images is None else images[i]
            f, logits = self.predict_one(mats, c, img)
            total = total + sr_weight * (f - targets[i]) ** 2
            if logits is not None:
                total = total + lam * F.cross_entropy(
                    (logits / TEMPERATURE)[None], labels[i : i + 1]
                )
        return total

    def epoch(
        self,
        order: Tensor,
        image_index: Tensor | None = None,
        task_images: Tensor | None = None,
        task_labels: Tensor | None = None,
        noise: Tensor | None = None,
        lam: float = 0.01,
        sr_weight: float = 1.0,
        minibatch: int = 10,
        targets: Tensor | None = None,
    ) -> None:
        """One epoch: order [N]; image_index [N]; noise [S, N] for hill-climbing.

        targets [N]: frozen targets (default: own weights at the start; learn-from: another's).
        """
        frozen = self.flat() if targets is None else targets.clone()
        n = frozen.shape[0]
        for s, a in enumerate(range(0, n, minibatch)):
            coords = order[a : a + minibatch]
            targets = frozen[coords]
            images = labels = None
            if image_index is not None:
                images = task_images[image_index[a : a + minibatch]]
                labels = task_labels[image_index[a : a + minibatch]]
            if self.opt is not None:
                self.opt.zero_grad()
                loss = self.batch_loss(self.mats, coords, targets, images, labels, lam, sr_weight)
                loss.backward()
                self.opt.step()
            else:
                with torch.no_grad():
                    mats = [m.detach() for m in self.mats]
                    old = self.batch_loss(mats, coords, targets, images, labels, lam, sr_weight)
                    trial_flat = self.flat() + self.lr * noise[s]
                    k, trial = 0, []
                    for m in mats:
                        trial.append(trial_flat[k : k + m.numel()].reshape(m.shape))
                        k += m.numel()
                    new = self.batch_loss(trial, coords, targets, images, labels, lam, sr_weight)
                    if new < old:
                        self.set_flat(trial_flat)

    def predict_all(self, images: Tensor | None = None) -> Tensor:
        """f(c) for every c (auxiliary: image c mod M)."""
        mats = [m.detach() for m in self.mats]
        n = sum(m.numel() for m in mats)
        out = torch.empty(n, dtype=self.projection.dtype)
        with torch.no_grad():
            for c in range(n):
                img = None if images is None else images[c % images.shape[0]]
                out[c] = self.predict_one(mats, c, img)[0]
        return out

    def regenerate(self, images: Tensor | None = None) -> None:
        self.set_flat(self.predict_all(images))

    def sse(self, images: Tensor | None = None) -> float:
        return float(((self.predict_all(images) - self.flat()) ** 2).sum())

    def accuracy(self, images: Tensor, labels: Tensor) -> float:
        mats = [m.detach() for m in self.mats]
        n = sum(m.numel() for m in mats)
        correct = 0
        with torch.no_grad():
            for i in range(images.shape[0]):
                logits = self.predict_one(mats, i % n, images[i])[1]
                correct += int(int(logits.argmax()) == int(labels[i]))
        return correct / images.shape[0]
