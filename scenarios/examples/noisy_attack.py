"""Example pair rule: an attack that adds a little Gaussian noise to the target."""

from torch import Tensor

from neurosoup.chemistry.rules import pair_rule
from neurosoup.particles import ParticleSpec, apply_weightwise


@pair_rule(rate=0.1, pairing="single", noise="n_weights", name="noisy_attack",
           params={"scale": 1e-3})  # fmt: skip
def noisy_attack(
    actor: Tensor, target: Tensor, noise: Tensor, *, spec: ParticleSpec, scale: float
) -> Tensor:
    """Target ← A◁B + scale·noise, for one pair ([P] tensors) of the soup's particle spec."""
    return apply_weightwise(spec, actor[None], target[None])[0] + scale * noise
