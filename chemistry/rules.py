"""User interaction rules written for one pair and lifted to the whole soup.

A rule maps ``(actor [P], target [P], noise [K]) → new target [P]``; neurosoup batches it with
``torch.func.vmap`` (or a plain loop when declared ``vectorize=False``) and runs it after merge
in the tick, with attack's semantics: the target changes, several actors on one target resolve
to one uniform winner. All randomness arrives pre-drawn in ``noise`` (standard normal).

    @pair_rule(rate=0.1, noise="n_weights", name="noisy_attack")
    def noisy_attack(actor, target, noise):
        return target + 0.01 * noise

``check_rule`` runs on a rule's first use and names each failure: wrong shape or dtype, NaN,
mutated input, nondeterminism, or a function ``vmap`` cannot batch (offering the loop fallback).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from neurosoup.particles import ConfigError, InvalidRuleError, ParticleSpec

from .config import PAIRINGS, suggest
from .operators import OPERATOR_CODES as BUILT_INS

RuleFn = Callable[[Tensor, Tensor, Tensor], Tensor]
RULES: dict[str, PairRule] = {}
_CHECKED: set[tuple[int, int, str]] = set()


@dataclass(frozen=True)
class PairRule:
    """A registered one-pair rule.

    Attributes:
        fn: the user's function of one pair.
        name: registry name (what ``SoupConfig.rules`` lists).
        rate: probability p of its pairing mode.
        pairing: ``per_actor`` or ``single``.
        noise: K, the noise length per pair (``"n_weights"`` for K = P).
        vectorize: batch with ``vmap`` (True) or a loop over pairs (False, the fallback).
    """

    fn: RuleFn
    name: str
    rate: float
    pairing: str = "per_actor"
    noise: int | str = 0
    vectorize: bool = True

    def noise_size(self, spec: ParticleSpec) -> int:
        """K for a given particle spec."""
        return spec.n_weights if self.noise == "n_weights" else int(self.noise)

    def __call__(self, actors: Tensor, targets: Tensor, noise: Tensor) -> Tensor:
        """Apply the rule to M pairs: actors, targets [M, P], noise [M, K] → [M, P]."""
        if actors.shape[0] == 0:
            return targets.clone()
        if self.vectorize:
            return torch.func.vmap(self.fn)(actors, targets, noise)
        return torch.stack(
            [self.fn(a, t, z) for a, t, z in zip(actors, targets, noise, strict=True)]
        )


def pair_rule(
    rate: float = 0.1,
    *,
    pairing: str = "per_actor",
    noise: int | str = 0,
    name: str | None = None,
    vectorize: bool = True,
) -> Callable[[RuleFn], PairRule]:
    """Decorator: register a one-pair rule under ``name`` (default: the function's name)."""
    if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 1:
        raise ConfigError(f"pair_rule rate must be a probability in [0, 1], got {rate!r}")
    if pairing not in PAIRINGS:
        raise ConfigError(f"pair_rule pairing must be one of {PAIRINGS}, got {pairing!r}")
    if noise != "n_weights" and (
        isinstance(noise, bool) or not isinstance(noise, int) or noise < 0
    ):
        raise ConfigError(f"pair_rule noise must be an int >= 0 or 'n_weights', got {noise!r}")

    def wrap(fn: RuleFn) -> PairRule:
        rule = PairRule(fn, name or fn.__name__, float(rate), pairing, noise, vectorize)
        if rule.name in (*BUILT_INS, "self_train"):
            raise ConfigError(
                f"rule name {rule.name!r} is a built-in operator; pass another name= to @pair_rule"
            )
        RULES[rule.name] = rule
        return rule

    return wrap


def get_rule(name: str) -> PairRule:
    """The registered rule ``name``; unknown names raise with a suggestion."""
    if name not in RULES:
        raise ConfigError(
            f"unknown rule `{name}`.{suggest(name, list(RULES))} Rules must be registered with "
            "@pair_rule before a soup uses them (import the module that defines it); "
            f"registered: {', '.join(sorted(RULES)) or 'none'}"
        )
    return RULES[name]


def _fail(rule: PairRule, what: str) -> InvalidRuleError:
    return InvalidRuleError(f"rule `{rule.name}` {what}")


def check_rule(
    rule: PairRule,
    spec: ParticleSpec,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str = "cpu",
    n_pairs: int = 4,
) -> None:
    """Validate a rule on random pairs; raise ``InvalidRuleError`` naming the problem.

    Checks, in order: it runs, returns a tensor [P] of the input dtype, is finite on finite
    input, leaves its inputs unchanged, gives the same output twice, and its batched form
    (vmap, or the loop fallback) equals the loop over pairs.
    """
    p, k = spec.n_weights, rule.noise_size(spec)
    gen = torch.Generator(device=device).manual_seed(0)
    actors = spec.init(n_pairs, gen, dtype=dtype, device=device)
    targets = spec.init(n_pairs, gen, dtype=dtype, device=device)
    noise = torch.randn(n_pairs, k, generator=gen, dtype=dtype, device=device)
    a, t, z = actors[0].clone(), targets[0].clone(), noise[0].clone()
    try:
        out = rule.fn(a, t, z)
    except Exception as exc:
        raise _fail(rule, f"raised {type(exc).__name__}: {exc}") from None
    if not isinstance(out, Tensor) or out.shape != (p,) or out.dtype != dtype:
        got = f"{list(out.shape)} {out.dtype}" if isinstance(out, Tensor) else type(out).__name__
        raise _fail(
            rule, f"must return a tensor of shape [{p}] and dtype {dtype} (one particle), got {got}"
        )
    if not bool(torch.isfinite(out).all()):
        raise _fail(rule, "returned NaN or infinite weights on finite input; guard the arithmetic")
    if not (torch.equal(a, actors[0]) and torch.equal(t, targets[0]) and torch.equal(z, noise[0])):
        raise _fail(
            rule, "modified its input tensors in place; return a new tensor instead (no `+=`)"
        )
    if not torch.equal(rule.fn(a, t, z), out):
        raise _fail(
            rule,
            "is nondeterministic (two calls on the same pair differ); take randomness only from "
            "the `noise` argument (declare its size with @pair_rule(noise=K))",
        )
    loop = torch.stack([rule.fn(actors[i], targets[i], noise[i]) for i in range(n_pairs)])
    try:
        batched = rule(actors, targets, noise)
    except Exception as exc:
        raise _fail(
            rule,
            f"cannot be batched with torch.func.vmap ({type(exc).__name__}: {exc}); make it "
            "vmap-friendly (no .item(), no data-dependent control flow) or pass "
            "vectorize=False to @pair_rule to use the slower loop fallback",
        ) from None
    if batched.shape != loop.shape or not torch.allclose(batched, loop, rtol=1e-5, atol=1e-6):
        raise _fail(
            rule, "gives different results batched and in a loop; pass vectorize=False to "
            "@pair_rule to use the loop fallback",
        )  # fmt: skip


def checked(rule: PairRule, spec: ParticleSpec, dtype: torch.dtype, device: torch.device) -> None:
    """Run ``check_rule`` once per (rule, spec, dtype) in this process."""
    key = (id(rule.fn), hash(spec), str(dtype))
    if key not in _CHECKED:
        check_rule(rule, spec, dtype, device)
        _CHECKED.add(key)


__all__ = ["RULES", "PairRule", "check_rule", "checked", "get_rule", "pair_rule"]
