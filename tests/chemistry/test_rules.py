"""Custom pair rules: the example rule ≡ a loop; each check_rule failure kind is named."""

from __future__ import annotations

import pytest
import torch

import neurosoup.scenarios  # noqa: F401 - registers the example rule
from neurosoup.chemistry.catalogue import RULE_CODE_BASE
from neurosoup.chemistry.config import SoupConfig
from neurosoup.chemistry.rules import check_rule, get_rule, pair_rule
from neurosoup.chemistry.soup import Soup
from neurosoup.particles import ConfigError, InvalidRuleError, ParticleSpec, apply_weightwise
from tests.reference.particles import ref_apply
from tests.reference.soup import ref_step

SPEC = ParticleSpec()


def test_example_rule_batched_equals_loop() -> None:
    rule = get_rule("noisy_attack")
    gen = torch.Generator().manual_seed(0)
    a, t = SPEC.init(16, gen), SPEC.init(16, gen)
    z = torch.randn(16, SPEC.n_weights, generator=gen)
    batched = rule(a, t, z)
    loop = torch.stack([ref_apply(SPEC, a[i], t[i]) + 1e-3 * z[i] for i in range(16)])
    torch.testing.assert_close(batched, loop, rtol=1e-5, atol=1e-6)
    assert not torch.equal(batched, apply_weightwise(SPEC, a, t)), "the noise must show"


def test_rule_in_soup_equals_reference_tick() -> None:
    rule = get_rule("noisy_attack")
    cfg = SoupConfig(n_particles=8, dtype="float64", train_steps=1, rules=("noisy_attack",))
    soup = Soup(cfg, seed=4)
    slow = soup.store.clone()
    gen = torch.Generator()
    gen.set_state(soup.rngs.torch.get_state())
    hits = 0
    for _ in range(12):
        soup.step()
        events, _ = ref_step(slow, cfg, gen, soup.steps, set(), rules=(rule,))
        hits += sum(1 for e in events if e[0] == RULE_CODE_BASE)
        torch.testing.assert_close(soup.store.weights, slow.weights, rtol=1e-9, atol=1e-11)
        assert torch.equal(soup.rngs.torch.get_state(), gen.get_state())
    assert hits > 0, "in 12 ticks at rate 0.1 the rule must fire at least once for this seed"


def _broken(name, **kw):
    return lambda fn: pair_rule(0.1, name=f"test_{name}", **kw)(fn)


BROKEN = {
    "shape": (_broken("shape")(lambda a, t, z: t[:3]), "must return a tensor of shape [14]"),
    "dtype": (_broken("dtype")(lambda a, t, z: t.double()), "dtype torch.float32"),
    "nan": (_broken("nan")(lambda a, t, z: t * float("nan")), "NaN"),
    "mutates": (_broken("mutates")(lambda a, t, z: t.mul_(2.0)), "modified its input"),
    "random": (_broken("random")(lambda a, t, z: t + torch.rand(t.shape)), "nondeterministic"),
    "not_vmappable": (
        _broken("not_vmappable")(lambda a, t, z: t * 2 if float(a.sum()) > -1e9 else t),
        "vectorize=False",
    ),
    "raises": (_broken("raises")(lambda a, t, z: t @ t @ t), "raised RuntimeError"),
}


@pytest.mark.parametrize("kind", sorted(BROKEN))
def test_check_rule_names_each_failure(kind: str) -> None:
    rule, message = BROKEN[kind]
    with pytest.raises(InvalidRuleError, match=message.replace("[", r"\[").replace("]", r"\]")):
        check_rule(rule, SPEC)


def test_loop_fallback_accepts_non_vmappable_rule() -> None:
    rule = pair_rule(0.1, name="test_fallback", vectorize=False)(
        lambda a, t, z: t * 2 if float(a.sum()) > -1e9 else t
    )
    check_rule(rule, SPEC)  # no error with the loop fallback
    a = SPEC.init(3, torch.Generator().manual_seed(1))
    assert torch.equal(rule(a, a, torch.zeros(3, 0)), 2 * a)


def test_unknown_rule_and_bad_decorator_arguments() -> None:
    with pytest.raises(ConfigError, match="Did you mean `noisy_attack`"):
        Soup(SoupConfig(rules=("noisy_atack",)))
    with pytest.raises(ConfigError, match=r"\[0, 1\]"):
        pair_rule(1.5)
    with pytest.raises(ConfigError, match="pairing"):
        pair_rule(0.1, pairing="all")
    with pytest.raises(ConfigError, match="is a built-in operator"):
        pair_rule(0.1, name="attack")(lambda a, t, z: t)


def test_rule_params_live_in_the_config_and_resume_refuses_changed_code(tmp_path) -> None:
    from neurosoup.chemistry.recorder import record, resume

    @pair_rule(0.5, name="test_drift", params={"factor": 0.5})
    def drift(actor, target, noise, *, factor):
        return target * factor

    cfg = SoupConfig(n_particles=4, train_steps=0, steps=4, operators=[
        {"name": "test_drift", "rate": 1.0, "pairing": "per_actor", "factor": 0.25}])
    soup = Soup(cfg, seed=1)
    before = soup.store.weights.clone()
    soup.step()
    ev = soup.last_events[0]
    hit = [int(s) for s in range(4) if int(soup.store.uid[s]) in ev.changed[ev.applied].tolist()]
    torch.testing.assert_close(soup.store.weights[hit], before[hit] * 0.25)  # config, not default
    path = tmp_path / "drift.h5"
    record(Soup(cfg, seed=1), path, 2, progress=False)

    @pair_rule(0.5, name="test_drift", params={"factor": 0.5})
    def drift2(actor, target, noise, *, factor):  # same name, other code
        return target * factor * 1.0

    with pytest.raises(ConfigError, match="rule `test_drift` changed since the run started"):
        resume(path, 1, progress=False)
    with pytest.raises(ConfigError, match=r"rule parameter|must be a float"):
        SoupConfig(operators=[{"name": "test_drift", "rate": 0.1, "factor": "big"}])
