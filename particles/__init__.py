"""What a self-replicating particle network IS: pure, batched tensor math (no time, no I/O).

Map of the package:
    errors.py    NeurosoupError and its subclasses (ConfigError, ShapeError, …)
    network.py   ParticleSpec: layout of the flat weight vector, unpack, init
    encoding.py  encode_positions: the weightwise position table
    apply.py     apply_weightwise, self_apply, auxiliary application (batched)
    train.py     self_train_step, learn_from_step, train_pass (batched SGD with momentum)
    classify.py  ParticleType, classify, replication_stats / replication_r2
    store.py     ParticleStore (struct of arrays, stable slots) and its Particle views
    quine.py     QuineSpec, QuinePopulation: batched neural network quines, regeneration
    quine_train.py  per-member quine optimisers, epochs, alternation, auxiliary loss
    serann/      SeRANN genotypes, grammar, RiboAE and the safe program interpreter
"""

from .apply import apply_auxiliary, apply_weightwise, effective_vector, extracted_weight, self_apply
from .classify import (
    TYPE_LABELS,
    ParticleType,
    classify,
    classify_with_stats,
    count_types,
    replication_r2,
    replication_stats,
)
from .encoding import encode_positions
from .errors import (
    ConfigError,
    DependencyNotInstalled,
    InvalidRuleError,
    NeurosoupError,
    ShapeError,
    SnapshotError,
    UnknownScenario,
)
from .network import ParticleSpec
from .quine import QuinePopulation, QuineSpec, trivial_mask
from .quine_train import OPTIMISERS as QUINE_OPTIMISERS
from .quine_train import EpochDraws, QuineOptimiser, TaskData, draw_epoch, train_epoch
from .store import Particle, ParticleStore
from .train import learn_from_step, self_train_step, train_pass

__all__ = [
    "QUINE_OPTIMISERS",
    "TYPE_LABELS",
    "ConfigError",
    "DependencyNotInstalled",
    "EpochDraws",
    "InvalidRuleError",
    "NeurosoupError",
    "Particle",
    "ParticleSpec",
    "ParticleStore",
    "ParticleType",
    "QuineOptimiser",
    "QuinePopulation",
    "QuineSpec",
    "ShapeError",
    "SnapshotError",
    "TaskData",
    "UnknownScenario",
    "apply_auxiliary",
    "apply_weightwise",
    "classify",
    "classify_with_stats",
    "count_types",
    "draw_epoch",
    "effective_vector",
    "encode_positions",
    "extracted_weight",
    "learn_from_step",
    "replication_r2",
    "replication_stats",
    "self_apply",
    "self_train_step",
    "train_epoch",
    "train_pass",
    "trivial_mask",
]
