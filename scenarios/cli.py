"""The ``neurosoup`` command line: list, show, run, resume; ribo and analysis commands.

Every ``NeurosoupError`` becomes one line ``error: <message>`` on stderr and exit status 2,
without a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from neurosoup.particles import NeurosoupError, SnapshotError, runformat

from . import cli_analysis, cli_ribo, list_scenarios
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


def _run(args: argparse.Namespace) -> int:
    model, sc, seconds = run_target(
        args.target, seed=args.seed, steps=args.steps, sets=parse_sets(args.set), out=args.out,
        overwrite=args.overwrite, device=args.device, progress=not args.quiet,
    )  # fmt: skip
    where = f" → {args.out}" if args.out else ""
    print(f"{sc.id} seed {model.seed}: {model.steps} {model.unit}s in {seconds:.1f} s{where}")
    print(results_table(model.result(), sc, model.config))
    if hasattr(model, "summary"):
        print(model.summary())
    return 0


def _resume(args: argparse.Namespace) -> int:
    model, sc = resume_file(args.file, args.steps, device=args.device, progress=not args.quiet)
    print(f"{sc.id} seed {model.seed}: resumed to {model.unit} {model.steps} → {args.file}")
    print(results_table(model.result(), sc, model.config))
    return 0


def _target(p: argparse.ArgumentParser) -> None:
    p.add_argument("target", metavar="ID|FILE")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a setting, e.g. n_particles=50 or attack.rate=0.2")  # fmt: skip


def _run_args(p: argparse.ArgumentParser) -> None:
    _target(p)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--steps", type=int, default=None,
                   help="model steps to run: ticks, epochs, generations (default: scenario's)")
    p.add_argument("--out", default=None, help="HDF5 run file to write")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    p.add_argument("--device", choices=("cpu", "cuda"), default=None)
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _resume_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("file")
    p.add_argument("--steps", type=int, default=None, help="more steps (default: to the plan)")
    p.add_argument("--device", choices=("cpu", "cuda"), default=None)
    p.add_argument("--quiet", action="store_true")


#: the run commands: (name, help, arguments, handler); analysis and ribo add their own
COMMANDS = (
    ("list", "list the registered scenarios", lambda p: None, _list),
    ("show", "print a scenario's resolved config as JSON", _target, _show),
    ("run", "run a scenario (id or TOML file)", _run_args, _run),
    ("resume", "continue a run file from its checkpoint", _resume_args, _resume),
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command."""
    parser = argparse.ArgumentParser(
        prog="neurosoup", description="Artificial chemistries of self-replicating networks."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name, text, arguments, handler in COMMANDS:
        p = sub.add_parser(name, help=text)
        arguments(p)
        p.set_defaults(func=handler)
    cli_ribo.add_commands(sub)
    cli_analysis.add_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``neurosoup`` console script; returns the exit status."""
    args = build_parser().parse_args(sys.argv[1:] if argv is None else list(argv))
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
