"""The ``neurosoup`` command line: list, show, run, resume, ribo train (+ analysis commands).

Every ``NeurosoupError`` becomes one line ``error: <message>`` on stderr and exit status 2,
without a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from neurosoup.particles import NeurosoupError

from . import list_scenarios
from .cli_analysis import add_commands
from .runner import counts_table, parse_sets, resolve, resume_file, run_target


def _list(args: argparse.Namespace) -> int:
    for sc in list_scenarios():
        print(f"{sc.id:<28}{sc.description}")
    return 0


def _show(args: argparse.Namespace) -> int:
    sc, config, seed = resolve(args.target, parse_sets(args.set))
    out = {"scenario": sc.id, "config": config.to_dict()}
    if seed is not None:
        out["seed"] = seed
    print(json.dumps(out, indent=2))
    return 0


def _run(args: argparse.Namespace) -> int:
    soup, sc, seconds = run_target(
        args.target, seed=args.seed, steps=args.steps, sets=parse_sets(args.set), out=args.out,
        overwrite=args.overwrite, device=args.device, progress=not args.quiet,
    )  # fmt: skip
    where = f" → {args.out}" if args.out else ""
    print(f"{sc.id} seed {soup.seed}: {soup.steps} ticks in {seconds:.1f} s{where}")
    print(counts_table(soup.counts(), sc, soup.config))
    return 0


def _resume(args: argparse.Namespace) -> int:
    soup, sc = resume_file(args.file, args.steps, device=args.device, progress=not args.quiet)
    print(f"{sc.id} seed {soup.seed}: resumed to tick {soup.steps} → {args.file}")
    print(counts_table(soup.counts(), sc, soup.config))
    return 0


def _ribo(args: argparse.Namespace) -> int:
    from neurosoup.particles.serann.ribo import train_cli  # heavy: import only when asked

    rest = list(args.argv)
    rest = rest[1:] if rest[:1] == ["--"] else rest
    return int(train_cli(["stats", *rest] if args.ribo_command == "stats" else rest))


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command."""
    parser = argparse.ArgumentParser(
        prog="neurosoup", description="Artificial chemistries of self-replicating networks."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("list", help="list the registered scenarios")
    p.set_defaults(func=_list)
    p = sub.add_parser("show", help="print a scenario's resolved config as JSON")
    p.add_argument("target", metavar="ID|FILE")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    p.set_defaults(func=_show)
    p = sub.add_parser("run", help="run a scenario (id or TOML file)")
    p.add_argument("target", metavar="ID|FILE")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--steps", type=int, default=None, help="ticks to run (default: scenario's)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--out", default=None, help="HDF5 run file to write")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    p.add_argument("--device", choices=("cpu", "cuda"), default=None)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_run)
    p = sub.add_parser("resume", help="continue a run file from its checkpoint")
    p.add_argument("file")
    p.add_argument("--steps", type=int, default=None, help="more ticks (default: to the plan)")
    p.add_argument("--device", choices=("cpu", "cuda"), default=None)
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=_resume)
    ribo = sub.add_parser("ribo", help="SeRANN ribosome tools").add_subparsers(
        dest="ribo_command", required=True
    )
    for name, text in (("train", "train the RiboAE"), ("stats", "genotype-phenotype map shares")):
        p = ribo.add_parser(name, help=f"{text} (options: neurosoup ribo {name} -h)",
                            add_help=False)  # fmt: skip
        p.add_argument("argv", nargs=argparse.REMAINDER)
        p.set_defaults(func=_ribo)
    add_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``neurosoup`` console script; returns the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["ribo"] and argv[1:2] in (["train"], ["stats"]):
        argv = [*argv[:2], "--", *argv[2:]]  # pass everything after it through untouched
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except NeurosoupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `neurosoup analyse run.h5 | head`: the reader left early
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
