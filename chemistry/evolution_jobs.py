"""Juvenile learning of a generation as jobs: the task data, the seeds, ``Job``, ``learn``.

A job is the members of one architecture (stacked when small, else one member per job); it is
plain data, so it runs on any executor of ``chemistry/executors.py`` (in-process, a spawn process
pool, Dask) with the same result: each member draws its init, batches and replication images
from its own seed (``member_seed``), fixed before the job is sent.
"""

from __future__ import annotations

import concurrent.futures as cf
from dataclasses import dataclass
from functools import lru_cache, partial

import numpy as np
import torch
from tqdm.auto import tqdm

from neurosoup.particles.serann import corpus_genotypes
from neurosoup.particles.serann.genotype import N_BITS
from neurosoup.particles.serann.ir import ProgramIR
from neurosoup.particles.serann.train import (
    TaskTensors,
    TrainSettings,
    draw_member,
    member_to,
    train_group,
)

from .evolution_config import EvolutionConfig
from .model_kinds import on_terminal

_MEMBER_KEY = 2  # spawn_key (2, id): the individuals' streams; (0,), (1,) feed ModelBase


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


__all__ = ["Job", "learn", "load_task_tensors", "member_seed", "run_job"]
