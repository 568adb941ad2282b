"""Model kinds: the protocol every runnable model implements, and the whitelist of kinds.

A *kind* is a class of model the run machinery drives (DESIGN.md §1b): the soup, organism
networks, SeRANN evolution and quines. The registry, ``make``, the CLI, TOML files, the
recorder, resume and the analysis dispatch are written once against ``RunnableModel``; a new
kind is one ``register_kind`` entry in code — never a name imported from a file. This module is
the mechanism and imports no kind: the built-in kinds are listed, as ``"module:Class"``
strings, in the table ``kind_table.py`` (Gymnasium keeps ``registration.py`` apart from
``envs/__init__.py`` the same way), and each is imported on first use.

A model implements (see ``docs/extending.md``):

* ``kind`` (class attribute), ``unit`` (what one step is: tick, epoch, generation);
* ``__init__(config, seed=0, device=None, *, scenario=None)``; attributes ``config`` (with
  ``to_dict``/``from_dict`` and ``steps``, ``snapshot_every``, ``checkpoint_every``), ``seed``,
  ``device``, ``scenario`` and Mesa's ``steps``;
* ``step()`` — one model step; ``observables`` — the scalars (or fixed-shape arrays) of the
  current step, ``{}`` when a step has nothing to record;
* ``layout()`` — the ``Layout`` of its run file; ``step_records()`` / ``snapshot()`` — the
  rows and arrays of the current step (see ``chemistry/recorder.py``);
* ``state()`` / ``restore(state)`` — nested dicts of numpy arrays and plain scalars;
* ``result()`` — the final figures printed after ``neurosoup run`` (name → number);
* ``memory_need(config)`` (classmethod) — the bytes the model will allocate at least and the
  settings that drive them; a model that cannot fit the device is refused before it starts;
* optionally ``static_arrays()`` — arrays written once with step 0 (a quine's projection).
  Arrays may be keyed by series path or by the leaf name of one series (``weights``).
* optionally ``uses_executor = True`` and ``map_work(fn, items)`` inside ``step()`` for the
  independent pieces of one step (a SeRANN generation's architecture groups): they then run
  on the executor of ``neurosoup run --executor local|dask`` (``chemistry/executors.py``).

``ModelBase`` gives every kind the same ``run`` (tqdm bar, thread policy), tick listeners (the
recorder subscribes to them) and the Mesa conventions (``seed``, ``rng``, ``steps``, ``running``).
"""

from __future__ import annotations

import difflib
import importlib
import sys
from collections.abc import Callable, Iterable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, runtime_checkable

import mesa
import numpy as np
import torch
from tqdm.auto import tqdm

from neurosoup.particles import ConfigError

from .executors import map_ordered
from .memory import check_memory
from .rng import RunRng, check_seed, resolve_device

#: below this many elements per model step, one intra-op thread (measured for soups: tiny
#: tensors gain nothing from threads and extra threads contend with other processes).
THREADS_SIZE = 10_000


@runtime_checkable
class ModelConfig(Protocol):
    """What the run machinery needs of a kind's config."""

    steps: int
    snapshot_every: int
    checkpoint_every: int

    def to_dict(self) -> dict[str, Any]: ...  # noqa: D102
    def replace(self, **changes: Any) -> ModelConfig: ...  # noqa: D102

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelConfig: ...  # noqa: D102


@dataclass(frozen=True)
class Series:
    """A time series of the run file: ``<path>/step [T]`` and ``<path>/value [T, *frame]``.

    ``shape`` is the trailing shape of every frame: a frame is ``[*lead, *shape]``, where the
    leading axes (a store's capacity C, a population Q) are taken from the first frame and stay
    fixed — ``Series("particles/all/weights", float32, (P,))`` holds frames ``[C, P]``, and a
    whole fixed array is declared with its full shape. The recorder checks every frame against
    it (``run_blocks.check_shape``): a mismatch is a ``ShapeError`` naming the series.
    ``ragged`` series store a variable number of rows per step: ``<path>/count [T]`` and
    ``<path>/value [ΣR, *shape]`` (bonds, organism sizes, members of different sizes).
    ``cadence`` is ``step`` (every recorded step) or ``snapshot`` (every ``snapshot_every``).
    """

    path: str
    dtype: Any
    shape: tuple[int, ...] = ()
    ragged: bool = False
    cadence: str = "snapshot"


@dataclass(frozen=True)
class Table:
    """An append-only table of columns ``<path>/<column>``, one row per entry.

    ``columns`` are ``(name, dtype)`` (a 1-D column ``[R]``) or ``(name, dtype, shape)`` (a
    column ``[R, *shape]``, e.g. packed genotypes ``[R, 13]``). ``step`` names the column
    holding each row's step (resume keeps rows with step ≤ t). A model's ``step_records()``
    gives a table's rows as one 2-D array ``[R, n_columns]`` (one dtype, 1-D columns only) or
    as a dict ``{column: array [R, *shape]}``.
    """

    path: str
    columns: tuple[tuple[Any, ...], ...]
    step: str
    attrs: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Layout:
    """What a model writes: observables (name → shape), series, tables, root attributes."""

    observables: dict[str, tuple[int, ...]]
    series: tuple[Series, ...] = ()
    tables: tuple[Table, ...] = ()


