"""How replicators INTERACT over time: the soup model, operators, rules and run files.

Map of the package:
    config.py      SoupConfig: frozen, validated, JSON round-trip; did-you-mean for keys
    rng.py         RunRng: one SeedSequence → Mesa's numpy rng + one torch.Generator
    pairing.py     draw actors/pairs (per_actor, single), third particles, uniform winners
    operators.py   batched attack, apply_to_other, learn_from, melt, merge, self_apply,
                   self_train, respawn, custom-rule attack; their draws
    observe.py     fused classification + replication statistics per tick
    rules.py       @pair_rule (vmap-lifted one-pair rules), check_rule, the rule registry
    soup.py        Soup(mesa.Model): the tick, bonds and organisms, DataCollector
    checkpoint.py  checkpoint files (atomic replace)
    quine_training.py  QuineConfig, QuineTraining: the `quine` kind (populations of quines)
    recorder.py    the HDF5 run file (docs/runfile.md): Recorder, record, resume, open_run
"""

from neurosoup.particles import ConfigError, InvalidRuleError, NeurosoupError, SnapshotError

from .config import SoupConfig
from .quine_training import QuineConfig, QuineTraining
from .recorder import Recorder, open_run, record, resume
from .rng import RunRng
from .rules import PairRule, check_rule, pair_rule
from .soup import Soup, observable_names

__all__ = [
    "ConfigError",
    "InvalidRuleError",
    "NeurosoupError",
    "PairRule",
    "QuineConfig",
    "QuineTraining",
    "Recorder",
    "RunRng",
    "SnapshotError",
    "Soup",
    "SoupConfig",
    "check_rule",
    "observable_names",
    "open_run",
    "pair_rule",
    "record",
    "resume",
]
