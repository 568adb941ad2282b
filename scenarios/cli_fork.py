"""The ``fork``, ``compare`` and ``harvest`` sub-commands of the ``neurosoup`` CLI.

``add_commands(sub)`` is called by ``cli.py``. Handlers raise ``NeurosoupError`` for user
mistakes; the CLI prints one line ``error: …`` and exits with 2.
"""

from __future__ import annotations

import argparse
from typing import Any

import pandas as pd

from neurosoup.particles import ConfigError, NeurosoupError

from .cli_common import add_output
from .registry import spec
from .runner import parse_sets, results_table


def _fork(args: argparse.Namespace) -> int:
    from neurosoup.chemistry.fork import fork

    sets = parse_sets(args.set)
    if "steps" in sets and args.steps is not None:
        raise ConfigError("give either --steps or --set steps=…, not both")
    model = fork(args.file, args.at, args.out, sets=sets, reseed=args.reseed, steps=args.steps,
                 overwrite=args.overwrite, device=args.device, progress=not args.quiet,
                 keep_checkpoints=args.keep_checkpoints)  # fmt: skip
    changes = ", ".join(f"{k}={v}" for k, v in sets.items()) or "no change"
    reseed = f", reseeded {args.reseed}" if args.reseed is not None else ""
    print(f"fork of {args.file} at {model.unit} {args.at} ({changes}{reseed}): "
          f"{model.unit} {model.steps} → {args.out}")  # fmt: skip
    sc: Any = None
    if model.scenario is not None:
        try:
            sc = spec(str(model.scenario))
        except NeurosoupError:  # a scenario of a newer neurosoup: no reference table
            sc = None
    if sc is not None:
        print(results_table(model.result(), sc, model.config))
    return 0


def _fork_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", help="the parent run file")
    p.add_argument("--at", type=int, required=True, metavar="STEP",
                   help="a step with a stored checkpoint (a multiple of checkpoint_every)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="change a setting from STEP on, e.g. attack.rate=0.2")
    p.add_argument("--reseed", type=int, default=None, metavar="SEED",
                   help="fresh random streams from SEED (default: keep the parent's)")
    p.add_argument("--steps", type=int, default=None,
                   help="steps to run after STEP (default: up to the planned steps)")
    add_output(p, "--out", what="file", noun="run file", example="fork.h5", required=True,
               metavar="NEW", help="the fork's run file")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    p.add_argument("--device", choices=("cpu", "cuda"), default=None)
    p.add_argument("--keep-checkpoints", type=int, default=None, metavar="N",
                   help="past checkpoints kept beside the fork (default 100; 0: none)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _compare(args: argparse.Namespace) -> int:
    from neurosoup.analysis.compare import (
        choose,
        compare_figure,
        compare_table,
        final_values,
        load_runs,
    )
    from neurosoup.analysis.plots import save_figure

    runs = load_runs(args.files)
    names = choose(runs, args.observable)
    finals = final_values(runs, names)
    with pd.option_context("display.max_rows", 80, "display.width", 140,
                           "display.max_columns", 12):  # fmt: skip
        print(f"{runs[0].kind} runs, last recorded value (forks from their branch point):")
        print(finals)
    if args.out is not None:
        name = "compare" if len(names) > 1 else f"compare_{names[0]}"
        png, csv = save_figure(compare_figure(runs, names), compare_table(runs, names),
                               args.out, name)  # fmt: skip
        print(f"figure: {png}; table: {csv}")
    return 0


def _compare_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("files", nargs="+", metavar="FILE", help="run files of one kind")
    p.add_argument("--observable", action="append", default=None, metavar="NAME",
                   help="an observable to compare (repeat for more; default: all they share)")
    add_output(p, "--out", what="folder", noun="comparison folder", default=None, metavar="DIR",
               help="write the figure (PNG) and the aligned table (CSV) here")


def _harvest(args: argparse.Namespace) -> int:
    from .harvest import harvest

    paths = harvest(args.file, args.at, args.out, largest=args.largest, seed=args.seed)
    for p in paths:
        print(f"{p}  (train it: neurosoup run {p} --out {p.with_suffix('.h5')})")
    return 0


def _harvest_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", help="a soup run file with the grow operator")
    p.add_argument("--at", type=int, required=True, metavar="STEP",
                   help="a tick with a stored checkpoint")
    p.add_argument("--largest", type=int, default=1, metavar="K",
                   help="harvest the K largest organisms (default 1)")
    p.add_argument("--seed", type=int, default=0,
                   help="seed of the fresh init of positions an organism never filled")
    add_output(p, "--out", what="folder", noun="harvest folder", required=True, metavar="DIR",
               help="folder for the TOML run specs")


def add_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``fork`` (and ``compare``) on the CLI's sub-parser set."""
    p = sub.add_parser("fork", help="start a new run from a run file's checkpoint at a step")
    _fork_args(p)
    p.set_defaults(func=_fork)
    p = sub.add_parser("compare", help="observables of several runs of one kind: figure + table")
    _compare_args(p)
    p.set_defaults(func=_compare)
    p = sub.add_parser("harvest", help="grown organisms of a soup → organism run specs (TOML)")
    _harvest_args(p)
    p.set_defaults(func=_harvest)


__all__ = ["add_commands"]