@runtime_checkable
class RunnableModel(Protocol):
    """The protocol of a model kind (see the module docstring)."""

    kind: ClassVar[str]
    unit: ClassVar[str]
    config: Any
    seed: int
    steps: int
    observables: dict[str, Any]

    def step(self) -> None: ...  # noqa: D102
    def layout(self) -> Layout: ...  # noqa: D102
    def step_records(self) -> dict[str, Any]: ...  # noqa: D102
    def snapshot(self) -> dict[str, np.ndarray]: ...  # noqa: D102
    def state(self) -> dict[str, Any]: ...  # noqa: D102
    def restore(self, state: dict[str, Any]) -> None: ...  # noqa: D102
    def result(self) -> dict[str, float]: ...  # noqa: D102
    def provenance(self) -> dict[str, str]: ...  # noqa: D102


class ModelBase(mesa.Model):
    """Shared machinery of every kind: seeding, device, listeners, ``run``.

    Subclasses call ``super().__init__(config, seed, device, scenario=...)`` first; it sets
    ``config``, ``seed``, ``device``, ``scenario`` and ``rngs`` (one ``SeedSequence`` → Mesa's
    numpy ``rng`` and a ``torch.Generator`` on the device). After every ``step()`` the
    listeners (``subscribe``) are called with the model — the recorder is one.
    """

    kind: ClassVar[str] = ""
    unit: ClassVar[str] = "step"
    #: set by a model that cannot continue (a SeRANN extinction): ``run`` stops, one line says why
    stop_reason: str | None = None
    #: True when ``step()`` hands independent work to ``map_work`` (``--executor`` applies)
    uses_executor: ClassVar[bool] = False

    def __init__(
        self,
        config: Any,
        seed: int = 0,
        device: torch.device | str | None = None,
        *,
        scenario: str | None = None,
    ) -> None:
        dev = resolve_device(device)
        need, settings = type(self).memory_need(config)
        check_memory(self.kind, need, settings, dev)  # before the kind allocates anything
        rngs = RunRng.from_seed(check_seed(seed), dev)
        super().__init__(rng=rngs.numpy)
        self.config, self.seed, self.device, self.rngs = config, int(seed), dev, rngs
        self.scenario = scenario
        self.observables: dict[str, Any] = {}
        self.executor: Executor | None = None
        self._listeners: list[Callable[[Any], None]] = []
        mesa_step = self.step  # Mesa's wrapper: increments ``steps``, then the model's step

        def step() -> None:
            mesa_step()
            # Mesa's run_model() stops at the plan, or when the model ended itself
            self.running = self.steps < self.config.steps and self.stop_reason is None
            for listener in list(self._listeners):
                listener(self)

        self.step = step  # type: ignore[method-assign]

    @classmethod
    def memory_need(cls, config: Any) -> tuple[int, str]:
        """Bytes a model of this config allocates at least, and the settings that drive them.

        Each kind overrides it (from the config alone: nothing is allocated yet);
        ``ModelBase.__init__`` refuses a model that does not fit the device
        (``chemistry/memory.py``). The default, 0, checks nothing.
        """
        return 0, ""

    # ---- listeners -------------------------------------------------------------------------
    def subscribe(self, listener: Callable[[Any], None]) -> None:
        """Call ``listener(model)`` after every step (until ``unsubscribe``)."""
        self._listeners.append(listener)

    def unsubscribe(self, listener: Callable[[Any], None]) -> None:
        """Stop calling ``listener``."""
        if listener in self._listeners:
            self._listeners.remove(listener)

    # ---- independent work ------------------------------------------------------------------
    def use_executor(self, executor: Executor | None) -> None:
        """Run ``map_work`` on ``executor`` (None: in this process); kinds must opt in."""
        if executor is not None and not self.uses_executor:
            raise ConfigError(
                f"a {self.kind} run has no independent work to spread over an executor; drop "
                "--executor, or run replicates in parallel with `neurosoup sweep`"
            )
        self.executor = executor

    def map_work(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> list[Any]:
        """``[fn(x) for x in items]`` on the run's executor (or here); results in order.

        ``fn`` must be a module-level function and each item must carry everything it needs
        (its seeds drawn beforehand from ``rngs``), so the result is the same on any executor.
        """
        return map_ordered(self.executor, fn, items)

    # ---- running ---------------------------------------------------------------------------
    def size_hint(self) -> int:
        """Elements one step works on (for the thread policy); large by default."""
        return THREADS_SIZE

    def run(
        self, n: int | None = None, progress: bool = True, threads: int | str | None = "auto"
    ) -> dict[str, float]:
        """Run ``n`` steps (default: up to ``config.steps``); returns ``result()``.

        The tqdm bar shows only when ``progress`` and stderr is a terminal. ``threads`` sets
        torch's intra-op threads for the run and restores them after (None: leave as is);
        ``auto`` uses 1 thread when ``size_hint()`` is below 10⁴ (measured for soups: 28–100×
        faster on a busy 2-core machine) and torch's default above.
        """
        if n is None:
            n = max(self.config.steps - self.steps, 0)
        old = torch.get_num_threads()
        if threads == "auto":
            threads = 1 if self.size_hint() < THREADS_SIZE else None
        if threads is not None:
            torch.set_num_threads(int(threads))
        try:
            quiet = not progress or not on_terminal()
            bar = tqdm(range(n), desc=self.kind, unit=self.unit, disable=quiet)
            for _ in bar:
                if self.stop_reason is not None:  # the model ended itself (an extinction)
                    break
                self.step()
        finally:
            torch.set_num_threads(old)
        return self.result()

    def result(self) -> dict[str, float]:
        """The figures printed after a run (default: the latest scalar observables)."""
        return {k: float(v) for k, v in self.observables.items() if np.ndim(v) == 0}

    def provenance(self) -> dict[str, str]:
        """Digests of user code the model runs (name → digest); resume refuses a change."""
        return {}

    def restore_history(self, history: dict[str, list[Any]]) -> None:
        """Receive the recorded per-step history on resume (the soup refills its collector)."""


def on_terminal() -> bool:
    """Whether stderr is a terminal (progress bars only there, never in logs)."""
    return bool(getattr(sys.stderr, "isatty", lambda: False)())


@dataclass(frozen=True)
class KindTest:
    """A kind's tiny test set: a registered scenario of the kind and overrides that shrink it.

    ``tests/test_every_kind.py`` runs every kind that declares one (same seed → same file,
    resume ≡ uninterrupted, ``run``/``show``/``analyse``/``plot``, a bad ``--set`` key) with
    ``steps`` model steps; keep it to seconds.
    """

    scenario: str
    overrides: dict[str, Any] = field(default_factory=dict)
    steps: int = 2


@dataclass(frozen=True)
class Kind:
    """One whitelist entry, loaded: the config class and the model class of a kind."""

    name: str
    config: type
    model: type
    test: KindTest | None = None


@dataclass(frozen=True)
class KindEntry:
    """One whitelist entry as registered: where the classes live, imported on first use.

    ``model`` and ``config`` are classes or ``"module:Class"`` strings written in code (the
    table ``chemistry/kind_table.py``, a test's ``conftest.py``) — never names read from a file.
    """

    name: str
    model: str | type
    config: str | type
    test: KindTest | None = None

    def load(self) -> Kind:
        """Import the classes (``importlib``, on demand) and check the model names this kind."""
        model, config = _resolve(self.model), _resolve(self.config)
        if getattr(model, "kind", None) != self.name:
            raise ConfigError(f"model class {model.__name__} must set kind = {self.name!r}")
        return Kind(self.name, config, model, self.test)


def _resolve(ref: str | type) -> type:
    """A class, or the class a ``"module:Class"`` entry point names (imported now)."""
    if not isinstance(ref, str):
        return ref
    module, _, attr = ref.partition(":")
    return getattr(importlib.import_module(module), attr)


#: the whitelist: kind name → entry (registered in code only)
KINDS: dict[str, KindEntry] = {}
_LOADED: dict[str, Kind] = {}


def register_kind(
    name: str, config: str | type, model: str | type, *, test: KindTest | None = None
) -> KindEntry:
    """Add a kind to the whitelist (from code only; never from a name read from a file).

    ``config`` and ``model`` may be ``"module:Class"`` strings: nothing is imported until the
    kind is first used (``get_kind``). Classes given directly are checked at once.
    """
    entry = KindEntry(name, model, config, test)
    if not isinstance(model, str):
        _LOADED[name] = entry.load()
    else:
        _LOADED.pop(name, None)
    KINDS[name] = entry
    return entry


def get_kind(name: object, *, where: str = "") -> Kind:
    """The loaded whitelist entry of ``name``; an unknown kind raises with a suggestion."""
    if isinstance(name, str) and name in KINDS:
        if name not in _LOADED:
            _LOADED[name] = KINDS[name].load()
        return _LOADED[name]
    close = difflib.get_close_matches(str(name), list(KINDS), n=1, cutoff=0.6)
    hint = f" Did you mean `{close[0]}`?" if close else ""
    prefix = f"{where}: " if where else ""
    raise ConfigError(
        f"{prefix}unknown model kind {name!r}.{hint} Known kinds: {', '.join(sorted(KINDS))}"
    )


__all__ = [
    "KINDS",
    "Kind",
    "KindEntry",
    "KindTest",
    "Layout",
    "ModelBase",
    "ModelConfig",
    "RunnableModel",
    "Series",
    "Table",
    "get_kind",
    "register_kind",
]
