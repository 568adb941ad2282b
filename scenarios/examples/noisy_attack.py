"""Example pair rule: an attack that adds a little Gaussian noise to the target."""

from torch import Tensor

from neurosoup.chemistry.rules import pair_rule
from neurosoup.particles import ParticleSpec, apply_weightwise

SPEC = ParticleSpec()  # the rule is written for the default 4-2-1 particle


@pair_rule(rate=0.1, pairing="single", noise="n_weights", name="noisy_attack")
def noisy_attack(actor: Tensor, target: Tensor, noise: Tensor) -> Tensor:
    """Target ← A◁B + 0.001·noise, for one pair ([P] tensors)."""
    return apply_weightwise(SPEC, actor[None], target[None])[0] + 1e-3 * noise
