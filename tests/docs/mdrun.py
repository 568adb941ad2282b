"""Run the code of a Markdown page top to bottom and check the numbers its prose quotes.

The page's conventions (docs/tutorials/index.md says them to the reader):

- ```` ```python ```` blocks run in order in one namespace; ```` ```bash ```` blocks run line
  by line (``\\`` continues a line, ``#`` starts a comment). A ``neurosoup …`` line runs the
  CLI in this process; any other line runs in ``bash``. Everything runs in one temporary
  working directory. A block with ``title="name.ext"`` (a file name) is written there as that
  file instead of being run; other languages (``toml``, ``text``, ``json``) are not run.
- ``<!-- docs-test: skip REASON -->`` on the line before a fence leaves that block out (the
  reason is listed by the test). ``<!-- docs-test: add "ARGS" to "PREFIX" -->`` (one or more
  such lines before a fence) appends ARGS to each command of the block that starts with
  PREFIX: the README's full-size commands run at a test size that its source states.
  ``<!-- docs-test: omit "PREFIX" REASON -->`` leaves out the block's commands starting with
  PREFIX (listed with the reason, like a skipped block).
- Files named by a title are written before anything runs, wherever they stand on the page.
- The code prints results as lines ``name = value``; the prose quotes them as inline code
  `` `name = value` `` or `` `name = value ± tol` `` (``tol`` absolute, or ``N%`` relative).
  Without ``±`` the printed value must round to the quoted digits. Every such inline code
  span in the prose is a claim the test checks.

Used as ``python tests/docs/mdrun.py PAGE --workdir DIR --report FILE.json`` so that each page
runs in a fresh interpreter (its registrations never leak into the test process).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})\s*(?P<info>.*)$")
SKIP = re.compile(r"<!--\s*docs-test:\s*skip\b\s*(?P<reason>.*?)\s*-->")
ADD = re.compile(r'<!--\s*docs-test:\s*add\s+"(?P<args>[^"]*)"\s+to\s+"(?P<prefix>[^"]+)"\s*-->')
OMIT = re.compile(r'<!--\s*docs-test:\s*omit\s+"(?P<prefix>[^"]+)"\s*(?P<reason>.*?)\s*-->')
MARKER = re.compile(r"^\s*<!--\s*docs-test:.*-->\s*$")
TITLE = re.compile(r"""title\s*=\s*["']?(?P<title>[\w./-]+)["']?""")
RUN_LANGS = {"python": "python", "py": "python", "bash": "shell", "sh": "shell",
             "shell": "shell", "console": "shell"}  # fmt: skip
NUMBER = r"[-+]?(?:\d[\d_]*\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
PRINTED = re.compile(rf"^\s*(?P<name>[A-Za-z_][\w.]*) = (?P<value>{NUMBER})\s*$")
QUOTED = re.compile(
    rf"^(?P<name>[A-Za-z_][\w.]*) = (?P<value>{NUMBER})"
    rf"(?:\s*±\s*(?P<tol>{NUMBER})(?P<pct>%)?)?$"
)
INLINE = re.compile(r"(?<!`)`([^`\n]+)`(?!`)")


@dataclass
class Block:
    """One fenced block: its language, first code line (1-based) and text."""

    lang: str
    line: int
    code: str
    title: str | None = None
    skip: str | None = None
    adds: list[tuple[str, str]] = field(default_factory=list)
    omits: list[tuple[str, str]] = field(default_factory=list)

    def omitted(self, line: str) -> str | None:
        """The reason the block's markers leave ``line`` out, or None to run it."""
        return next((why or "no reason given" for p, why in self.omits if line.startswith(p)),
                    None)  # fmt: skip

    def command(self, line: str) -> str:
        """A command line with the ARGS of every ``add`` marker whose PREFIX it starts with."""
        for prefix, args in self.adds:
            if line.startswith(prefix):
                code, hash_, comment = line.partition(" #")
                line = f"{code.rstrip()} {args}" + (f"  #{comment}" if hash_ else "")
        return line


@dataclass
class Quote:
    """A number the prose quotes: ``name = value [± tol]`` at a line of the page."""

    name: str
    value: str
    line: int
    tol: float | None = None
    relative: bool = False

    def tolerance(self) -> float:
        """The allowed absolute difference (half the last quoted digit without ``±``)."""
        if self.tol is not None:
            return abs(float(self.value)) * self.tol / 100 if self.relative else self.tol
        exponent = Decimal(self.value.replace("_", "")).as_tuple().exponent
        return 0.5 * 10.0 ** int(exponent) * (1 + 1e-9)

    def matches(self, printed: float) -> bool:
        """Whether a printed value agrees with the quote."""
        return math.isfinite(printed) and abs(printed - float(self.value)) <= self.tolerance()


@dataclass
class Page:
    """A Markdown page split into its fenced blocks and the quotes of its prose."""

    blocks: list[Block] = field(default_factory=list)
    quotes: list[Quote] = field(default_factory=list)


def parse(text: str) -> Page:
    """Split Markdown into fenced blocks (with skip markers and titles) and prose quotes."""
    page = Page()
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if m is None:
            for span in INLINE.findall(lines[i]):
                q = QUOTED.match(span.strip())
                if q is not None:
                    tol = q["tol"]
                    page.quotes.append(Quote(q["name"], q["value"], i + 1,
                                             None if tol is None else float(tol),
                                             bool(q["pct"])))  # fmt: skip
            i += 1
            continue
        fence, info = m["fence"], m["info"].strip()
        lang = info.split()[0].lower() if info else ""
        title = TITLE.search(info)
        skip, adds, omits = None, [], []
        j = i - 1
        while j >= 0 and not lines[j].strip():
            j -= 1
        while j >= 0 and MARKER.match(lines[j]):
            if (s := SKIP.search(lines[j])) is not None:
                skip = s["reason"] or "no reason given"
            elif (a := ADD.search(lines[j])) is not None:
                adds.insert(0, (a["prefix"], a["args"]))
            elif (o := OMIT.search(lines[j])) is not None:
                omits.insert(0, (o["prefix"], o["reason"]))
            else:
                raise ValueError(f"line {j + 1}: unknown docs-test marker {lines[j].strip()!r}")
            j -= 1
        body: list[str] = []
        k = i + 1
        while k < len(lines) and not lines[k].lstrip().startswith(fence[0] * len(fence)):
            body.append(lines[k][len(m["indent"]):] if m["indent"] else lines[k])
            k += 1
        page.blocks.append(Block(lang, i + 2, "\n".join(body) + "\n",
                                 title["title"] if title else None, skip, adds, omits))  # fmt: skip
        i = k + 1
    return page


def printed_values(stdout: str) -> dict[str, list[str]]:
    """Every ``name = value`` line of the output, by name (in order)."""
    out: dict[str, list[str]] = {}
    for line in stdout.splitlines():
        m = PRINTED.match(line)
        if m is not None:
            out.setdefault(m["name"], []).append(m["value"])
    return out


def check_quotes(page: Page, stdout: str) -> list[str]:
    """Problems with the page's quotes: missing, printed twice differently, or different."""
    printed = printed_values(stdout)
    problems = []
    for q in page.quotes:
        values = printed.get(q.name)
        if not values:
            problems.append(f"line {q.line}: `{q.name} = {q.value}` is quoted but the code "
                            f"never prints `{q.name} = …`")  # fmt: skip
            continue
        if len(set(values)) > 1:
            problems.append(f"line {q.line}: `{q.name}` is printed with several values "
                            f"{values}; print each quoted name once")  # fmt: skip
            continue
        if not q.matches(float(values[0].replace("_", ""))):
            problems.append(f"line {q.line}: the text says `{q.name} = {q.value}` "
                            f"(± {q.tolerance():.3g}) but the code printed {values[0]}")
    return problems


def shell_lines(code: str, first_line: int) -> list[tuple[int, str]]:
    """Logical command lines of a shell block: continuations joined, comments and blanks gone."""
    out: list[tuple[int, str]] = []
    pending, start = "", first_line
    for n, raw in enumerate(code.splitlines(), start=first_line):
        if not pending:
            start = n
        if raw.rstrip().endswith("\\"):
            pending += raw.rstrip()[:-1] + " "
            continue
        line = (pending + raw).strip()
        pending = ""
        if line and not line.startswith("#"):
            out.append((start, line))
    return out


SHELL_OPERATORS = {"|", "||", "&&", ";", ">", ">>", "<", "&"}


def run_shell_line(line: str, where: str) -> None:
    """Run one command line: ``neurosoup`` in this process, anything else in bash."""
    try:
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        lexer.commenters = "#"
        argv = list(lexer)
    except ValueError as exc:
        raise SystemExit(f"{where}: cannot parse {line!r}: {exc}") from None
    print(f"$ {line}", flush=True)
    if argv and argv[0] == "neurosoup" and not SHELL_OPERATORS & set(argv):
        from neurosoup.scenarios.cli import main

        code = main(argv[1:])
    else:
        sys.stdout.flush()
        code = subprocess.run(["bash", "-c", line], stdout=sys.stdout, check=False).returncode
    if code:
        raise SystemExit(f"{where}: `{line}` exited with status {code}")


def run_page(path: Path, workdir: Path) -> dict[str, object]:
    """Run every block of the page in ``workdir``; returns timings and skipped blocks."""
    page = parse(path.read_text(encoding="utf-8"))
    os.chdir(workdir)
    namespace: dict[str, object] = {"__name__": "__main__", "__file__": str(path)}
    timings, skipped = [], []
    for block in page.blocks:
        if block.title is not None and "." in block.title and block.skip is None:
            target = workdir / block.title
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(block.code, encoding="utf-8")
    for block in page.blocks:
        where = f"{path}:{block.line}"
        kind = RUN_LANGS.get(block.lang)
        if block.skip is not None:
            skipped.append(f"{where} ({block.skip})")
            continue
        if kind is None or (block.title is not None and "." in block.title):
            continue
        start = time.perf_counter()
        if kind == "python":
            # the page's own code, from the repository: padded so tracebacks name its lines
            source = "\n" * (block.line - 1) + block.code
            exec(compile(source, str(path), "exec"), namespace)
        else:
            for n, line in shell_lines(block.code, block.line):
                if (why := block.omitted(line)) is not None:
                    skipped.append(f"{path}:{n} `{line.split('  #')[0]}` ({why})")
                    continue
                run_shell_line(block.command(line), f"{path}:{n}")
        sys.stdout.flush()
        timings.append({"line": block.line, "seconds": time.perf_counter() - start})
    return {"timings": timings, "skipped": skipped}


def main(argv: list[str] | None = None) -> int:
    """Command line: run a page, write its report as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("page", type=Path)
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--report", type=Path, required=True)
    parser.add_argument("--figures", type=Path, help="copy the page's figures/*.png here")
    args = parser.parse_args(argv)
    page, report_path = args.page.resolve(), args.report.resolve()
    figures = None if args.figures is None else args.figures.resolve()
    report = run_page(page, args.workdir.resolve())
    report_path.write_text(json.dumps(report), encoding="utf-8")
    if figures is not None:  # make docs: the site shows the figures the page just drew
        figures.mkdir(parents=True, exist_ok=True)
        for png in sorted((args.workdir / "figures").glob("*.png")):
            shutil.copyfile(png, figures / png.name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


__all__ = ["Block", "Page", "Quote", "check_quotes", "parse", "printed_values", "run_page"]
