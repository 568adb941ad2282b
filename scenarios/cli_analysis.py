"""Analysis sub-commands of the ``neurosoup`` CLI: analyse, plot, report, reproduce.

``add_commands(sub)`` is called by ``cli.py``; each sub-parser sets ``func`` to a handler
``handler(args) -> int``. Handlers raise ``NeurosoupError`` for user mistakes (bad file,
unknown analysis name); the CLI's ``main`` prints ``error: <message>`` and exits with 2.
"""

from __future__ import annotations

import argparse
import difflib
import inspect
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from neurosoup.analysis import open_run
from neurosoup.analysis.plots import save_figure
from neurosoup.analysis.report import ANALYSES, analysis, write_figures, write_report
from neurosoup.analysis.robustness import robustness_summary
from neurosoup.analysis.sweep import is_sweep, open_sweep, sweep_figures, sweep_summary
from neurosoup.particles import ConfigError

from .cli_common import add_output
from .cli_phylogeny import cmd_phylogeny

#: the optional flags of ``analyse``; each goes to the analyses whose signature takes it
ANALYSIS_OPTIONS = ("clones", "cap", "steps", "seed", "every", "window", "min_freq", "reference",
                    "threshold", "periods", "neutral", "id", "fitness")  # fmt: skip


def _options(args: argparse.Namespace, fn: Any, kind: str) -> dict[str, Any]:
    """The flags given on the command line, checked against what the analysis accepts."""
    given = {k: getattr(args, k) for k in ANALYSIS_OPTIONS if getattr(args, k, None) is not None}
    accepted = inspect.signature(fn).parameters
    for key in given:
        if key not in accepted:
            takes = [f"--{k.replace('_', '-')}" for k in ANALYSIS_OPTIONS if k in accepted]
            raise ConfigError(
                f"analysis {args.name or 'default'!r} of a {kind} run takes no "
                f"--{key.replace('_', '-')}; it takes {', '.join(takes) or 'no options'}"
            )
    return given


def _print_table(frame: pd.DataFrame) -> None:
    """Print a table, truncated to 60 rows (``--csv`` writes all of it)."""
    with pd.option_context("display.max_rows", 60, "display.width", 120, "display.max_columns", 20):
        print(frame)


def _analyse_sweep(args: argparse.Namespace) -> int:
    """``neurosoup analyse DIR``: mean ± sd of every final figure per grid point."""
    if args.name is not None:
        raise ConfigError(
            f"a sweep folder has one analysis (the summary), not {args.name!r}; drop the name or "
            f"analyse one run file of {args.file}/runs"
        )
    sweep = open_sweep(args.file)
    table = sweep_summary(sweep)
    if args.csv:
        Path(args.csv).parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(args.csv)
        print(f"wrote {args.csv} ({len(table)} rows)")
        return 0
    n, done = len(sweep.index), len(sweep.done)
    print(f"sweep {sweep.plan.get('scenario')}: {done}/{n} replicates done; mean ± sd per grid "
          f"point (one figure per result: neurosoup plot {args.file} --out DIR)")  # fmt: skip
    shown = table[[*sweep.grid, "n"]].copy()
    for name in sweep.figures:
        mean, sd = table[f"{name}_mean"], table[f"{name}_sd"]
        shown[name] = [f"{m:.4g} ± {s:.2g}" for m, s in zip(mean, sd, strict=True)]
    _print_table(shown)
    return 0


def cmd_analyse(args: argparse.Namespace) -> int:
    """``neurosoup analyse FILE [NAME]``: print one analysis as a table (or write CSV).

    A sweep folder (holding ``index.csv``) prints the sweep's summary instead.
    """
    if args.name == "phylogeny" or args.format is not None:  # streamed export, ALife standard
        return cmd_phylogeny(args)
    if is_sweep(args.file):
        return _analyse_sweep(args)
    with open_run(args.file) as run:
        fn = analysis(args.name, run.kind)  # dispatch on the file's kind
        table = fn(run, **_options(args, fn, run.kind))
    notes = list(table.attrs.get("notes", ()))  # lines an analysis prints beside its table
    if args.csv:
        Path(args.csv).parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(args.csv, index=table.index.name is not None)
        print(f"wrote {args.csv} ({len(table)} rows)")
    elif args.name == "robustness":  # per-clone rows go to --csv; the console gets the means
        print(f"mean over clones per noise level ({len(table)} clones; --csv for all rows)")
        _print_table(robustness_summary(table))
    else:
        _print_table(table)
    for line in notes:
        print(line)
    return 0


