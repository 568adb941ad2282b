"""What a self-replicating particle network IS: pure, batched tensor math (no time, no I/O).

Map of the package:
    errors.py    NeurosoupError and its subclasses (ConfigError, ShapeError, …)
    network.py   ParticleSpec: layout of the flat weight vector, unpack, init; kinds
    particle_kinds.py  aggregating and recurrent particles (the 2019 paper's other kinds)
    encoding.py  encode_positions: the weightwise position table
    apply.py     apply_weightwise, self_apply, auxiliary application (batched)
    train.py     self_train_step(s), learn_from_step, train_pass, second_order_step (batched SGD)
    experiments.py  the 2019 comparison and second-order counts as pure functions
    classify.py  ParticleType, classify, replication_stats / replication_r2
    store.py     ParticleStore (struct of arrays, stable slots) and its Particle views
    runformat/   the run file's vocabulary, one module per kind (names, columns, labels); open_h5
    organism.py  OrganismNetwork (every edge a particle), OrganismType, re-substitution
    quine.py     QuineSpec, QuinePopulation: batched neural network quines, regeneration
    quine_train.py  per-member quine optimisers, epochs, alternation, auxiliary loss
    complexity.py  high-order entropy (H0 − zlib bits per byte) of weights or genotypes
    serann/      SeRANN genotypes, grammar, RiboAE and the safe program interpreter
"""

from .apply import apply_auxiliary, apply_weightwise, effective_vector, extracted_weight, self_apply
from .classify import (
    TYPE_LABELS,
    ParticleType,
    classify,
    classify_with_stats,
    collapsed,
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
from .network import KINDS as PARTICLE_KINDS
from .network import MIN_BLOCK_ROWS, ParticleSpec, row_blocks
from .organism import ORGANISM_TYPE_LABELS, OrganismMLP, OrganismNetwork, OrganismType
from .particle_kinds import aggregate, deaggregate
from .quine import QuinePopulation, QuineSpec, trivial_mask
from .quine_train import OPTIMISERS as QUINE_OPTIMISERS
from .quine_train import EpochDraws, QuineOptimiser, TaskData, draw_epoch, train_epoch
from .store import Particle, ParticleStore
from .train import (
    learn_from_step,
    second_order_step,
    self_train_step,
    self_train_steps,
    train_pass,
)

__all__ = [
    "MIN_BLOCK_ROWS",
    "ORGANISM_TYPE_LABELS",
    "PARTICLE_KINDS",
    "QUINE_OPTIMISERS",
    "TYPE_LABELS",
    "ConfigError",
    "DependencyNotInstalled",
    "EpochDraws",
    "InvalidRuleError",
    "NeurosoupError",
    "OrganismMLP",
    "OrganismNetwork",
    "OrganismType",
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
    "aggregate",
    "apply_auxiliary",
    "apply_weightwise",
    "classify",
    "classify_with_stats",
    "collapsed",
    "count_types",
    "deaggregate",
    "draw_epoch",
    "effective_vector",
    "encode_positions",
    "extracted_weight",
    "learn_from_step",
    "replication_r2",
    "replication_stats",
    "row_blocks",
    "second_order_step",
    "self_apply",
    "self_train_step",
    "self_train_steps",
    "train_epoch",
    "train_pass",
    "trivial_mask",
]
