"""The ``neurosoup`` command line: list, show, run, resume; ribo and analysis commands.

Every ``NeurosoupError`` becomes one line ``error: <message>`` on stderr and exit status 2,
without a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from neurosoup.chemistry.executors import EXECUTORS, make_executor, parse_jobqueue
from neurosoup.particles import NeurosoupError, SnapshotError, runformat

from . import cli_analysis, cli_fork, cli_ribo, list_scenarios, viz
from .cli_common import NeurosoupParser, add_output, check_outputs, finish_parser
from .runner import parse_sets, resolve, results_table, resume_file, run_target


def _list(args: argparse.Namespace) -> int:
    for sc in list_scenarios():
        print(f"{sc.id:<28}{sc.description}")
    return 0


def _show(args: argparse.Namespace) -> int:
    sc, config, seed = resolve(args.target, parse_sets(args.set))
    out = {"scenario": sc.id, "kind": sc.kind, "config": config.to_dict()}
    if seed is not None:
        out["seed"] = seed
    print(json.dumps(out, indent=2))
    return 0


def _executor(args: argparse.Namespace, default: str | None) -> AbstractContextManager[Any]:
    """The executor the options ask for (a context manager); None → ``nullcontext()``."""
    jobqueue = None
    for kind in ("slurm", "pbs"):
        if getattr(args, kind) is not None:
            if jobqueue is not None:
                raise NeurosoupError("give either --slurm or --pbs, not both")
            jobqueue = (kind, parse_jobqueue(kind, getattr(args, kind)))
    name = args.executor or ("dask" if args.scheduler or jobqueue else default)
    if name is None:
        return nullcontext()
    return make_executor(name, workers=args.workers, scheduler=args.scheduler,
                         jobqueue=jobqueue, connect_timeout=args.connect_timeout)  # fmt: skip


def _run(args: argparse.Namespace) -> int:
    with _executor(args, None) as executor:
        model, sc, seconds = run_target(
            args.target, seed=args.seed, steps=args.steps, sets=parse_sets(args.set),
            out=args.out, overwrite=args.overwrite, device=args.device,
            progress=not args.quiet, executor=executor, keep_checkpoints=args.keep_checkpoints,
        )  # fmt: skip
    where = f" → {args.out}" if args.out else ""
    print(f"{sc.id} seed {model.seed}: {model.steps} {model.unit}s in {seconds:.1f} s{where}")
    print(results_table(model.result(), sc, model.config))
    if hasattr(model, "summary"):
        print(model.summary())
    return 0


def _resume(args: argparse.Namespace) -> int:
    with _executor(args, None) as executor:
        model, sc = resume_file(args.file, args.steps, device=args.device,
                                progress=not args.quiet, executor=executor,
                                keep_checkpoints=args.keep_checkpoints)  # fmt: skip
    print(f"{sc.id} seed {model.seed}: resumed to {model.unit} {model.steps} → {args.file}")
    print(results_table(model.result(), sc, model.config))
    return 0


def _sweep(args: argparse.Namespace) -> int:
    from .sweep import parse_grid, plan_sweep, run_sweep, summary_line

    plan = plan_sweep(args.target, parse_grid(args.grid), args.replicates,
                      sets=parse_sets(args.set), seed=args.seed, steps=args.steps,
                      device=args.device)  # fmt: skip
    start = time.perf_counter()

    def executors() -> AbstractContextManager[Any]:
        return _executor(args, "local")

    with executors() as first:  # opened once up front: a bad --scheduler fails before any work
        rows = run_sweep(plan, args.out, first, retries=0)
    if any(r.get("status") != "done" for r in rows) and args.retries > 0:
        rows = run_sweep(plan, args.out, executors, retries=args.retries - 1)
    print(summary_line(plan, rows, time.perf_counter() - start))
    print(f"index: {os.path.join(args.out, 'index.csv')}; summary: neurosoup analyse {args.out}")
    return 0 if all(r.get("status") == "done" for r in rows) else 1


def _executor_args(p: argparse.ArgumentParser, default: str | None) -> None:
    text = "where independent work runs" + (f" (default {default})" if default else "")
    p.add_argument("--executor", choices=EXECUTORS, default=None, help=text)
    p.add_argument("--workers", type=int, default=None,
                   help="processes (local, a Dask LocalCluster) or batch jobs (--slurm/--pbs)")
    p.add_argument("--scheduler", default=None, metavar="tcp://host:port",
                   help="a running Dask scheduler (implies --executor dask)")
    p.add_argument("--slurm", default=None, metavar="cores=N,walltime=HH:MM:SS,…",
                   help="start Dask workers as SLURM jobs (dask-jobqueue options)")
    p.add_argument("--pbs", default=None, metavar="cores=N,walltime=HH:MM:SS,…",
                   help="start Dask workers as PBS jobs (dask-jobqueue options)")
    p.add_argument("--connect-timeout", type=float, default=10.0, metavar="S",
                   help="seconds to wait for --scheduler (default 10)")


def _sweep_args(p: argparse.ArgumentParser) -> None:
    _target(p)
    p.add_argument("--grid", action="append", default=[], metavar="KEY=V1,V2",
                   help="a swept setting and its values; several --grid make a product")
    p.add_argument("--replicates", type=int, default=1, metavar="K", help="seeds per point")
    add_output(p, "--out", what="folder", noun="sweep folder", required=True, metavar="DIR",
               help="sweep folder (rerun: resume)")
    p.add_argument("--seed", type=int, default=None, help="the sweep's root seed (default 0)")
    p.add_argument("--steps", type=int, default=None, help="model steps of every replicate")
    p.add_argument("--device", choices=("cpu", "cuda"), default=None)
    p.add_argument("--retries", type=int, default=1, help="rounds of retrying failed replicates")
    _executor_args(p, "local")


def _target(p: argparse.ArgumentParser) -> None:
    p.add_argument("target", metavar="ID|FILE")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a setting, e.g. n_particles=50 or attack.rate=0.2")  # fmt: skip


def _run_args(p: argparse.ArgumentParser) -> None:
    _target(p)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--steps", type=int, default=None,
                   help="model steps to run: ticks, epochs, generations (default: scenario's)")
    add_output(p, "--out", what="file", noun="run file", example="run.h5", default=None,
               help="HDF5 run file to write")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    p.add_argument("--device", choices=("cpu", "cuda"), default=None)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    _keep_args(p)
    _executor_args(p, None)


def _resume_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("file")
    p.add_argument("--steps", type=int, default=None, help="more steps (default: to the plan)")
    p.add_argument("--device", choices=("cpu", "cuda"), default=None)
    p.add_argument("--quiet", action="store_true")
    _keep_args(p)
    _executor_args(p, None)


def _keep_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--keep-checkpoints", type=int, default=None, metavar="N",
                   help="past checkpoints kept beside the run file for `neurosoup fork` "
                   "(default 100; 0: none)")


def _evaluate(args: argparse.Namespace) -> int:
    from .evaluate import evaluate_run, summary_text, write_evaluation

    with _executor(args, None) as executor:
        result = evaluate_run(args.file, args.generation, args.sample, args.trainings,
                              copies=args.copies, seed=args.seed, train_steps=args.train_steps,
                              device=args.device, executor=executor, pairs=args.pairs,
                              top_k=args.top_k, background=args.background,
                              progress=True)  # fmt: skip
    write_evaluation(result, args.out, overwrite=args.overwrite)
    print(summary_text(args.out))
    return 0


def _evaluate_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", help="an evolution run file")
    p.add_argument("--generation", type=int, required=True, metavar="G")
    p.add_argument("--sample", type=int, default=8, metavar="K",
                   help="distinct living genotypes of generation G to re-train (default 8)")
    p.add_argument("--trainings", type=int, default=5, metavar="R",
                   help="independent trainings (fresh inits) per genotype, >= 2 (default 5)")
    p.add_argument("--copies", type=int, default=20, metavar="P",
                   help="replications of every adult (default 20)")
    p.add_argument("--train-steps", type=int, default=None, help="default: the run's")
    p.add_argument("--pairs", nargs="+", default=None, metavar="A:B",
                   help="epistasis: site pairs whose single and double mutants to re-train")
    p.add_argument("--top-k", type=int, default=None, metavar="K",
                   help="epistasis: every pair of the K sites whose allele frequency changed most")
    p.add_argument("--background", type=int, default=None, metavar="ID",
                   help="epistasis: the individual to mutate (default: commonest genotype)")
    p.add_argument("--seed", type=int, default=0, help="root of the SeedSequence (default 0)")
    add_output(p, "--out", what="file", noun="evaluation file", example="evaluation.h5",
               required=True, metavar="F", help="HDF5 evaluation file to write")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    p.add_argument("--device", choices=("cpu", "cuda"), default=None)
    _executor_args(p, None)


#: the run commands: (name, help, arguments, handler); analysis and ribo add their own
COMMANDS = (
    ("list", "list the registered scenarios", lambda p: None, _list),
    ("show", "print a scenario's resolved config as JSON", _target, _show),
    ("run", "run a scenario (id or TOML file)", _run_args, _run),
    ("resume", "continue a run file from its checkpoint", _resume_args, _resume),
    ("sweep", "run grid points × replicates of a scenario into a folder", _sweep_args, _sweep),
    ("evaluate", "re-train sampled genotypes of an evolution run: developmental noise",
     _evaluate_args, _evaluate),
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command."""
    parser = NeurosoupParser(
        prog="neurosoup", description="Artificial chemistries of self-replicating networks."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name, text, arguments, handler in COMMANDS:
        p = sub.add_parser(name, help=text)
        arguments(p)
        p.set_defaults(func=handler)
    cli_ribo.add_commands(sub)
    cli_analysis.add_commands(sub)
    viz.add_commands(sub)
    cli_fork.add_commands(sub)
    finish_parser(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``neurosoup`` console script; returns the exit status."""
    try:  # a bad command line or output path: one line, before any work
        args = build_parser().parse_args(sys.argv[1:] if argv is None else list(argv))
        check_outputs(args)
    except NeurosoupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        return int(args.func(args) or 0)
    except NeurosoupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `neurosoup analyse run.h5 | head`: the reader left early
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except (OSError, KeyError, ValueError, IndexError, TypeError, RuntimeError):
        damage = _damage(args)
        if damage is None:  # not a damaged input file: a bug, keep its traceback
            raise
        print(f"error: {damage}", file=sys.stderr)
        return 2


def _damage(args: argparse.Namespace) -> SnapshotError | None:
    """The first damaged group of the command's input run files, if a read failed on one."""
    files = getattr(args, "file", None)
    for path in [files] if isinstance(files, str) else files or []:
        try:
            with runformat.open_h5(path) as file:
                runformat.check_root(file, path)
                runformat.verify(file, path)
        except SnapshotError as exc:
            return exc
    return None


if __name__ == "__main__":
    raise SystemExit(main())