@contextmanager
def _output_folder(out: str | Path) -> Iterator[None]:
    """Remove ``out`` again when the command fails, if the command made it (no debris)."""
    existed = Path(out).exists()
    try:
        yield
    except BaseException:
        if not existed and Path(out).is_dir():
            shutil.rmtree(out, ignore_errors=True)
        raise


def cmd_plot(args: argparse.Namespace) -> int:
    """``neurosoup plot FILE [MORE ...] --out DIR``: every figure that fits the run, PNG + CSV.

    With more files (same kind, e.g. seeds of one organism scenario), the kind's multi-run
    figures (organism: ``curves``, mean ± sd) are drawn over all of them; the other figures
    are those of the first file. A sweep folder gets one figure per final figure name (mean ±
    sd per grid point).
    """
    if args.animate is not None:
        return _animate(args)
    if args.out is None:
        raise ConfigError("plot needs --out DIR (every figure as PNG + CSV) or --animate "
                          "OUT.gif|OUT.mp4 (an animation of the run)")  # fmt: skip
    if len(args.file) == 1 and is_sweep(args.file[0]):
        for name, (fig, table) in sweep_figures(open_sweep(args.file[0])).items():
            png, _ = save_figure(fig, table, args.out, name)
            print(f"wrote {png} (+ {png.with_suffix('.csv').name})")
        return 0
    runs = []
    try:
        for path in args.file:
            runs.append(open_run(path))
            runs[-1].verify()  # a damaged file draws no figures: refused before any is written
        extra = {"fitness": args.fitness} if getattr(args, "fitness", None) else {}
        if extra and runs[0].kind != "evolution":
            raise ConfigError(f"--fitness applies to evolution runs; {args.file[0]} is a "
                              f"{runs[0].kind} run")  # fmt: skip
        with _output_folder(args.out):
            pngs = write_figures(
                runs[0],
                args.out,
                others=runs[1:],
                robustness_clones=args.clones,
                basin_steps=args.basin_steps,
                **extra,
            )
    finally:
        for run in runs:
            run.close()
    for png in pngs:
        print(f"wrote {png} (+ {png.with_suffix('.csv').name})")
    return 0


def _animate(args: argparse.Namespace) -> int:
    """``neurosoup plot FILE --animate OUT.gif|OUT.mp4 [--every k]``: one run's frames."""
    from neurosoup.analysis.animate import animate, check_output, frame_indices

    if len(args.file) != 1:
        raise ConfigError(f"--animate draws one run file, got {len(args.file)}; give one")
    frame_indices(0, args.every)  # a bad --every fails before any work
    check_output(args.animate)
    with open_run(args.file[0]) as run:
        run.verify()
        n = animate(run, args.animate, every=args.every, fps=args.fps)
    print(f"wrote {args.animate} ({n} frames, every {args.every} snapshot(s) of {args.file[0]})")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """``neurosoup report FILE --out DIR``: one self-contained HTML report."""
    with open_run(args.file) as run, _output_folder(args.out):
        run.verify()
        path = write_report(
            run, args.out, robustness_clones=args.clones, basin_steps=args.basin_steps
        )
    print(f"wrote {path}")
    return 0


def cmd_reproduce(args: argparse.Namespace) -> int:
    """``neurosoup reproduce TARGET --scale small|paper --out DIR`` (targets: ``TARGETS``)."""
    from . import reproduce  # the engines are imported only when they are needed

    targets = reproduce.TARGETS
    if args.target not in targets:
        close = difflib.get_close_matches(args.target, targets, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise ConfigError(
            f"nothing to reproduce named {args.target!r}; {hint}expected one of "
            f"{', '.join(targets)}"
        )
    table = targets[args.target](scale=args.scale, out=Path(args.out), seed=args.seed,
                                 only=args.only)  # fmt: skip
    _print_table(table[["row", "measure", "ours", "reference", "seconds"]])
    print(f"wrote {Path(args.out) / f'reproduce_{args.target}.md'} and .csv")
    return 0


def _figure_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--clones",
        type=int,
        default=20,
        help="noisy clones per fixpoint and noise level (default 20)",
    )
    p.add_argument(
        "--basin-steps",
        type=int,
        default=2500,
        help="self-train steps of the basin clones (default 2500)",
    )


