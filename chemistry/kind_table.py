"""The whitelist of built-in model kinds: a plain table, kept apart from the mechanism.

Each entry names where a kind's model and config classes live, as ``"module:Class"`` strings
written here in code, and the kind's tiny test set (``KindTest``: a registered scenario and the
overrides that make it run in seconds). Nothing is imported until a kind is first used
(``model_kinds.get_kind``), so ``model_kinds.py`` imports no kind module and no kind imports
this table. A name read from a file only ever selects an entry of this table.

Adding a kind: its model (``chemistry/<kind>.py``), its file vocabulary
(``particles/runformat/<kind>.py``), one ``register_kind`` line here and its scenarios
(``scenarios/<family>.py``); ``tests/test_every_kind.py`` then tests it (``docs/extending.md``).
"""

from __future__ import annotations

from .model_kinds import KindTest, register_kind

register_kind(
    "soup",
    config="neurosoup.chemistry.config:SoupConfig",
    model="neurosoup.chemistry.soup:Soup",
    test=KindTest("soup/journal-v1", {"n_particles": 6, "self_train.steps": 2}),
)
register_kind(
    "organism",
    config="neurosoup.chemistry.organism_config:OrganismConfig",
    model="neurosoup.chemistry.organism_training:OrganismTraining",
    test=KindTest("organism/float-addition-v1", {"n_batches": 3, "checkpoint_every": 2}),
)
register_kind(
    "quine",
    config="neurosoup.chemistry.quine_config:QuineConfig",
    model="neurosoup.chemistry.quine_training:QuineTraining",
    test=KindTest("quine/works-v1", {"hidden": 8, "checkpoint_every": 2, "snapshot_every": 1}),
)
register_kind(
    "evolution",
    config="neurosoup.chemistry.evolution_config:EvolutionConfig",
    model="neurosoup.chemistry.evolution:Evolution",
    test=KindTest("serann/smoke-v1", {"population": 2, "train_steps": 1, "batch": 8}, steps=1),
)
