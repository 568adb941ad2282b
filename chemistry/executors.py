"""Executors for independent work: in-process, a spawn process pool, or Dask distributed.

Sweeps (``scenarios/sweep.py``) hand each replicate, and a model kind that declares
``uses_executor = True`` hands its independent pieces of one step (``ModelBase.map_work``: a
SeRANN generation's architecture groups), to any ``concurrent.futures.Executor``:

* ``serial`` — in the calling process, one item after another (debugging, tests);
* ``local`` — a ``ProcessPoolExecutor`` on the ``spawn`` context (Mesa forces ``spawn``;
  nothing here relies on ``fork``);
* ``dask`` — ``distributed.Client.get_executor()`` on a scheduler address, on a
  ``LocalCluster`` started here, or on a SLURM/PBS cluster from ``dask-jobqueue``
  (``pip install 'neurosoup[dask]'``).

Work items and functions travel by pickle between our own processes only; nothing read from a
file is unpickled. A function given to an executor must be importable (module level) and must
give the same result wherever it runs: draw its seeds before it is sent.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any

from neurosoup.particles import ConfigError

EXECUTORS = ("serial", "local", "dask")
JOBQUEUES = ("slurm", "pbs")
_DASK_HINT = "install the extra: pip install 'neurosoup[dask]'"


class SerialExecutor(Executor):
    """Runs each submitted call at once in the calling thread (an ``Executor`` of one)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        """Call ``fn(*args, **kwargs)`` now; its result or exception is in the future."""
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as exc:  # handed to the caller through the future
            future.set_exception(exc)
        return future


def parse_jobqueue(kind: str, text: str) -> dict[str, Any]:
    """``cores=4,walltime=01:00:00,memory=16GB`` → keyword arguments of a jobqueue cluster.

    Integers parse as ints; ``memory`` defaults to 4 GB per core, ``processes`` to ``cores``
    (one single-threaded Dask worker per core: our work items are single-threaded).
    """
    out: dict[str, Any] = {}
    for item in (part.strip() for part in text.split(",")):
        key, sep, value = item.partition("=")
        if not sep or not key or not value:
            raise ConfigError(
                f"--{kind} expects key=value pairs, got {item!r}; e.g. --{kind} "
                "cores=4,walltime=01:00:00,memory=16GB"
            )
        out[key.strip()] = int(value) if value.isdigit() else value.strip()
    cores = out.get("cores")
    if not isinstance(cores, int) or cores < 1:
        raise ConfigError(f"--{kind} needs cores=N with N >= 1, got {cores!r}")
    out.setdefault("memory", f"{4 * cores}GB")
    out.setdefault("processes", cores)
    return out


def jobqueue_cluster(kind: str, options: dict[str, Any]) -> Any:
    """A dask-jobqueue ``SLURMCluster`` or ``PBSCluster`` (no job is submitted until scaled)."""
    try:
        import dask_jobqueue
    except ImportError:
        raise ConfigError(f"--{kind} needs dask-jobqueue; {_DASK_HINT}") from None
    classes = {"slurm": dask_jobqueue.SLURMCluster, "pbs": dask_jobqueue.PBSCluster}
    if kind not in classes:
        raise ConfigError(f"unknown job queue {kind!r}; expected one of {', '.join(JOBQUEUES)}")
    try:
        return classes[kind](**options)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"--{kind}: {str(exc).splitlines()[0]}") from None


