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
import json
from typing import Any, ClassVar

import numpy as np
import torch

from neurosoup.particles import ConfigError, SnapshotError
from neurosoup.particles.runformat import evolution as vocab
from neurosoup.particles.serann import corpus_genotypes, default_ribosome
from neurosoup.particles.serann.genotype import N_BITS, from_hex, pack
from neurosoup.particles.serann.ir import Death, ProgramIR

from .evolution_config import CONFIG_KEYS, EvolutionConfig
from .evolution_jobs import Job, learn, load_task_tensors, member_seed, run_job
from .evolution_replication import (
    apply_mutation_model,
    mutation_rng,
    replicate,
    wright_fisher,
)
from .executors import SerialExecutor, local_pool
from .model_kinds import Layout, ModelBase, Table

OBSERVABLES = vocab.OBSERVABLES


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
        self.exo_rate: float | None = None
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
        copies = self._mutate(g, bits.numpy(), copies, alive)
        fert = np.where(alive, np.nan_to_num(acc) ** cfg.fertility_exponent, 0.0)
        viab = self._viability(copies, alive)
        fitness = np.where(alive, np.nan_to_num(viab) * fert, 0.0)
        errors = (copies != bits.numpy()[:, None, :]).sum(1).astype(np.int32)
        errors[~alive] = 0
        counts = wright_fisher(self.rng, fert)
        if not counts.any():
            self.stop_reason = (
                f"population extinct at generation {g}: no individual has fertility > 0 "
                f"({int(alive.sum())} of {n} programs alive)"
            )
        offspring, child_parent = replicate(self.rng, counts, copies)
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
            "viability": viab, "fitness": fitness,
            "n_copies": np.where(alive, n_copies, 0).astype(np.int64), "site_errors": errors,
        }  # fmt: skip
        live = alive.any()
        self._obs = {
            "mean_fitness": float(fitness.mean()),
            "mean_fertility": float(fert[alive].mean()) if live else float("nan"),
            "survival": float(alive.mean()),
            "mutation_rate": float(child_mut.mean()) if len(child_mut) else float("nan"),
            "mean_alpha": float(alpha[alive].mean()) if live else float("nan"),
            "n_architectures": float(len(set(arch[alive].tolist()))),
            "n_genotypes": float(len({bytes(r) for r in self._rows["genotype"]})),
            "mean_viability": float(viab[alive].mean()) if live else float("nan"),
        }

    def _mutate(self, g: int, parents: np.ndarray, copies: np.ndarray,
                alive: np.ndarray) -> np.ndarray:  # fmt: skip
        """The copies under the config's mutation model (``evolution_replication``).

        ``exogenous`` without a given rate measures U in generation 0: the mean wrong bits per
        copy of the living founders' learned copiers.
        """
        model = self.config.mutation_model
        if model == "exogenous" and self.exo_rate is None:
            if self.config.exogenous_rate is not None:
                self.exo_rate = float(self.config.exogenous_rate)
            else:
                wrong = (copies[alive] != parents[alive][:, None, :]).sum(-1)
                self.exo_rate = float(wrong.mean()) if wrong.size else 0.0
        return apply_mutation_model(model, mutation_rng(self.seed, g), parents, copies, alive,
                                    self.exo_rate or 0.0)  # fmt: skip

    def _viability(self, copies: np.ndarray, alive: np.ndarray) -> np.ndarray:
        """V [N]: the share of each living adult's P copies that decode to a viable program.

        copies: [N, P, 100] uint8 (every copy made, not only those drawn as offspring); the dead
        made none (NaN). Each distinct copy is decoded and judged once per generation.
        """
        n, p, _ = copies.shape
        v = np.full(n, np.nan)
        rows = np.flatnonzero(alive)
        if not len(rows) or not p:
            return v
        distinct, inverse = np.unique(copies[rows].reshape(-1, N_BITS), axis=0,
                                      return_inverse=True)  # fmt: skip
        texts = self.ribo.decode(torch.from_numpy(distinct))
        verdict = {t: not isinstance(self.config.express(t), Death) for t in set(texts)}
        ok = np.array([verdict[t] for t in texts], bool)
        v[rows] = ok[inverse.reshape(-1)].reshape(len(rows), p).mean(1)
        return v

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

    def use_executor(self, executor: cf.Executor | None) -> None:
        """Train on ``executor`` (``neurosoup run --executor local|dask``); None: the config's."""
        super().use_executor(executor)
        if executor is not None:
            self.close()
            self._executor, self._own_executor = executor, False

    def job_executor(self) -> cf.Executor:
        """The executor of the jobs: the given one, else the config's (created on first use).

        ``inline``: ``executors.SerialExecutor``; ``process``: ``executors.local_pool`` of
        ``workers`` 1-thread processes (on the CPU only).
        """
        if self._executor is None:
            if self.config.executor == "process" and self.device.type == "cpu":
                self._executor = local_pool(self.config.workers, one_thread=True)
            else:
                self._executor = SerialExecutor()
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
            (Table(vocab.POPULATION, vocab.POPULATION_COLUMNS, vocab.STEP_COLUMN,
                   {vocab.VERSION_ATTR: vocab.EVOLUTION_VERSION}),
             Table(vocab.ARCHITECTURES, vocab.ARCHITECTURE_COLUMNS, vocab.STEP_COLUMN)),
        )  # fmt: skip

    def step_records(self) -> dict[str, Any]:
        """The current generation's rows and the architectures first seen in it."""
        self._ensure()
        out: dict[str, Any] = {vocab.POPULATION: dict(self._rows)} if self._rows else {}
        if self._new_archs:
            cols = list(zip(*self._new_archs, strict=True))
            out[vocab.ARCHITECTURES] = {
                name: np.asarray(col, dtype=object if dtype is vocab.STR else dtype)
                for (name, dtype), col in zip(vocab.ARCHITECTURE_COLUMNS, cols, strict=True)
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
        for name in ("mean_fitness", "mean_viability", "mutation_rate", "mean_alpha", "survival"):
            out[f"{name} (gen 0)"] = self.first.get(name, float("nan"))
            out[f"{name} (gen {self.steps})"] = float(obs[name])
        if self.exo_rate is not None:
            out["exogenous rate U"] = float(self.exo_rate)
        return out

    def summary(self) -> str:
        """One line: extinction, or the population's state."""
        if self.stop_reason is not None:
            return self.stop_reason
        o = self.observables
        return (f"generation {self.steps}: survival {o['survival']:.2f}, mean fitness (V·F) "
                f"{o['mean_fitness']:.3f}, viability {o['mean_viability']:.2f}, mutation rate "
                f"{o['mutation_rate']:.2f}, "
                f"{int(o['n_architectures'])} architectures")  # fmt: skip

    # ---- state -----------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        """Everything to continue exactly: pending offspring, ids, architectures, RNG."""
        self._ensure()
        bits, parents, n_mut = self._pending
        return {
            "steps": int(self.steps), "next_id": int(self.next_id),
            "prev_max": int(self.prev_max), "rng": self.rngs.state(),
            "pending": {"genotype": pack(bits) if len(bits) else
                        np.zeros((0, vocab.GENOTYPE_BYTES), np.uint8),
                        "parent_id": parents, "n_mutations": n_mut},
            "archs": json.dumps(sorted(self.archs.items(), key=lambda kv: kv[1])),
            "observables": json.dumps(self._obs), "first": json.dumps(self.first),
            "stop_reason": self.stop_reason or "",
            "exo_rate": float("nan") if self.exo_rate is None else float(self.exo_rate),
        }  # fmt: skip

    def restore(self, state: dict[str, Any]) -> None:
        """Continue from ``state()`` output (same config, seed and device type)."""
        try:
            self.steps = int(state["steps"])
            self.next_id, self.prev_max = int(state["next_id"]), int(state["prev_max"])
            self.rngs.restore(state["rng"])
            p = state["pending"]
            packed = np.asarray(p["genotype"], np.uint8).reshape(-1, vocab.GENOTYPE_BYTES)
            bits = torch.from_numpy(np.unpackbits(packed, axis=1)[:, :N_BITS].copy())
            self._pending = (bits, np.asarray(p["parent_id"], np.int64),
                             np.asarray(p["n_mutations"], np.int64))  # fmt: skip
            self.archs = {k: int(v) for k, v in json.loads(state["archs"])}
            self._obs = json.loads(state["observables"])
            self.first = json.loads(state["first"])
            self.stop_reason = state["stop_reason"] or None
            rate = float(state.get("exo_rate", float("nan")))  # absent before the controls
            self.exo_rate = None if rate != rate else rate
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
    "Job",
    "learn",
    "load_task_tensors",
    "member_seed",
    "run_job",
    "wright_fisher",
]
