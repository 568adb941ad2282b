"""Registered soups (``science/soup.md`` §4 and §7): registrations only."""

from __future__ import annotations

from .registry import register

_ALIFE2019 = {
    "particle": {"encoding": "alife2019", "weight_init": "xavier"},
    "epsilon": 1e-4,
    "strict": True,
    "train_mode": "epoch",
    "lr": 0.01,
}

register(
    "soup/self-train-v1",
    config={"n_particles": 20, "steps": 100, "train_steps": 20, "lr": 0.04},
    description="20 particles that only self-train (20 SGD steps per tick, lr 0.04)",
)
register(
    "soup/self-application-v1",
    config={"n_particles": 20, "steps": 100, "train_steps": 0, "self_apply_rate": 1.0},
    description="20 particles that apply themselves to themselves every tick, no training",
)
_JOURNAL = {
    "n_particles": 20,
    "steps": 100,
    "attack_rate": 0.1,
    "attack_pairing": "single",
    "train_steps": 20,
    "lr": 0.04,
}

register(
    "soup/journal-v1",
    config=_JOURNAL,
    description="2022 journal soup: at most one attack per tick (10 %), 20 self-train steps",
    reference="journal-era code: 18/20 fixpoints, 2 other (one run); independent anchor for "
    "our global/Xavier defaults: 18.1 fixpoints, 1.8 other, 0.04 divergent (mean of 25 soups)",
    reference_counts={
        "divergent": 0.04,
        "zero": 0.0,
        "fixpoint": 18.1,
        "second_order": 0.0,
        "other": 1.8,
    },
)
register(
    "soup/alife2019-v1",
    config={
        **_ALIFE2019,
        "n_particles": 20,
        "steps": 100,
        "attack_rate": 0.1,
        "attack_pairing": "per_actor",
        "train_steps": 30,
        "respawn_divergent": True,
        "respawn_zero": True,
    },
    description="2019 ALIFE soup: attack 10 % per particle, 30 training passes, respawn",
    reference="2019 code: 13 fixpoints, 7 other (one logged run)",
    reference_counts={
        "divergent": 0.0,
        "zero": 0.0,
        "fixpoint": 13.0,
        "second_order": 0.0,
        "other": 7.0,
    },
)
register(
    "soup/learn-from-v1",
    config={
        **_ALIFE2019,
        "n_particles": 10,
        "steps": 100,
        "train_steps": 0,
        "learn_from_rate": 0.1,
        "learn_from_pairing": "per_actor",
        "learn_from_severity": 50,
    },
    description="2019 learn-from soup: 10 particles, learn_from 10 % with 50 passes, no training",
    reference="2019 code, severity 50: 9.1 non-zero fixpoints of 10, 0 zero (mean of 10 soups)",
    reference_counts={
        "divergent": 0.0,
        "zero": 0.0,
        "fixpoint": 9.1,
        "second_order": 0.0,
        "other": 0.9,
    },
)
register(
    "soup/merge-v1",
    config={
        **_JOURNAL,
        "merge_rate": 0.01,
        "merge_pairing": "per_actor",
    },
    description="journal soup whose particles bond (merge 1 % per particle); organisms form",
)
register(
    "soup/noisy-attack-v1",
    config={
        "n_particles": 20,
        "steps": 100,
        "train_steps": 20,
        "lr": 0.04,
        "rules": ["noisy_attack"],
    },
    description="journal soup where attacks add N(0, 1e-3²) noise (user rule example)",
)