def _client(scheduler: str | None, workers: int | None, jobqueue: tuple[str, dict] | None,
            connect_timeout: float) -> tuple[Any, list[Any]]:  # fmt: skip
    """A ``distributed.Client`` and the clusters started for it (to close afterwards)."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ConfigError(f"--executor dask needs Dask distributed; {_DASK_HINT}") from None
    if scheduler is not None:
        try:
            return Client(scheduler, timeout=connect_timeout), []
        except (OSError, TimeoutError, ValueError) as exc:
            reason = (str(exc).splitlines() or [type(exc).__name__])[0]
            raise ConfigError(
                f"cannot reach the Dask scheduler at {scheduler} ({reason}); start one with "
                "`dask scheduler` or check --scheduler tcp://host:port"
            ) from None
    if jobqueue is not None:
        submit = {"slurm": "sbatch", "pbs": "qsub"}.get(jobqueue[0], "")
        if shutil.which(submit) is None:
            raise ConfigError(
                f"--{jobqueue[0]} submits jobs with `{submit}`, which is not on PATH here; run "
                "the sweep on the cluster's login node, or use --scheduler tcp://host:port"
            )
        cluster = jobqueue_cluster(*jobqueue)
        cluster.scale(jobs=workers or 1)
    else:
        cluster = LocalCluster(n_workers=workers or default_workers(), threads_per_worker=1,
                               processes=True, dashboard_address=None)  # fmt: skip
    return Client(cluster), [cluster]


def _one_thread() -> None:
    import torch

    torch.set_num_threads(1)


def local_pool(workers: int | None = None, *, one_thread: bool = False) -> ProcessPoolExecutor:
    """A ``ProcessPoolExecutor`` on the ``spawn`` context; the caller shuts it down.

    ``one_thread``: each worker runs torch on one intra-op thread (work items that train nets:
    two 1-thread processes beat one 2-thread process on 2 cores, ``science/serann.md``).
    """
    spawn = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(max_workers=workers or default_workers(), mp_context=spawn,
                               initializer=_one_thread if one_thread else None)  # fmt: skip


def default_workers() -> int:
    """Worker processes when none are asked for: the CPUs this process may use."""
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1)


@contextmanager
def make_executor(
    name: str = "local",
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    jobqueue: tuple[str, dict[str, Any]] | None = None,
    connect_timeout: float = 10.0,
) -> Iterator[Executor]:
    """Open an executor by name (see the module docstring); closed when the block ends.

    Args:
        name: ``serial``, ``local`` or ``dask``.
        workers: processes (local, a started ``LocalCluster``) or jobs (SLURM/PBS).
        scheduler: ``tcp://host:port`` of a running Dask scheduler (dask only).
        jobqueue: ``("slurm" | "pbs", options)`` to start workers through a batch system.
        connect_timeout: seconds to wait for ``scheduler``.
    """
    if name not in EXECUTORS:
        raise ConfigError(f"unknown executor {name!r}; expected one of {', '.join(EXECUTORS)}")
    if workers is not None and (isinstance(workers, bool) or workers < 1):
        raise ConfigError(f"--workers must be an int >= 1, got {workers!r}")
    if name != "dask" and (scheduler is not None or jobqueue is not None):
        raise ConfigError("--scheduler, --slurm and --pbs need --executor dask")
    if scheduler is not None and jobqueue is not None:
        raise ConfigError("give either --scheduler or --slurm/--pbs, not both")
    if name == "serial":
        yield SerialExecutor()
    elif name == "local":
        pool = local_pool(workers)
        try:
            yield pool
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    else:
        client, clusters = _client(scheduler, workers, jobqueue, connect_timeout)
        try:
            yield client.get_executor(pure=False)
        finally:
            client.close()
            for cluster in clusters:
                cluster.close()


def map_ordered(executor: Executor | None, fn: Callable[[Any], Any],
                items: Iterable[Any]) -> list[Any]:  # fmt: skip
    """``[fn(x) for x in items]``, on ``executor`` when given; results in the items' order."""
    items = list(items)
    if executor is None:
        return [fn(x) for x in items]
    return [f.result() for f in [executor.submit(fn, x) for x in items]]


__all__ = [
    "EXECUTORS",
    "JOBQUEUES",
    "SerialExecutor",
    "default_workers",
    "jobqueue_cluster",
    "local_pool",
    "make_executor",
    "map_ordered",
    "parse_jobqueue",
]
