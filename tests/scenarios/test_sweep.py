"""Sweeps and executors: local pool ≡ Dask ≡ in-process, lost workers, interrupted drivers."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from distributed import Client, LocalCluster

from neurosoup.chemistry.executors import (
    SerialExecutor,
    jobqueue_cluster,
    make_executor,
    parse_jobqueue,
)
from neurosoup.chemistry.recorder import open_run_spec, record
from neurosoup.particles import ConfigError
from neurosoup.scenarios import make
from neurosoup.scenarios.cli import main
from neurosoup.scenarios.sweep import (
    parse_grid,
    plan_sweep,
    run_replicate,
    run_sweep,
    split_values,
)
from tests.chemistry.toy_parallel import Groups, GroupsConfig
from tests.scenarios.helpers import assert_same_file, checkpoint_step, dump

SOUP = {"n_particles": 6, "self_train.steps": 2, "steps": 5, "checkpoint_every": 2}
QUINE = {"steps": 3, "snapshot_every": 1, "checkpoint_every": 2}
#: long enough (≈1 s each) to be killed in the middle
LONG = {"n_particles": 6, "self_train.steps": 2, "steps": 400, "snapshot_every": 50,
        "checkpoint_every": 20}  # fmt: skip
LONG_REPLICATES = 3


@pytest.fixture(scope="module")
def pool():
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as ex:
        yield ex


@pytest.fixture(scope="module")
def client():
    cluster = LocalCluster(n_workers=2, processes=True, host="127.0.0.1",
                           dashboard_address=None, threads_per_worker=1)  # fmt: skip
    with cluster, Client(cluster) as c:
        yield c


@pytest.fixture(scope="module")
def long_reference(tmp_path_factory):
    """The uninterrupted sweep, in this process: what killed sweeps must end as."""
    plan = plan_sweep("soup/journal-v1", {}, LONG_REPLICATES, sets=LONG, seed=5)
    out = tmp_path_factory.mktemp("long_ref")
    rows = run_sweep(plan, out, SerialExecutor())
    assert all(r["status"] == "done" for r in rows)
    return plan, out


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def assert_same_sweep(a: Path, b: Path, plan) -> None:
    for run in plan.runs():
        assert_same_file(a / run.file, b / run.file)
    ia, ib = pd.read_csv(a / "index.csv"), pd.read_csv(b / "index.csv")
    assert (ia["status"] == "done").all() and (ib["status"] == "done").all()
    pd.testing.assert_frame_equal(ia.drop(columns="seconds"), ib.drop(columns="seconds"))


# ---- seeds and plans ---------------------------------------------------------------------------
def test_every_replicate_has_its_own_seed_sequence_child(tmp_path) -> None:
    plan = plan_sweep("soup/journal-v1", {"n_particles": [6, 7]}, 3, sets={"steps": 2}, seed=11)
    runs = plan.runs()
    assert [r.spawn_key for r in runs] == [(p, r) for p in range(2) for r in range(3)]
    assert len({r.seed for r in runs}) == 6
    child = np.random.SeedSequence(11).spawn(2)[1].spawn(3)[2]  # point 1, replicate 2
    assert runs[5].seed == int(child.generate_state(1, dtype=np.uint64)[0]) >> 1
    more = plan_sweep("soup/journal-v1", {"n_particles": [6, 7, 8]}, 4, sets={"steps": 2},
                      seed=11).runs()  # fmt: skip
    old, new = ({r.spawn_key: r.seed for r in rs} for rs in (runs, more))
    assert old.items() <= new.items()
    # the replicate is `neurosoup run` with that seed, plus the child in its spec
    row = run_sweep(plan, tmp_path / "s", SerialExecutor())[5]
    single = make("soup/journal-v1", seed=row["seed"], n_particles=7, steps=2)
    record(single, tmp_path / "single.h5", progress=False)
    a, b = dump(tmp_path / "s" / runs[5].file), dump(tmp_path / "single.h5")
    assert sorted(a) == sorted(b)
    for key in a:
        if key != "parameters/spec":
            assert np.array_equal(np.asarray(a[key]), np.asarray(b[key])), key
    file, spec = open_run_spec(tmp_path / "s" / runs[5].file)
    file.close()
    assert spec["seed_sequence"] == {"entropy": 11, "spawn_key": [1, 2]}
    assert spec["seed"] == row["seed"]


def test_grid_values_split_outside_brackets() -> None:
    assert split_values("1, [2,3], {\"a\": 1,\"b\": 2}, 'x,y'") == [
        "1", "[2,3]", '{"a": 1,"b": 2}', "'x,y'"]  # fmt: skip
    assert parse_grid(["lr=0.01,0.04", "train_mode=epoch,step"]) == {
        "lr": [0.01, 0.04], "train_mode": ["epoch", "step"]}  # fmt: skip


# ---- identity across executors -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("scenario", "grid", "sets"),
    [("soup/journal-v1", {"lr": [0.01, 0.04], "attack.rate": [0.1, 0.5]}, SOUP),
     ("quine/vanilla-v1", {"hidden": [4, 6]}, QUINE)],
)  # fmt: skip
def test_dask_sweep_files_identical_to_local_pool(pool, client, tmp_path, scenario, grid,
                                                  sets) -> None:  # fmt: skip
    plan = plan_sweep(scenario, grid, 2, sets=sets, seed=3, device="cpu")
    local = run_sweep(plan, tmp_path / "local", pool)
    dask = run_sweep(plan, tmp_path / "dask", client.get_executor(pure=False))
    assert all(r["status"] == "done" for r in local + dask)
    assert_same_sweep(tmp_path / "local", tmp_path / "dask", plan)
    index = pd.read_csv(tmp_path / "dask" / "index.csv")
    assert len(index) == len(plan.runs()) and next(iter(grid)) == index.columns[0]
    assert set(make(scenario, **sets).result()) <= set(index.columns)
    # the folder summarises: mean ± sd per grid point, one figure per final figure
    code = main(["analyse", str(tmp_path / "dask"), "--csv", str(tmp_path / "summary.csv")])
    assert code == 0
    summary = pd.read_csv(tmp_path / "summary.csv")
    figures = [c for c in index.columns if c not in (*grid, "point", "replicate", "seed",
                                                     "file", "status", "seconds")]  # fmt: skip
    first = figures[0]
    for point, group in index.groupby("point"):
        row = summary[summary["point"] == point].iloc[0]
        assert row[f"{first}_mean"] == pytest.approx(group[first].mean())
        assert row[f"{first}_sd"] == pytest.approx(group[first].std(ddof=1), nan_ok=True)
        assert row["n"] == 2
    assert main(["plot", str(tmp_path / "dask"), "--out", str(tmp_path / "figs")]) == 0
    pngs = sorted(p.stem for p in (tmp_path / "figs").glob("*.png"))
    assert pngs == sorted(f"sweep_{n}" for n in figures)


def test_kinds_hand_independent_work_to_any_executor(pool, client, tmp_path) -> None:
    config = GroupsConfig()
    paths = {}
    for name, ex in (("none", None), ("serial", SerialExecutor()), ("pool", pool),
                     ("dask", client.get_executor(pure=False))):  # fmt: skip
        model = Groups(config, seed=4)
        model.use_executor(ex)
        record(model, tmp_path / f"{name}.h5", progress=False)
        paths[name] = tmp_path / f"{name}.h5"
    for name in ("serial", "pool", "dask"):
        assert_same_file(paths["none"], paths[name])
    with pytest.raises(ConfigError, match="no independent work"):
        make("soup/journal-v1").use_executor(SerialExecutor())


def test_a_serann_generation_on_dask_equals_the_local_one(pool, client, tmp_path) -> None:
    """Evolution hands its architecture groups to map-able executors: same file everywhere."""
    sets = {"population": 4, "train_steps": 20, "steps": 2}
    paths = {}
    for name, ex in (("inline", None), ("pool", pool), ("dask", client.get_executor(pure=False))):
        model = make("serann/smoke-v1", seed=3, **sets)
        model.use_executor(ex)
        record(model, tmp_path / f"{name}.h5", progress=False)
        paths[name] = tmp_path / f"{name}.h5"
    assert_same_file(paths["inline"], paths["pool"])
    assert_same_file(paths["inline"], paths["dask"])


# ---- faults ------------------------------------------------------------------------------------
def _pid_writing(client, path: Path) -> int | None:
    """The Dask worker process that has ``path`` open."""
    for pid in client.run(os.getpid).values():
        fd = Path(f"/proc/{pid}/fd")
        for link in fd.iterdir() if fd.exists() else []:
            try:
                if os.readlink(link) == str(path):
                    return pid
            except OSError:
                continue
    return None


def test_killed_dask_worker_loses_no_replicate(client, long_reference, tmp_path) -> None:
    plan, reference = long_reference
    out = tmp_path / "sweep"
    killed: dict = {}

    def on_done(run, row) -> None:
        if killed:
            return
        finished = {r.file: sha(out / r.file) for r in plan.runs() if (out / r.file).with_suffix(
            ".json").exists()}  # fmt: skip
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not killed:
            for r in plan.runs():
                path = (out / r.file).resolve()
                if r.file in finished or checkpoint_step(path) < 40:
                    continue
                pid = _pid_writing(client, path)
                if pid is not None:
                    os.kill(pid, signal.SIGKILL)
                    killed.update(run=r, pid=pid, finished=finished)
                    break
            time.sleep(0.02)

    rows = run_sweep(plan, out, client.get_executor(pure=False), on_done=on_done)
    assert killed, "no replicate was caught in the middle"
    assert all(r["status"] == "done" for r in rows)
    for file, digest in killed["finished"].items():
        assert sha(out / file) == digest, f"finished {file} was touched"
    victim = rows[plan.runs().index(killed["run"])]
    assert victim["start_step"] >= 40, "the lost replicate resumed from its checkpoint"
    assert_same_sweep(reference, out, plan)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def test_interrupted_sweep_resumes_identical(long_reference, tmp_path) -> None:
    plan, reference = long_reference
    out = tmp_path / "sweep"
    args = ["sweep", "soup/journal-v1", "--replicates", str(LONG_REPLICATES), "--seed", "5",
            "--out", str(out)]  # fmt: skip
    for key, value in LONG.items():
        args += ["--set", f"{key}={value}"]
    cmd = [sys.executable, "-m", "neurosoup.scenarios.cli", *args, "--workers", "1"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    child = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             start_new_session=True)  # fmt: skip
    runs = plan.runs()
    first, second = out / runs[0].file, out / runs[1].file
    deadline = time.monotonic() + 60
    try:
        while not (first.with_suffix(".json").exists() and checkpoint_step(second) >= 40):
            assert child.poll() is None, child.stderr.read().decode()
            assert time.monotonic() < deadline, "the sweep made no progress"
            time.sleep(0.02)
    finally:
        os.killpg(child.pid, signal.SIGKILL)  # the driver and its pool worker
        child.wait()
    while _group_alive(child.pid):  # the orphaned pool worker dies a moment later
        time.sleep(0.01)
    digest = sha(first)
    assert main([*args, "--executor", "serial"]) == 0  # the same sweep again: resume
    assert sha(first) == digest, "a finished replicate was run again"
    second_row = json.loads(second.with_suffix(".json").read_text())
    assert second_row["start_step"] >= 40
    assert_same_sweep(reference, out, plan)


def test_a_replicate_file_locked_by_a_live_writer_is_left_alone(tmp_path) -> None:
    plan = plan_sweep("soup/journal-v1", {}, 1, sets={"steps": 1, "n_particles": 4})
    run = plan.runs()[0]
    path = tmp_path / run.file
    path.parent.mkdir(parents=True)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import h5py, sys, time; f = h5py.File(sys.argv[1], 'w'); "
         "print('open', flush=True); time.sleep(60)", str(path)],
        stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "open"
        with pytest.raises(ConfigError, match="being written by another process"):
            run_replicate(run, str(tmp_path))
    finally:
        holder.kill()
        holder.wait()
    assert run_replicate(run, str(tmp_path))["steps"] == 1  # once the writer is gone


# ---- bad input and cluster plumbing ------------------------------------------------------------
@pytest.mark.parametrize(
    ("extra", "message"),
    [(["--grid", "n_partcles=4,5"], "Did you mean `n_particles`"),
     (["--grid", "n_particles="], "empty value"),
     (["--grid", "n_particles=4,,5"], "empty value"),
     (["--grid", "n_particles=4,4"], "twice"),
     (["--grid", "n_particles=4", "--set", "n_particles=5"], "both swept"),
     (["--grid", "n_particles=0,4"], "grid point n_particles=0"),
     (["--replicates", "0"], "--replicates must be an int >= 1"),
     (["--executor", "dask", "--scheduler", "tcp://127.0.0.1:1", "--connect-timeout", "0.5"],
      "cannot reach the Dask scheduler at tcp://127.0.0.1:1"),
     (["--executor", "local", "--scheduler", "tcp://127.0.0.1:1"], "need --executor dask"),
     (["--workers", "0"], "--workers must be an int >= 1"),
     (["--slurm", "walltime=1:00:00"], "--slurm needs cores=N"),
     (["--slurm", "cores=2,walltime=1:00:00"], "`sbatch`, which is not on PATH")],
)  # fmt: skip
def test_bad_sweep_input_is_one_line_exit_2(tmp_path, capsys, extra, message) -> None:
    out = tmp_path / "sweep"
    code = main(["sweep", "soup/journal-v1", "--out", str(out), "--steps", "1", *extra])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1, err
    assert message in err
    assert not out.exists(), "bad input left a sweep folder behind"


def test_sweep_out_must_be_a_folder_of_this_sweep(tmp_path, capsys) -> None:
    (tmp_path / "file").write_text("x")
    assert main(["sweep", "soup/journal-v1", "--out", str(tmp_path / "file")]) == 2
    assert "is a file" in capsys.readouterr().err
    base = ["sweep", "soup/journal-v1", "--out", str(tmp_path / "s"), "--executor", "serial",
            "--set", "n_particles=4", "--steps", "1"]  # fmt: skip
    assert main(base) == 0
    capsys.readouterr()
    assert main([*base, "--replicates", "2"]) == 2
    assert "holds another sweep (it differs in replicates)" in capsys.readouterr().err
    assert main(["run", "soup/journal-v1", "--steps", "1", "--executor", "serial"]) == 2
    assert "no independent work" in capsys.readouterr().err


def test_jobqueue_scripts_without_a_batch_system() -> None:
    options = parse_jobqueue("slurm", "cores=4,walltime=01:30:00,queue=short")
    assert options == {"cores": 4, "walltime": "01:30:00", "queue": "short", "memory": "16GB",
                       "processes": 4}  # fmt: skip
    for kind, marker in (("slurm", "#SBATCH"), ("pbs", "#PBS")):
        cluster = jobqueue_cluster(kind, {**options, "scheduler_options": {
            "dashboard_address": ":0", "host": "127.0.0.1"}})  # fmt: skip
        try:
            script = cluster.job_script()
        finally:
            cluster.close()
        assert marker in script and "01:30:00" in script, script
        assert "--nworkers 4" in script and "--nthreads 1" in script, script
    with pytest.raises(ConfigError, match="key=value"):
        parse_jobqueue("slurm", "cores")
    with pytest.raises(ConfigError, match="unknown executor"), make_executor("mpi"):
        pass
