"""Slow, obviously-correct twin of ``particles.serann.train``: one ``SerannNet`` module at a time.

The phenotype is the ``nn.Module`` the builder makes (``model.build``), trained with
``torch.optim.Adam`` on the member's own batches, one member after another; BatchNormalization
is torch's own module in training mode. Used in float64 to check stacked group training.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

from neurosoup.particles.serann.model import build
from neurosoup.particles.serann.train import Member, TaskTensors, TrainSettings


def train_alone(member: Member, task: TaskTensors, settings: TrainSettings) -> dict:
    """Train one member as a module; returns its trained state, accuracy, copy error, copies."""
    net = build(member.ir).to(task.train_images.dtype)
    state = {**member.params, **member.buffers}
    net.load_state_dict(state, strict=False)
    opt = torch.optim.Adam(net.parameters(), lr=settings.lr, eps=settings.eps)
    alpha = member.ir.alpha
    net.train(True)
    for s in range(settings.steps):
        rows, grows = member.image_idx[s], member.genotype_idx[s]
        genotypes = task.copy_genotypes[grows]
        class_logits, copy_logits = net(task.train_images[rows], genotypes)
        ce = F.cross_entropy(class_logits, task.train_labels[rows])
        mse = F.mse_loss(torch.sigmoid(copy_logits), genotypes)
        loss = alpha * ce + (1 - alpha) * mse
        opt.zero_grad()
        loss.backward()
        opt.step()
    net.train(False)
    with torch.no_grad():
        class_logits, copy_logits = net(task.test_images, task.eval_genotypes)
        accuracy = float((class_logits.argmax(-1) == task.test_labels).double().mean())
        wrong = ((copy_logits > 0).to(task.eval_genotypes.dtype) != task.eval_genotypes)
        copy_error = float(wrong.double().sum(dim=1).mean())
        copies = []
        for i in member.copy_images.tolist():  # one copy at a time
            _, logits = net(task.test_images[i : i + 1], member.own.reshape(1, -1))
            copies.append((logits[0] > 0).to(torch.uint8))
    return {"state": {k: v.detach().clone() for k, v in net.state_dict().items()},
            "accuracy": accuracy, "copy_error": copy_error, "copies": torch.stack(copies)}
