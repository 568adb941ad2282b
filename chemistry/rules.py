"""User interaction rules: operators of the catalogue written in a few lines of Python.

Three forms, each registered under a name that a schedule lists like a built-in operator:

* ``@pair_rule`` — ``(actor [P], target [P], noise [K]) → new target [P]``, lifted to the soup
  with ``torch.func.vmap`` (or a loop, ``vectorize=False``); attack semantics: the target
  changes, several actors on one target resolve to one uniform winner.
* ``@particle_rule`` — ``(particle [P], noise [K]) → new particle [P]``: the particle itself.
* ``@batch_rule`` — ``(tick: Tick, params) → Events | None`` for rules that need the whole
  store; it draws from ``tick.gen`` and writes through ``tick.store.update``.

A rule's parameters (``rate``, ``pairing`` and any ``params={...}`` it declares) are defaults:
the config sets them per scenario and the run file stores them. A function that declares a
``spec`` argument receives the soup's ``ParticleSpec``; declared params arrive as keywords.
All randomness arrives pre-drawn in ``noise`` (standard normal). The source digest of every
rule is stored in the run file; ``resume`` refuses a rule whose code changed.

    @pair_rule(rate=0.1, noise="n_weights", params={"scale": 1e-3})
    def noisy_attack(actor, target, noise, *, spec, scale):
        return apply_weightwise(spec, actor[None], target[None])[0] + scale * noise

``check_rule`` runs on a rule's first use and names each failure: wrong shape or dtype, NaN,
mutated input, nondeterminism, or a function ``vmap`` cannot batch (offering the loop fallback).
"""

from __future__ import annotations

import functools
import hashlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from neurosoup.particles import PARTICLE_KINDS, ConfigError, InvalidRuleError, ParticleSpec

from . import operators as ops
from .catalogue import (
    BUILT_INS,
    RULE_RANK,
    RULES,
    Operator,
    Outcome,
    Param,
    Tick,
    lookup,
    pairing,
    rate,
)
from .checks import PAIRINGS, type_name
from .pairing import draw_actors, draw_pairs

_CHECKED: set[tuple[int, int, str, str]] = set()


def source_digest(fn: Callable[..., Any]) -> str:
    """sha256 of a function's source text (of its bytecode when no source is available)."""
    try:
        text = inspect.getsource(fn).encode()
    except (OSError, TypeError):
        code = getattr(fn, "__code__", None)
        text = (code.co_code + repr(code.co_consts).encode()) if code else repr(fn).encode()
    return hashlib.sha256(text).hexdigest()[:16]


@dataclass(frozen=True)
class Rule:
    """A registered user rule (any form).

    Attributes:
        fn: the user's function.
        name: registry name (what a schedule lists).
        form: ``pair``, ``particle`` or ``batch``.
        rate, pairing: defaults of its ``rate`` and ``pairing`` parameters.
        noise: K, the noise length per event (``"n_weights"`` for K = P).
        vectorize: batch with ``vmap`` (True) or a loop over events (False, the fallback).
        params: the rule's own parameters and their defaults (numbers, strings, bools).
        kinds: the particle kinds the rule works on (None: every kind); a soup of another
            kind that lists it is refused when its config is built.
    """

    fn: Callable[..., Any]
    name: str
    form: str
    rate: float
    pairing: str = "per_actor"
    noise: int | str = 0
    vectorize: bool = True
    params: dict[str, Any] = field(default_factory=dict)
    kinds: tuple[str, ...] | None = None

    def noise_size(self, spec: ParticleSpec) -> int:
        """K for a given particle spec."""
        return spec.n_weights if self.noise == "n_weights" else int(self.noise)

    def bound(self, spec: ParticleSpec, params: dict[str, Any] | None = None) -> Callable:
        """The one-event function with ``spec`` and the rule's own params filled in."""
        own = {k: (params or self.params)[k] for k in self.params}
        if "spec" in inspect.signature(self.fn).parameters:
            own["spec"] = spec
        return functools.partial(self.fn, **own) if own else self.fn

    def batched(self, spec: ParticleSpec, params: dict[str, Any] | None = None) -> Callable:
        """The function over M events: ([M, P], …, [M, K]) → [M, P]."""
        one = self.bound(spec, params)

        def run(*args: Tensor) -> Tensor:
            if args[0].shape[0] == 0:
                return args[-2].clone()
            if self.vectorize:
                return torch.func.vmap(one)(*args)
            return torch.stack([one(*row) for row in zip(*args, strict=True)])

        return run

    def __call__(self, *args: Tensor) -> Tensor:
        """Apply the rule (default spec and params) to M events → [M, P].

        Pair rules take (actors, targets, noise), particle rules (particles, noise).
        """
        return self.batched(ParticleSpec())(*args)

    @property
    def digest(self) -> str:
        """Source digest of the rule's function (stored in the run file)."""
        return source_digest(self.fn)

    def operator(self) -> Operator:
        """The catalogue entry of this rule."""
        own = tuple(Param(k, v, _same_type(v), f"rule parameter, default {v!r}")
                    for k, v in self.params.items())  # fmt: skip
        if self.form == "batch":
            def run(t: Tick, p: dict[str, Any]) -> Outcome:
                return Outcome(self.fn(t, p))

            base: tuple[Param, ...] = (rate(self.rate),)
        elif self.form == "pair":
            def run(t: Tick, p: dict[str, Any]) -> Outcome:
                checked(self, t.spec, t.dtype, t.store.device)
                pairs = draw_pairs(t.alive, p["pairing"], p["rate"], t.gen)
                noise = _noise(len(pairs), self.noise_size(t.spec), t)
                return Outcome(ops.rule_attack(t.store, self.batched(t.spec, p), pairs, noise))

            base = (rate(self.rate), pairing(self.pairing))
        else:
            def run(t: Tick, p: dict[str, Any]) -> Outcome:
                checked(self, t.spec, t.dtype, t.store.device)
                actors = draw_actors(t.alive, p["pairing"], p["rate"], t.gen)
                noise = _noise(actors.shape[0], self.noise_size(t.spec), t)
                return Outcome(ops.rule_self(t.store, self.batched(t.spec, p), actors, noise))

            base = (rate(self.rate), pairing(self.pairing))
        return Operator(self.name, None, RULE_RANK, (*base, *own), run, digest=self.digest,
                        doc=f"user {self.form} rule", kinds=self.kinds)  # fmt: skip


