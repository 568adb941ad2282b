"""Animations of a run file: every k-th frame of its storyboard as a GIF or an MP4.

GIFs are written by Pillow; MP4s by the ``ffmpeg`` program (Debian package ``ffmpeg``), fed
raw RGB frames on its standard input. Frames are the snapshots 0, k, 2k, … of the run
(``ceil(S / k)`` of them), drawn by ``storyboard.py`` from the run file alone.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from itertools import chain
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from neurosoup.particles import ConfigError, DependencyNotInstalled

from .load import Run
from .storyboard import storyboard

FORMATS = (".gif", ".mp4")


def frame_indices(n_frames: int, every: int = 1) -> np.ndarray:
    """Indices 0, k, 2k, … < S of the frames an animation shows: ``ceil(S / k)`` of them."""
    if isinstance(every, bool) or not isinstance(every, int) or every < 1:
        raise ConfigError(f"--every must be an int >= 1, got {every!r}")
    return np.arange(0, n_frames, every)


def _rgb(fig: Figure) -> np.ndarray:
    """The pixels of a figure on the Agg canvas, [H, W, 3] uint8."""
    fig.canvas.draw()
    rgba = np.asarray(fig.canvas.buffer_rgba())
    return np.ascontiguousarray(rgba[..., :3])


def frames(run: Run, every: int = 1, dpi: int = 80) -> Iterator[np.ndarray]:
    """The RGB frames [H, W, 3] uint8 of every k-th snapshot, one at a time."""
    board = storyboard(run)
    for i in frame_indices(len(board), every):
        fig = board.draw(int(i))
        fig.set_dpi(dpi)
        yield _rgb(fig)


def check_output(out: str | Path) -> Path:
    """The output path of an animation: ``.gif`` or ``.mp4`` (MP4 needs ``ffmpeg``)."""
    path = Path(out)
    if path.suffix.lower() not in FORMATS:
        raise ConfigError(
            f"--animate writes .gif or .mp4, got {str(out)!r}; e.g. --animate run.gif"
        )
    if path.suffix.lower() == ".mp4" and shutil.which("ffmpeg") is None:
        raise DependencyNotInstalled(
            "MP4 needs the ffmpeg program, which is not installed; apt-get install -y ffmpeg, "
            "or write a GIF (--animate run.gif)"
        )
    if path.exists() and path.is_dir():
        raise ConfigError(f"--animate {out}: that is a folder; give a file name such as run.gif")
    return path


def animate(run: Run, out: str | Path, every: int = 1, fps: float = 4.0) -> int:
    """Write the run's animation to ``out`` (.gif or .mp4); returns the number of frames."""
    path = check_output(out)
    board = storyboard(run)
    if len(board) == 0:
        raise ConfigError(f"{run.path} holds no {board.title} frames to animate")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.part{path.suffix}")
    try:
        if path.suffix.lower() == ".gif":
            n = _write_gif(frames(run, every), tmp, fps)
        else:
            n = _write_mp4(frames(run, every), tmp, fps)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return n


def _write_gif(images: Iterator[np.ndarray], path: Path, fps: float) -> int:
    from PIL import Image

    pics = [Image.fromarray(a) for a in images]
    pics[0].save(path, format="GIF", save_all=True, append_images=pics[1:],
                 duration=int(1000 / fps), loop=0, disposal=1)  # fmt: skip
    return len(pics)


def _write_mp4(images: Iterator[np.ndarray], path: Path, fps: float) -> int:
    first = next(images)
    h, w = first.shape[:2]
    cmd = ["ffmpeg", "-y", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgb24",
           "-s", f"{w}x{h}", "-r", f"{fps}", "-i", "-", "-vf",
           "pad=ceil(iw/2)*2:ceil(ih/2)*2", "-pix_fmt", "yuv420p", "-f", "mp4",
           str(path)]  # fmt: skip
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    n = 0
    try:
        for img in chain([first], images):
            proc.stdin.write(img.tobytes())  # type: ignore[union-attr]
            n += 1
        proc.stdin.close()  # type: ignore[union-attr]
    except BrokenPipeError:
        pass
    err = proc.stderr.read().decode(errors="replace").strip()  # type: ignore[union-attr]
    if proc.wait() != 0:
        last = err.splitlines()[-1] if err else f"exit status {proc.returncode}"
        raise ConfigError(f"ffmpeg could not write {path.name}: {last}")
    return n


__all__ = ["FORMATS", "animate", "check_output", "frame_indices", "frames"]
