"""``neurosoup plot FILE --animate OUT.gif|OUT.mp4 [--every k]`` for every kind."""

from __future__ import annotations

import math
import shutil
import subprocess

import h5py
import numpy as np
import pytest
from PIL import Image

from neurosoup.particles.runformat import common, evolution, quine, soup
from neurosoup.scenarios.cli import main


def _snapshots(path) -> int:
    """Snapshots of a run file, counted from the file itself (not from the storyboard)."""
    with h5py.File(path, "r") as f:
        kind = f.attrs[common.ATTR_KIND]
        if kind in ("soup", "organism"):
            return len(f[f"{soup.PARTICLES}/{common.WEIGHTS}/{common.STEP}"])
        if kind == "quine":
            return len(f[f"{quine.WEIGHTS}/{common.STEP}"])
        table = f[evolution.POPULATION]  # one frame per recorded generation
        return len(np.unique(table[evolution.STEP_COLUMN][()]))


@pytest.mark.parametrize("kind", ["soup", "organism", "quine", "evolution"])
def test_gif_has_one_frame_per_kth_snapshot(kind, kind_runs, tmp_path, capsys) -> None:
    path = kind_runs[kind]
    before = path.read_bytes()
    s = _snapshots(path)
    assert s >= 3
    out = tmp_path / f"{kind}.gif"
    assert main(["plot", str(path), "--animate", str(out), "--every", "2"]) == 0
    assert f"({math.ceil(s / 2)} frames" in capsys.readouterr().out
    with Image.open(out) as gif:
        assert gif.n_frames == math.ceil(s / 2)
        pixels = []
        for i in range(gif.n_frames):
            gif.seek(i)
            pixels.append(np.asarray(gif.convert("RGB")))
    assert not np.array_equal(pixels[0], pixels[-1])  # the frames show different steps
    assert path.read_bytes() == before  # read-only


@pytest.mark.skipif(shutil.which("ffprobe") is None, reason="needs ffmpeg (apt-get install ffmpeg)")
def test_mp4_through_ffmpeg(kind_runs, tmp_path) -> None:
    out = tmp_path / "soup.mp4"
    assert main(["plot", str(kind_runs["soup"]), "--animate", str(out), "--every", "3"]) == 0
    counted = subprocess.run(
        ["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries",
         "stream=nb_read_frames", "-of", "csv=p=0", str(out)],
        capture_output=True, text=True, check=True,
    ).stdout.strip()
    assert int(counted) == math.ceil(_snapshots(kind_runs["soup"]) / 3)


def test_bad_requests_get_one_line(kind_runs, tmp_path, capsys, monkeypatch) -> None:
    soup = str(kind_runs["soup"])
    cases = [
        (["--animate", str(tmp_path / "a.avi")], "--animate writes .gif or .mp4"),
        (["--animate", str(tmp_path / "a.gif"), "--every", "0"], "--every must be an int >= 1"),
        ([], "plot needs --out DIR"),
    ]
    for extra, message in cases:
        assert main(["plot", soup, *extra]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and message in err
    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert main(["plot", soup, "--animate", str(tmp_path / "a.mp4")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "apt-get install -y ffmpeg" in err
    assert not list(tmp_path.iterdir())  # nothing written