#: kept for scripts written against the first rule API
PairRule = Rule


def _noise(m: int, k: int, t: Tick) -> Tensor:
    return torch.randn(m, k, generator=t.gen, device=t.gen.device, dtype=t.dtype)


def _same_type(default: Any) -> Callable[[str, Any], None]:
    def check(name: str, value: Any) -> None:
        number = (int, float)
        ok = (isinstance(value, bool) == isinstance(default, bool)) and (
            isinstance(value, number) if isinstance(default, number) else
            isinstance(value, type(default))
        )  # fmt: skip
        if not ok:
            raise ConfigError(
                f"{name} must be a {type_name(default)} like its default {default!r}, got "
                f"{value!r} ({type_name(value)})"
            )

    return check


def _register(
    form: str,
    rate: float,
    pairing: str,
    noise: int | str,
    name: str | None,
    vectorize: bool,
    params: dict[str, Any] | None,
    kinds: tuple[str, ...] | list[str] | None = None,
) -> Callable[[Callable[..., Any]], Rule]:
    if kinds is not None:
        kinds = (kinds,) if isinstance(kinds, str) else tuple(kinds)
        bad = [k for k in kinds if k not in PARTICLE_KINDS]
        if not kinds or bad:
            raise ConfigError(
                f"{form}_rule kinds must name particle kinds among {PARTICLE_KINDS}, got {kinds!r}"
            )
    if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 1:
        raise ConfigError(f"{form}_rule rate must be a probability in [0, 1], got {rate!r}")
    if pairing not in PAIRINGS:
        raise ConfigError(f"{form}_rule pairing must be one of {PAIRINGS}, got {pairing!r}")
    if noise != "n_weights" and (
        isinstance(noise, bool) or not isinstance(noise, int) or noise < 0
    ):
        raise ConfigError(f"{form}_rule noise must be an int >= 0 or 'n_weights', got {noise!r}")
    params = dict(params or {})
    for key, value in params.items():
        if key in ("rate", "pairing", "spec") or not isinstance(value, bool | int | float | str):
            raise ConfigError(
                f"{form}_rule params: `{key}` must not be rate/pairing/spec and its default "
                f"must be a number, bool or string, got {value!r}"
            )

    def wrap(fn: Callable[..., Any]) -> Rule:
        rule = Rule(fn, name or fn.__name__, form, float(rate), pairing, noise, vectorize,
                    params, kinds)  # fmt: skip
        if rule.name in BUILT_INS:
            raise ConfigError(
                f"rule name {rule.name!r} is a built-in operator; pass another name= to "
                f"@{form}_rule"
            )
        RULES[rule.name] = rule.operator()
        _RULE_OBJECTS[rule.name] = rule
        return rule

    return wrap


_RULE_OBJECTS: dict[str, Rule] = {}


def pair_rule(
    rate: float = 0.1,
    *,
    pairing: str = "per_actor",
    noise: int | str = 0,
    name: str | None = None,
    vectorize: bool = True,
    params: dict[str, Any] | None = None,
    kinds: tuple[str, ...] | None = None,
) -> Callable[[Callable[..., Any]], Rule]:
    """Decorator: register a one-pair rule (attack semantics) under ``name``.

    ``kinds`` restricts it to some particle kinds (default: every kind).
    """
    return _register("pair", rate, pairing, noise, name, vectorize, params, kinds)


