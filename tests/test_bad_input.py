"""Bad input, one suite: exit 2, one line saying what and how, no traceback, no debris.

Cases cover the CLI commands, TOML scenario files, ``--set`` overrides of every kind, operators
and user rules, sweeps, damaged run files of every kind, and genotype programs (the SeRANN
whitelist interpreter: ``interpret`` never raises, it returns a ``Death``; a bad program reaches
the CLI only as ``ancestor_hex``/``param_cap``). Each CLI case compares every file under the
fixture folder (names and bytes) before and after, and checks that no output path appeared.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import h5py
import pytest
import torch

import neurosoup.scenarios  # noqa: F401 - registers scenarios and the example rule
from neurosoup.particles import ConfigError
from neurosoup.particles.serann import interpret
from neurosoup.particles.serann.ir import Death
from neurosoup.scenarios.cli import main

#: tiny runs of every kind: (scenario, options); all four take < 5 s together in one process
KINDS = {
    "soup": ("soup/journal-v1", ["--steps", "3", "--set", "n_particles=5", "--set",
                                 "train_steps=2"]),
    "quine": ("quine/works-v1", ["--steps", "2", "--set", "hidden=8"]),
    "organism": ("organism/float-addition-v1", ["--steps", "2", "--set", "n_batches=2"]),
    "evolution": ("serann/smoke-v1", ["--steps", "1", "--set", "train_steps=20", "--set",
                                      "population=4"]),
}  # fmt: skip
DAMAGES = ("cut", "dataflip", "metaflip", "newer", "mismatch", "alien")


def _flip(path: Path, offset: int) -> None:
    raw = bytearray(path.read_bytes())
    raw[offset] ^= 0xFF
    path.write_bytes(bytes(raw))


def _data_offset(path: Path) -> int:
    """A byte in the first chunk of the first observable's values (checksummed data)."""
    found: list[int] = []

    def visit(name: str, obj: object) -> None:
        if not found and isinstance(obj, h5py.Dataset) and obj.chunks and name.endswith("value"):
            info = obj.id.get_chunk_info(0)
            found.append(info.byte_offset + info.size // 2)

    with h5py.File(path, "r") as f:
        f["observables"].visititems(visit)
    return found[0]


def _header_offset(path: Path, group: str) -> int:
    """A byte inside the object header of ``group`` (metadata, not data)."""
    with h5py.File(path, "r") as f:
        return h5py.h5o.get_info(f[group].id).addr  # the header's version byte


def _damage(good: Path, how: str, out: Path) -> None:
    data = good.read_bytes()
    out.write_bytes(data[: len(data) // 2] if how == "cut" else data)
    ckpt = Path(f"{good}.ckpt")
    if ckpt.exists():
        Path(f"{out}.ckpt").write_bytes(ckpt.read_bytes())
    if how == "dataflip":
        _flip(out, _data_offset(good))
    elif how == "metaflip":
        _flip(out, _header_offset(good, "observables"))
    elif how in ("newer", "mismatch", "alien"):
        with h5py.File(out, "r+") as f:
            if how == "newer":
                f.attrs["format_version"] = 99
            else:  # mismatch: root and spec disagree; alien: both name an unknown kind
                f.attrs["kind"] = "alchemy"
            if how == "alien":
                spec = json.loads(f["parameters/spec"][()])
                del f["parameters/spec"]
                f["parameters/spec"] = json.dumps({**spec, "kind": "alchemy"})


@pytest.fixture(scope="module")
def d(tmp_path_factory) -> Path:
    """One folder of good, damaged and foreign inputs, built once."""
    root = tmp_path_factory.mktemp("bad_input")
    for kind, (scenario, options) in KINDS.items():
        good = root / f"{kind}.h5"
        assert main(["run", scenario, *options, "--out", str(good), "--quiet"]) == 0
        for how in DAMAGES:
            _damage(good, how, root / f"{kind}-{how}.h5")
        for suffix in ("", ".ckpt"):  # a second copy for the locked-file cases
            (root / f"{kind}-locked.h5{suffix}").write_bytes(Path(f"{good}{suffix}").read_bytes())
    (root / "noise.h5").write_bytes(b"not an hdf5 file at all" * 100)
    with h5py.File(root / "foreign.h5", "w") as f:
        f["x"] = [1, 2, 3]
    (root / "afile").write_text("x")
    tomls = {
        "malformed": 'extends = "soup/journal-v1"\nattack_rate = \n',
        "noextends": "n_particles = 5\n",
        "badextends": 'extends = "soup/jornal-v1"\n',
        "typo": 'extends = "soup/journal-v1"\natack_rate = 0.2\n',
        "seed": 'extends = "soup/journal-v1"\nseed = -1\n',
        "type": 'extends = "soup/journal-v1"\nn_particles = "many"\n',
        "op": 'extends = "soup/journal-v1"\n[[operators]]\nname = "melz"\nrate = 0.1\n',
        "quine": 'extends = "quine/works-v1"\nn_particles = 5\n',
        "evo": 'extends = "serann/smoke-v1"\nancestor_hex = "xyz"\n',
    }
    for name, text in tomls.items():
        (root / f"{name}.toml").write_text(text)
    sweep = ["sweep", "soup/journal-v1", "--out", str(root / "sweep"), "--executor", "serial",
             "--set", "n_particles=4", "--steps", "1"]  # fmt: skip
    assert main(sweep) == 0
    return root


@pytest.fixture(scope="module")
def locked(d):
    """A process holding every ``*-locked.h5`` open for writing (as a live run does)."""
    paths = [str(d / f"{kind}-locked.h5") for kind in KINDS]
    holder = subprocess.Popen(
        [sys.executable, "-c", "import h5py, sys, time\n"
         "fs = [h5py.File(p, 'a') for p in sys.argv[1:]]; print('open', flush=True); "
         "time.sleep(120)", *paths],
        stdout=subprocess.PIPE, text=True)  # fmt: skip
    assert holder.stdout.readline().strip() == "open"
    yield
    holder.kill()
    holder.wait()


def _state(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else ""
        for p in sorted(root.rglob("*"))
    }


def check(capsys, d: Path, argv: list[str], what: str, fix: str, outs: tuple[str, ...] = ()):
    """Run the CLI on bad input: exit 2, one line naming what and how, nothing touched."""
    argv = [a.replace("{d}", str(d)) for a in argv]
    before = _state(d)
    capsys.readouterr()
    rc = main(argv)
    out, err = capsys.readouterr()
    assert rc == 2, (rc, out, err)
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert "Traceback" not in out + err
    what, fix = what.replace("{d}", str(d)), fix.replace("{d}", str(d))
    assert what in err, f"what is wrong: {what!r} not in {err!r}"
    assert fix in err, f"how to fix: {fix!r} not in {err!r}"
    assert _state(d) == before, "bad input changed, added or removed files"
    for path in outs:
        assert not Path(path.replace("{d}", str(d))).exists(), f"{path} left behind"
    return err


S, Q, OR, E = "soup/journal-v1", "quine/works-v1", "organism/float-addition-v1", "serann/smoke-v1"
NEW = "{d}/new.h5"
# (argv, what was wrong, how to fix it, paths that must not appear)
CLI = [
    # commands and options
    (["run", "soup/journl-v1"], "soup/journl-v1", "Did you mean `soup/journal-v1`", ()),
    (["show", "soup/journal-v7"], "soup/journal-v7", "Versions that exist", ()),
    (["run", S, "--seed", "-3", "--out", NEW], "got -3", "seed must be an int >= 0", (NEW,)),
    (["run", S, "--steps", "-1", "--out", NEW], "got -1", "steps must be an int >= 0", (NEW,)),
    (["run", S, "--steps", "1", "--out", "{d}/afile/run.h5"], "cannot write run file",
     "afile", ()),
    (["run", S, "--steps", "1", "--out", "{d}/soup.h5"], "refusing to overwrite",
     "pass --overwrite or choose another --out", ()),
    (["run", S, "--steps", "1", "--executor", "serial", "--out", NEW], "no independent work",
     "drop --executor", (NEW,)),
    (["resume", "{d}/soup.h5", "--steps", "-2"], "got -2", "--steps must be an int >= 0", ()),
    (["resume", "{d}/missing.h5"], "{d}/missing.h5: no such file", "check the path", ()),
    (["analyse", "{d}/soup.h5", "cuonts"], "unknown analysis 'cuonts'", "did you mean 'counts'",
     ()),
    (["analyse", "{d}/soup.h5", "--window", "3"], "takes no --window", "it takes", ()),
    (["analyse", "{d}/soup.h5", "counts", "--csv", "{d}/x/c.csv", "--clones", "3"],
     "takes no --clones", "it takes", ("{d}/x",)),
    (["plot", "{d}/missing.h5", "--out", "{d}/plots"], "no such file", "check the path",
     ("{d}/plots",)),
    (["report", "{d}/foreign.h5", "--out", "{d}/rep"], "not a neurosoup run", "neurosoup run",
     ("{d}/rep",)),
    (["reproduce", "soop", "--out", "{d}/repro"], "nothing to reproduce named 'soop'",
     "did you mean 'soup'", ("{d}/repro",)),
    (["reproduce", "soup", "--only", "nosuchrow", "--out", "{d}/repro"], "['nosuchrow']",
     "expected some of self_apply", ("{d}/repro",)),
    (["ribo", "train", "--corpus-size", "10", "--out", "{d}/ribo"], "got 10",
     "--corpus-size must be >= 1000", ("{d}/ribo",)),
    (["ribo", "stats", "--n", "0"], "got 0", "--n must be an int >= 1", ()),
    (["ribo", "stats", "--n", "-1"], "got -1", "--n must be an int >= 1", ()),
    # TOML scenario files
    (["run", "{d}/malformed.toml", "--out", NEW], "malformed TOML", "fix the syntax", (NEW,)),
    (["run", "{d}/noextends.toml"], "must name the scenario it extends",
     'e.g. extends = "soup/journal-v1"', ()),
    (["show", "{d}/badextends.toml"], "soup/jornal-v1", "Did you mean `soup/journal-v1`", ()),
    (["run", "{d}/typo.toml", "--out", NEW], "typo.toml: unknown soup setting `atack_rate`",
     "Did you mean `attack_rate`", (NEW,)),
    (["show", "{d}/seed.toml"], "got -1", "must be an int >= 0", ()),
    (["show", "{d}/type.toml"], "got 'many'", "n_particles must be an int >= 2", ()),
    (["show", "{d}/op.toml"], "`melz`", "Did you mean `melt`", ()),
    (["show", "{d}/quine.toml"], "unknown quine setting `n_particles`", "Known settings", ()),
    (["show", "{d}/evo.toml"], "got 'xyz'", "must be 26 hex digits", ()),
    (["run", "{d}/missing.toml"], "{d}/missing.toml does not exist", "check the path", ()),
    # --set: soup operators, flat keys, operators=[...] JSON, particle.*
    (["run", S, "--set", "attack.rate=1.5", "--out", NEW], "got 1.5",
     "attack.rate must be a probability in [0, 1]", (NEW,)),
    (["show", S, "--set", "attack.rate=[1]"], "got [1] (list)", "pass a number such as 0.1", ()),
    (["show", S, "--set", "atack.rate=0.1"], "unknown operator or rule `atack`",
     "Did you mean `attack`", ()),
    (["show", S, "--set", "attack.sigma=0.1"], "operator `attack` has no parameter `sigma`",
     "", ()),
    (["show", S, "--set", 'operators=[{"name": "melt", "rat": 0.1}]'], "`rat`",
     "Did you mean `rate`", ()),
    (["show", S, "--set", "operators=5"], "got int", 'e.g. [{"name": "attack", "rate": 0.1}]',
     ()),
    (["show", S, "--set", "operators=[5]"], "got 5", "each operator entry needs a name", ()),
    (["show", S, "--set", "attack_rate=-0.1"], "got -0.1", "must be a probability in [0, 1]", ()),
    (["show", S, "--set", "atack_rate=0.2"], "`atack_rate`", "Did you mean `attack_rate`", ()),
    (["show", S, "--set", "train_mode=adam"], "train_mode", "must be one of 'full', 'epoch'", ()),
    (["show", S, "--set", "particle.encodng=global"], "particle.encodng",
     "Did you mean `particle.encoding`", ()),
    (["show", S, "--set", "particle.encoding=bogus"], "unknown encoding 'bogus'",
     "expected one of 'global'", ()),
    (["show", S, "--set", "lr"], "got 'lr'", "--set expects key=value", ()),
    (["show", S, "--set", 'rules=["noisy_atack"]'], "`noisy_atack`", "Did you mean `noisy_attack`",
     ()),
    # --set: organism, quine and evolution config keys (evolution: bad genotype programs)
    (["show", OR, "--set", "task=bogus"], "got 'bogus'", "task must be one of", ()),
    (["show", OR, "--set", "layer_sizes=[2,0,1]"], "got 0", "must be an int >= 1", ()),
    (["show", OR, "--set", "n_particles=3"], "unknown organism setting `n_particles`",
     "Did you mean `n_batches`", ()),
    (["show", Q, "--set", "optimiser=adamw"], "unknown optimiser 'adamw'", "Did you mean 'adam'",
     ()),
    (["show", Q, "--set", "hidden=-1"], "got -1", "hidden must be an int >= 2", ()),
    (["show", Q, "--set", 'operators=[{"name": "attack", "rate": 0.1}]'],
     "unknown quine operator `attack`", "Known: regenerate", ()),
    (["show", E, "--set", "founders=alien"], "got 'alien'", "must be one of 'ancestor'", ()),
    (["show", E, "--set", "population=1"], "got 1", "population must be an int >= 2", ()),
    (["show", E, "--set", "ancestor_hex=zz"], "got 'zz'", "must be 26 hex digits", ()),
    (["run", E, "--set", "param_cap=10", "--out", NEW], "parameters > cap 10",
     "pick a genotype whose decoded program is valid", (NEW,)),
    (["show", E, "--set", "ancestor_hex=00000000000000000000000000"],
     "decodes to a dead program (syntax error", "pick a genotype", ()),
    # sweeps
    (["sweep", Q, "--grid", "hiden=4,8", "--out", "{d}/sw"], "unknown quine setting `hiden`",
     "Did you mean `hidden`", ("{d}/sw",)),
    (["sweep", S, "--grid", "n_particles=4,4", "--out", "{d}/sw"], "twice", "",
     ("{d}/sw",)),
    (["sweep", S, "--grid", "n_particles=", "--out", "{d}/sw"], "empty value", "",
     ("{d}/sw",)),
    (["sweep", S, "--replicates", "0", "--out", "{d}/sw"], "got 0",
     "--replicates must be an int >= 1", ("{d}/sw",)),
    (["sweep", S, "--grid", "n_particles=4", "--out", "{d}/soup.h5"], "is a file",
     "choose another --out", ()),
    (["sweep", S, "--out", "{d}/sweep", "--executor", "serial", "--set", "n_particles=4",
      "--steps", "1", "--replicates", "2"], "holds another sweep (it differs in replicates)",
     "", ()),
    (["analyse", "{d}/sweep", "counts"], "a sweep folder has one analysis",
     "drop the name", ()),
]  # fmt: skip
if not torch.cuda.is_available():
    CLI.append((["run", S, "--device", "cuda", "--out", NEW], "CUDA is not available", "",
                (NEW,)))  # fmt: skip


@pytest.mark.parametrize(("argv", "what", "fix", "outs"), CLI,
                         ids=[" ".join(c[0])[:50] for c in CLI])  # fmt: skip
def test_cli_bad_input(capsys, d, argv, what, fix, outs) -> None:
    check(capsys, d, argv, what, fix, outs)


#: damaged run files: (damage, what the message says, how to fix it)
FILE_CASES = {
    "cut": ("truncated", "copy it again or re-run"),
    "dataflip": ("/observables/", "restore the file"),
    "metaflip": ("damaged", "re-run the scenario"),
    "newer": ("format_version 99 is newer", "upgrade neurosoup"),
    "mismatch": ("root attribute kind='alchemy' but", "restore the file from a copy"),
    "alien": ("unknown model kind 'alchemy'", "Known kinds"),
}
#: an unknown kind still analyses (the generic observables, by design): only resume refuses it
RUN_FILES = [(kind, how, cmd) for kind in KINDS for how in DAMAGES for cmd in ("resume", "analyse")
             if (how, cmd) != ("alien", "analyse")]  # fmt: skip


@pytest.mark.parametrize(("kind", "how", "cmd"), RUN_FILES,
                         ids=[f"{cmd}-{kind}-{how}" for kind, how, cmd in RUN_FILES])  # fmt: skip
def test_damaged_run_file(capsys, d, kind, how, cmd) -> None:
    what, fix = FILE_CASES[how]
    path = f"{{d}}/{kind}-{how}.h5"
    extra = ["--quiet"] if cmd == "resume" else ["observables"]  # analyse reads what it shows
    err = check(capsys, d, [cmd, path, *extra], what, fix)
    assert err.startswith(f"error: {path.replace('{d}', str(d))}"), "the message names the file"


@pytest.mark.parametrize("kind", list(KINDS))
def test_plot_damaged_run_file_leaves_no_folder(capsys, d, kind) -> None:
    check(
        capsys,
        d,
        ["plot", f"{{d}}/{kind}-dataflip.h5", "--out", "{d}/figs"],
        "damaged",
        "restore",
        ("{d}/figs",),
    )


@pytest.mark.parametrize("kind", list(KINDS))
def test_locked_run_file(capsys, d, locked, kind) -> None:
    for cmd in (["resume", f"{{d}}/{kind}-locked.h5", "--quiet"],
                ["analyse", f"{{d}}/{kind}-locked.h5"]):  # fmt: skip
        check(capsys, d, cmd, "locked by another process", "wait for it to finish")


@pytest.mark.parametrize(("name", "what", "fix"), [
    ("noise.h5", "not an HDF5 file", "pass a file written by `neurosoup run --out`"),
    ("foreign.h5", "an HDF5 file but not a neurosoup run", "neurosoup run"),
])  # fmt: skip
@pytest.mark.parametrize("cmd", ["resume", "analyse", "report"])
def test_not_a_neurosoup_file(capsys, d, name, what, fix, cmd) -> None:
    extra = ["--out", "{d}/rep"] if cmd == "report" else []
    check(capsys, d, [cmd, f"{{d}}/{name}", *extra], what, fix, ("{d}/rep",))


def test_resume_refuses_a_rule_whose_code_changed(capsys, d, tmp_path) -> None:
    from neurosoup.chemistry.config import SoupConfig
    from neurosoup.chemistry.recorder import record
    from neurosoup.chemistry.rules import pair_rule
    from neurosoup.chemistry.soup import Soup

    @pair_rule(0.5, name="bad_input_drift", params={"factor": 0.5})
    def drift(actor, target, noise, *, factor):
        return target * factor

    cfg = SoupConfig(n_particles=4, train_steps=0, steps=4, operators=[
        {"name": "bad_input_drift", "rate": 1.0, "pairing": "per_actor"}])  # fmt: skip
    path = d / "rule.h5"
    record(Soup(cfg, seed=1), path, 2, progress=False)

    @pair_rule(0.5, name="bad_input_drift", params={"factor": 0.5})
    def drift2(actor, target, noise, *, factor):  # same name, other code
        return target * factor * 1.0

    check(capsys, d, ["resume", str(path), "--quiet"],
          "rule `bad_input_drift` changed since the run started",
          "restore its code or start a new run")  # fmt: skip
    with pytest.raises(ConfigError, match=r"rule parameter|must be a float"):
        SoupConfig(operators=[{"name": "bad_input_drift", "rate": 0.1, "factor": "big"}])


OK = "con = Dense(units=8)(X_layer)\nloss_balance = 0.5\n"
PROGRAMS = [
    ("import os\n" + OK, "forbidden", "import is not allowed"),
    ("from os import system\n" + OK, "forbidden", "import is not allowed"),
    ("x = os.system\n" + OK, "forbidden", "attribute access"),
    ("con = open(X_layer)\nloss_balance = 0.5\n", "unknown_name", "unknown name 'open'"),
    ("con = Dense(units=4000)(Dense(units=4000)(X_layer))\nloss_balance = 0.5\n", "cap", "> cap"),
    ("__import__ = 1\n" + OK, "forbidden", "dunder name"),
    ("con = Dense(units=8)(X_layer)\n", "missing", "does not bind 'loss_balance'"),
    ("con = Dense(units=8)(X_layer\n", "syntax", "syntax error"),
    ("con = Dense(units=8)(X_layer)\nloss_balance = 1.5\n", "range", "must be in [0, 1]"),
    ("f = lambda: 0\n" + OK, "forbidden", "lambda"),
]


@pytest.mark.parametrize(("text", "kind", "reason"), PROGRAMS,
                         ids=[p[1] + ":" + p[2][:20] for p in PROGRAMS])  # fmt: skip
def test_bad_genotype_program_is_a_death(text, kind, reason) -> None:
    assert not isinstance(interpret(OK), Death)  # the base program is valid
    dead = interpret(text)
    assert isinstance(dead, Death) and dead.kind == kind, dead
    assert reason in dead.reason and "\n" not in dead.reason


def test_interpreter_configuration_errors_are_config_errors() -> None:
    with pytest.raises(ConfigError, match=r"image_shape must be \(H, W, C\) positive ints"):
        interpret(OK, image_shape=(0, 8, 1))
    with pytest.raises(ConfigError, match="param_cap must be >= 1"):
        interpret(OK, param_cap=0)


# ---- three defect classes, covered for every command and kind (generated, not hand lists) ----
# (1) a command line that does not parse; (2) an output path the command cannot use; (3) a model
# larger than the machine. Commands come from walking the parser, kinds from the registry: a new
# command or kind is covered without editing this file.
from neurosoup.chemistry import memory  # noqa: E402
from neurosoup.chemistry.model_kinds import get_kind  # noqa: E402
from neurosoup.scenarios import list_scenarios  # noqa: E402
from neurosoup.scenarios.cli import build_parser  # noqa: E402
from neurosoup.scenarios.cli_common import iter_commands, outputs_of  # noqa: E402

COMMANDS = {" ".join(names): sub for names, sub in iter_commands(build_parser())}


def _value(action) -> str:
    """A value this option accepts (what the check under test never gets to read)."""
    if action.choices:
        return str(next(iter(action.choices)))
    return "1" if action.type in (int, float) else "x"


def _minimal(command: str) -> list[str]:
    """The command with its required arguments filled: it parses."""
    argv = command.split()
    for a in COMMANDS[command]._actions:
        if not a.option_strings:
            argv.append(_value(a))
        elif a.required:
            argv += [a.option_strings[0], _value(a)]
    return argv


def _one_line(capsys, argv: list[str]) -> str:
    capsys.readouterr()
    rc = main(argv)
    out, err = capsys.readouterr()
    assert rc == 2, (rc, out, err)
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert "usage:" not in out + err and "Traceback" not in out + err
    return err


ARGV_CASES = []
for _cmd, _sub in COMMANDS.items():
    ARGV_CASES.append((_cmd, [*_minimal(_cmd), "--no-such-option"], "unrecognized arguments"))
    if any(a.required for a in _sub._actions):
        ARGV_CASES.append((_cmd, _cmd.split(), "the following arguments are required"))
    for _a in _sub._actions:
        if _a.option_strings and _a.type in (int, float):
            ARGV_CASES.append((_cmd, [*_minimal(_cmd), _a.option_strings[0], "abc"],
                               f"invalid {_a.type.__name__} value: 'abc'"))  # fmt: skip
        if _a.option_strings and _a.choices:
            ARGV_CASES.append((_cmd, [*_minimal(_cmd), _a.option_strings[0], "bogus"],
                               "invalid choice: 'bogus'"))  # fmt: skip


@pytest.mark.parametrize(("command", "argv", "what"), ARGV_CASES,
                         ids=[" ".join(c[1]) for c in ARGV_CASES])  # fmt: skip
def test_command_line_error_is_one_line(capsys, command, argv, what) -> None:
    err = _one_line(capsys, argv)
    assert what in err and err.rstrip().endswith(f"see 'neurosoup {command} --help'"), err


def test_unknown_command_says_what_it_resembles(capsys) -> None:
    err = _one_line(capsys, ["rnu", "soup/journal-v1"])
    assert "did you mean 'run'?" in err and err.rstrip().endswith("see 'neurosoup --help'")


#: options that name something a command writes must be declared with ``add_output``
OUTPUT_NAMES = {"out", "csv", "output", "dir", "folder", "animate"}


@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_output_option_is_checked(command) -> None:
    declared = {o.dest for o in outputs_of(COMMANDS[command])}
    named = {a.dest for a in COMMANDS[command]._actions if a.dest in OUTPUT_NAMES}
    assert named <= declared, f"declare {named - declared} with cli_common.add_output"
    if any(o.what == "file" for o in outputs_of(COMMANDS[command])):
        assert "overwrite" in {a.dest for a in COMMANDS[command]._actions}, "offer --overwrite"


def _unwritable() -> Path:
    """A folder this process cannot write (root included: /sys is not writable)."""
    try:
        (Path("/sys") / "neurosoup-probe").write_bytes(b"")
    except OSError:
        return Path("/sys")
    pytest.fail("/sys is writable here: no unwritable folder to test with")


#: bad output paths: (how, what is expected there) → (path under the test folder, message)
OUTPUT_CASES = {
    ("folder-for-file", "file"): ("adir", "is a folder, but a"),
    ("existing-file", "file"): ("afile", "refusing to overwrite existing"),
    ("file-for-folder", "folder"): ("afile", "is a file, but a"),
}
OUT_CASES = [(cmd, o.option, o.what, how)
             for cmd, sub in COMMANDS.items() for o in outputs_of(sub)
             for how in ("folder-for-file", "existing-file", "file-for-folder", "file-parent",
                         "unwritable")
             if (how, o.what) in OUTPUT_CASES or how in ("file-parent", "unwritable")]  # fmt: skip


@pytest.mark.parametrize(("command", "option", "what", "how"), OUT_CASES,
                         ids=[f"{c[0]} {c[1]} {c[3]}" for c in OUT_CASES])  # fmt: skip
def test_bad_output_path(capsys, tmp_path, command, option, what, how) -> None:
    (tmp_path / "adir").mkdir()
    (tmp_path / "afile").write_text("x")
    if how == "file-parent":
        path, message = tmp_path / "afile" / "sub" / "x", "afile is a file, not a folder"
    elif how == "unwritable":
        path, message = _unwritable() / "neurosoup" / "x", "Permission denied"
    else:
        name, message = OUTPUT_CASES[(how, what)]
        path = tmp_path / name
    argv = _minimal(command)
    if option in argv:
        argv[argv.index(option) + 1] = str(path)
    else:
        argv += [option, str(path)]
    before = _state(tmp_path)
    err = _one_line(capsys, argv)
    assert message in err and option in err and str(path) in err, err
    assert _state(tmp_path) == before, "a refused output left something behind"


#: one registered scenario per kind (the first), and a size no machine here has, per kind
KIND_SCENARIO = {}
for _sc in list_scenarios():
    KIND_SCENARIO.setdefault(_sc.kind, _sc.id)
HUGE = {
    "soup": [S, "--set", "n_particles=100000000000"],
    "organism": [OR, "--set", "layer_sizes=[2,1000000,1000000,1]"],
    "quine": [Q, "--set", "hidden=1000000"],
    "evolution": [E, "--set", "population=100000000000"],
}


@pytest.mark.parametrize("kind", sorted(KIND_SCENARIO))
def test_every_kind_estimates_its_memory(kind) -> None:
    sc = next(s for s in list_scenarios() if s.id == KIND_SCENARIO[kind])
    need, settings = get_kind(kind).model.memory_need(sc.resolve())
    assert need > 0 and settings, f"kind {kind} must override memory_need"


@pytest.mark.parametrize("kind", sorted(KIND_SCENARIO))
def test_a_model_larger_than_the_machine_is_refused(capsys, tmp_path, monkeypatch, kind) -> None:
    """Every kind, its registered size, on a machine with 100 B free: refused before allocating."""
    monkeypatch.setattr(memory, "available_bytes", lambda device: (100, "available RAM"))
    new = tmp_path / "new.h5"
    err = _one_line(capsys, ["run", KIND_SCENARIO[kind], "--out", str(new), "--quiet"])
    assert f"this {kind} model needs about" in err and "100 B is available RAM" in err, err
    assert "lower " in err and not new.exists()


@pytest.mark.parametrize("kind", sorted(HUGE))
def test_a_huge_setting_is_refused_with_the_real_memory(capsys, tmp_path, kind) -> None:
    new = tmp_path / "new.h5"
    err = _one_line(capsys, ["run", *HUGE[kind], "--out", str(new)])
    assert "needs about" in err and "is available RAM" in err and not new.exists(), err


def test_memory_of_a_cuda_device_is_its_free_memory(monkeypatch) -> None:
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device: (123_000, 456_000))
    assert memory.available_bytes(torch.device("cuda:0")) == (123_000, "free on cuda:0")
    with pytest.raises(ConfigError, match=r"needs about 1 MB of memory, but 123 kB is free on "):
        memory.check_memory("soup", 10**6, "n_particles", torch.device("cuda:0"))
