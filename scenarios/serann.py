"""Registered SeRANN evolutions (``science/serann.md``): registrations only."""

from __future__ import annotations

from .registry import register

register(
    "serann/evolution-v1",
    kind="evolution",
    config={"population": 64, "founders": "ancestor", "task": "digits", "steps": 200},
    description="SeRANN at CPU scale: 64 individuals from the calibrated ancestor, 8x8 digits, "
    "200 generations",
    reference="paper (N = 1000, 6000 generations, MNIST): ancestor 2-7 mutations per "
    "replication, mutation rate falls 175-fold, mean fitness rises, anti-mutators (lower α) win",
)
register(
    "serann/founders-v1",
    kind="evolution",
    config={"population": 64, "founders": "corpus", "task": "digits", "steps": 200},
    description="SeRANN from 64 distinct held-out corpus genotypes whose decoded program is valid",
    reference="no paper figure: a diverse start; selection among architectures, then mutators",
)
register(
    "serann/shuffled-v1",
    kind="evolution",
    config={"population": 64, "founders": "ancestor", "task": "digits", "steps": 200,
            "mutation_model": "shuffled"},
    description="control of serann/evolution-v1: each copy keeps its learned number of wrong "
    "bits, at uniformly random sites (the copier's bias removed)",
    reference="no paper figure (issue 20): does the mutation rate still fall without the "
    "copier's directed errors?",
)
register(
    "serann/exogenous-v1",
    kind="evolution",
    config={"population": 64, "founders": "ancestor", "task": "digits", "steps": 200,
            "mutation_model": "exogenous"},
    description="control of serann/evolution-v1: exact copies, then Poisson(U) uniform flips, "
    "U = the founders' measured mutation rate (replication not heritable)",
    reference="no paper figure (issue 20): selection without a heritable mutation rate",
)
register(
    "serann/smoke-v1",
    kind="evolution",
    config={"population": 8, "steps": 3, "train_steps": 300, "lr": 3e-3, "batch": 64},
    description="tiny SeRANN run for CI: N = 8, 3 generations, 300 training steps",
)