def particle_rule(
    rate: float = 0.1,
    *,
    pairing: str = "per_actor",
    noise: int | str = 0,
    name: str | None = None,
    vectorize: bool = True,
    params: dict[str, Any] | None = None,
    kinds: tuple[str, ...] | None = None,
) -> Callable[[Callable[..., Any]], Rule]:
    """Decorator: register a one-particle rule ``(particle, noise) → particle``."""
    return _register("particle", rate, pairing, noise, name, vectorize, params, kinds)


def batch_rule(
    rate: float = 1.0,
    *,
    name: str | None = None,
    params: dict[str, Any] | None = None,
    kinds: tuple[str, ...] | None = None,
) -> Callable[[Callable[..., Any]], Rule]:
    """Decorator: register a rule over the whole store, ``fn(tick, params) → Events | None``.

    It takes every random number from ``tick.gen`` and writes through ``tick.store.update``;
    ``rate`` is a parameter it may use as it likes.
    """
    return _register("batch", rate, "per_actor", 0, name, True, params, kinds)


def get_rule(name: str) -> Rule:
    """The registered rule ``name``; unknown names raise with a suggestion."""
    if name not in _RULE_OBJECTS:
        lookup(name)  # raises the did-you-mean
        raise ConfigError(f"`{name}` is a built-in operator, not a user rule")
    return _RULE_OBJECTS[name]


def _fail(rule: Rule, what: str) -> InvalidRuleError:
    return InvalidRuleError(f"rule `{rule.name}` {what}")


def check_rule(
    rule: Rule,
    spec: ParticleSpec,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str = "cpu",
    n_pairs: int = 4,
) -> None:
    """Validate a pair or particle rule on random events; raise ``InvalidRuleError``.

    Checks, in order: it runs, returns a tensor [P] of the input dtype, is finite on finite
    input, leaves its inputs unchanged, gives the same output twice, and its batched form
    (vmap, or the loop fallback) equals the loop over events. Batch rules are not checked.
    """
    if rule.form == "batch":
        return
    p, k = spec.n_weights, rule.noise_size(spec)
    gen = torch.Generator(device=device).manual_seed(0)
    actors = spec.init(n_pairs, gen, dtype=dtype, device=device)
    targets = spec.init(n_pairs, gen, dtype=dtype, device=device)
    noise = torch.randn(n_pairs, k, generator=gen, dtype=dtype, device=device)
    rows = (actors, targets, noise) if rule.form == "pair" else (actors, noise)
    one = rule.bound(spec)
    first = tuple(x[0].clone() for x in rows)
    try:
        out = one(*first)
    except Exception as exc:
        raise _fail(rule, f"raised {type(exc).__name__}: {exc}") from None
    if not isinstance(out, Tensor) or out.shape != (p,) or out.dtype != dtype:
        got = f"{list(out.shape)} {out.dtype}" if isinstance(out, Tensor) else type(out).__name__
        raise _fail(
            rule, f"must return a tensor of shape [{p}] and dtype {dtype} (one particle), got {got}"
        )
    if not bool(torch.isfinite(out).all()):
        raise _fail(rule, "returned NaN or infinite weights on finite input; guard the arithmetic")
    if not all(torch.equal(a, x[0]) for a, x in zip(first, rows, strict=True)):
        raise _fail(
            rule, "modified its input tensors in place; return a new tensor instead (no `+=`)"
        )
    if not torch.equal(one(*first), out):
        raise _fail(
            rule,
            "is nondeterministic (two calls on the same pair differ); take randomness only from "
            "the `noise` argument (declare its size with @pair_rule(noise=K))",
        )
    loop = torch.stack([one(*(x[i] for x in rows)) for i in range(n_pairs)])
    try:
        batched = rule.batched(spec)(*rows)
    except Exception as exc:
        raise _fail(
            rule,
            f"cannot be batched with torch.func.vmap ({type(exc).__name__}: {exc}); make it "
            "vmap-friendly (no .item(), no data-dependent control flow) or pass "
            "vectorize=False to the decorator to use the slower loop fallback",
        ) from None
    if batched.shape != loop.shape or not torch.allclose(batched, loop, rtol=1e-5, atol=1e-6):
        raise _fail(
            rule, "gives different results batched and in a loop; pass vectorize=False to "
            "the decorator to use the loop fallback",
        )  # fmt: skip


def checked(rule: Rule, spec: ParticleSpec, dtype: torch.dtype, device: torch.device) -> None:
    """Run ``check_rule`` once per (rule, spec, dtype, device type) in this process."""
    key = (id(rule.fn), hash(spec), str(dtype), torch.device(device).type)
    if key not in _CHECKED:
        check_rule(rule, spec, dtype, device)
        _CHECKED.add(key)


__all__ = [
    "PairRule",
    "Rule",
    "batch_rule",
    "check_rule",
    "checked",
    "get_rule",
    "pair_rule",
    "particle_rule",
    "source_digest",
]