def add_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register the analysis sub-commands on the CLI's sub-parser set."""
    p = sub.add_parser(
        "analyse",
        aliases=["analyze"],
        help="print one analysis of a run file",
        description="Analyses by run kind: " + "; ".join(
            f"{kind}: {', '.join(names)}" for kind, names in ANALYSES.items()
        ),
    )
    p.add_argument("file", help="run file (.h5) written by `neurosoup run`, or a sweep folder")
    p.add_argument(
        "name", nargs="?", default=None,
        help="an analysis of the file's kind (default: soup counts; see -h for the list)",
    )
    add_output(p, "--csv", what="file", noun="CSV table", example="table.csv", metavar="PATH",
               help="write the full table as CSV instead")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --csv file")
    p.add_argument("--format", default=None, help="phylogeny: csv (ALife standard) or newick")
    p.add_argument("--clones", type=int, default=None, help="robustness/basins: clones")
    p.add_argument("--cap", type=int, default=None, help="robustness: step cap (1000)")
    p.add_argument("--steps", type=int, default=None, help="basins: self-train steps (2500)")
    p.add_argument("--seed", type=int, default=None, help="robustness/basins: noise seed")
    p.add_argument("--every", type=int, default=None, help="trajectories: every k-th snapshot")
    p.add_argument("--window", type=int, default=None, help="adaptation: rolling mean width")
    p.add_argument("--min-freq", type=float, default=None,
                   help="alleles: least derived-allele frequency shown (0.1)")
    p.add_argument("--reference", choices=("founder", "ancestor"), default=None,
                   help="alleles: derived relative to each founder or to the ancestor")
    p.add_argument("--threshold", type=float, default=None,
                   help="clones/muller/interference: share that makes a genotype a clone (0.1)")
    p.add_argument("--periods", type=int, default=None, help="dfe: periods of the run (4)")
    p.add_argument("--neutral", type=float, default=None,
                   help="dfe/mutations: |s| band counted neutral (0.05)")
    p.add_argument("--id", type=int, default=None,
                   help="lineage (evolution): the individual whose three-generation story to print")
    p.add_argument("--fitness", default=None,
                   help="evolution: W = V·F as the paper (paper, the default) or fertility alone")
    p.set_defaults(func=cmd_analyse)

    p = sub.add_parser(
        "plot",
        help="write every figure that fits a run (PNG + CSV)",
        description="Every figure that fits the first run file. More files of the same kind "
        "(organism: several seeds) add the figures over all of them: the organism `curves` "
        "become mean ± sd over the files.",
    )
    p.add_argument(
        "file", nargs="+", help="run file(s) (.h5; several: organism runs) or a sweep folder"
    )
    add_output(p, "--out", what="folder", noun="figure folder", default=None,
               help="output folder (needed unless --animate)")
    add_output(p, "--animate", what="file", noun="animation", example="run.gif",
               default=None, metavar="OUT.gif|OUT.mp4",
               help="write an animation instead: soup PCA map, organism heatmap, evolution "
               "Muller plot or quine SSE/R², one frame per snapshot (MP4 needs ffmpeg)")
    p.add_argument("--every", type=int, default=1, metavar="K",
                   help="--animate: every k-th snapshot (default 1)")
    p.add_argument("--fps", type=float, default=4.0, help="--animate: frames per second (4)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --animate file")
    _figure_options(p)
    p.add_argument("--fitness", default=None,
                   help="evolution: W = V·F as the paper (paper, the default) or fertility alone")
    p.set_defaults(func=cmd_plot)

    p = sub.add_parser("report", help="write a self-contained HTML report of a run")
    p.add_argument("file", help="run file (.h5)")
    add_output(p, "--out", what="folder", noun="report folder", required=True,
               help="output folder")
    _figure_options(p)
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("reproduce", help="reproduce the papers' experiments (table + figures)")
    p.add_argument("target", help="what to reproduce: soup, organism, quine or serann")
    p.add_argument(
        "--scale",
        choices=("small", "paper"),
        default="small",
        help="small: minutes on 2 cores; paper: the papers' sizes and seeds",
    )
    add_output(p, "--out", what="folder", noun="reproduction folder", required=True,
               help="output folder")
    p.add_argument("--seed", type=int, default=0, help="first seed (default 0)")
    p.add_argument(
        "--only",
        nargs="*",
        default=None,
        metavar="ROW",
        help="run only these rows (ids as in the table)",
    )
    p.set_defaults(func=cmd_reproduce)
