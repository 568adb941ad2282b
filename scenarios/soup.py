"""Registered soups (``science/soup.md`` §4 and §7): registrations only.

Each soup lists its operator schedule, in tick order, with the parameters that differ from
the catalogue's defaults (``neurosoup show ID`` prints every resolved parameter).
"""

from __future__ import annotations

from .examples import noisy_attack as _noisy_attack  # noqa: F401 - the rule noisy-attack-v1 runs
from .registry import register

_ALIFE2019 = {
    "particle": {"encoding": "alife2019", "weight_init": "xavier"},
    "epsilon": 1e-4,
    "strict": True,
    "train_mode": "epoch",
    "lr": 0.01,
}
_COUNTS = ("divergent", "zero", "fixpoint", "second_order", "other")


def _counts(*values: float) -> dict[str, float]:
    return dict(zip(_COUNTS, values, strict=True))


def _train(steps: int) -> dict[str, object]:
    return {"name": "self_train", "steps": steps}


register(
    "soup/self-train-v1",
    config={"n_particles": 20, "steps": 100, "lr": 0.04, "operators": [_train(20)]},
    description="20 particles that only self-train (20 SGD steps per tick, lr 0.04)",
)
register(
    "soup/self-application-v1",
    config={"n_particles": 20, "steps": 100,
            "operators": [{"name": "self_apply", "rate": 1.0}]},
    description="20 particles that apply themselves to themselves every tick, no training",
)
_JOURNAL = {
    "n_particles": 20,
    "steps": 100,
    "lr": 0.04,
    "operators": [{"name": "attack", "rate": 0.1, "pairing": "single"}, _train(20)],
}

register(
    "soup/journal-v1",
    config=_JOURNAL,
    description="2022 journal soup: at most one attack per tick (10 %), 20 self-train steps",
    reference="journal-era code: 18/20 fixpoints, 2 other (one run); independent anchor for "
    "our global/Xavier defaults: 18.1 fixpoints, 1.8 other, 0.04 divergent (mean of 25 soups)",
    reference_values=_counts(0.04, 0.0, 18.1, 0.0, 1.8),
)
register(
    "soup/alife2019-v1",
    config={
        **_ALIFE2019,
        "n_particles": 20,
        "steps": 100,
        "operators": [
            {"name": "attack", "rate": 0.1, "pairing": "per_actor"},
            _train(30),
            {"name": "respawn", "divergent": True, "zero": True},
        ],
    },
    description="2019 ALIFE soup: attack 10 % per particle, 30 training passes, respawn",
    reference="2019 code: 13 fixpoints, 7 other (one logged run)",
    reference_values=_counts(0.0, 0.0, 13.0, 0.0, 7.0),
)
register(
    "soup/learn-from-v1",
    config={
        **_ALIFE2019,
        "n_particles": 10,
        "steps": 100,
        "operators": [
            {"name": "learn_from", "rate": 0.1, "pairing": "per_actor", "severity": 50},
        ],
    },
    description="2019 learn-from soup: 10 particles, learn_from 10 % with 50 passes, no training",
    reference="2019 code, severity 50: 9.1 non-zero fixpoints of 10, 0 zero (mean of 10 soups)",
    reference_values=_counts(0.0, 0.0, 9.1, 0.0, 0.9),
)
register(
    "soup/merge-v1",
    config={
        **_JOURNAL,
        "operators": [
            {"name": "attack", "rate": 0.1, "pairing": "single"},
            {"name": "merge", "rate": 0.01, "pairing": "per_actor"},
            _train(20),
        ],
    },
    description="journal soup whose particles bond (merge 1 % per particle); organisms form",
)
register(
    "soup/organism-growth-v1",
    config={
        **_JOURNAL,
        "particle": {"n_inputs": 5, "hidden": 3},  # the ON particle: PN 5-3-3-1, 27 weights
        "n_particles": 72,
        "steps": 200,
        "checkpoint_every": 25,
        "operators": [
            {"name": "attack", "rate": 0.1, "pairing": "single"},
            {"name": "grow", "rate": 0.1, "found_rate": 0.001, "shape": [2, 3, 3, 1]},
            _train(10),
        ],
    },
    description="beyond the papers: 72 ON particles (5-3-3-1) grow organisms shaped as the "
    "2-3-3-1 addition ON: a member recruits a free particle (10 %) into a position adjacent to "
    "its own (bond role: layer l to l + 1), a free particle founds one (0.1 %), at most one "
    "particle per position (18); journal attack, 10 self-train steps (docs/growth.md)",
)
register(
    "soup/noisy-attack-v1",
    config={
        "n_particles": 20,
        "steps": 100,
        "lr": 0.04,
        "operators": [{"name": "noisy_attack", "rate": 0.1, "pairing": "single"}, _train(20)],
    },
    description="journal soup where attacks add N(0, 1e-3²) noise (user rule example)",
)

#: melt probability of the journal melting soup. science/soup.md §4 names it p_melt without a
#: value (the journal code takes it as a required argument, in percent): we use the attack's 10 %.
MELT_RATE = 0.1

register(
    "soup/melting-v1",
    config={
        **_JOURNAL,
        "operators": [
            {"name": "attack", "rate": 0.1, "pairing": "single"},
            {"name": "melt", "rate": MELT_RATE, "pairing": "single", "mode": "offspring"},
            _train(20),
        ],
    },
    description="journal melting soup: attack single(0.1), melt single(0.1) as offspring "
    "replacing a third particle, 20 self-train steps",
    reference="no published figure; the journal soup without melt: anchor 18.1 fixpoints of 20",
)
register(
    "soup/alife2019-demo-v1",
    config={
        **_ALIFE2019,
        "n_particles": 100,
        "steps": 100,
        "operators": [
            {"name": "attack", "rate": 0.1, "pairing": "per_actor"},
            {"name": "learn_from", "rate": 0.1, "pairing": "per_actor", "severity": 1},
            _train(20),
            {"name": "respawn", "divergent": True, "zero": True},
        ],
    },
    description="2019 code's demo soup: N 100, attack and learn_from 10 %, 20 training passes, "
    "respawn divergent and zero",
)
register(
    "soup/second-order-v1",
    config={
        "particle": {"encoding": "per_layer", "weight_init": "torch"},
        "n_particles": 20,
        "steps": 50,
        "lr": 0.04,
        "operators": [{"name": "second_order_train", "steps": 20}],
    },
    description="20 journal-era particles that only train toward a 2-cycle (second-order "
    "replicators): 50 ticks × 20 SGD steps, lr 0.04",
    reference="journal-era code, 20 nets × 1,000 steps, seeds 0-2: 14, 16, 14 second-order, "
    "the rest other",
    reference_values=_counts(0.0, 0.0, 0.0, 14.7, 5.3),
)
