"""``neurosoup view``: the real solara server driven by Debian's headless Chromium.

Playwright for Python (the pip package only) drives ``/usr/bin/chromium`` (Debian's
``chromium``; nothing downloads a browser). ``.ci/run`` installs both. Screenshots are saved
under the test's temporary folder.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from neurosoup.scenarios.cli import main

CHROMIUM = "/usr/bin/chromium"
pytest.importorskip("solara", reason="needs the viz extra: pip install 'neurosoup[viz]'")
playwright = pytest.importorskip("playwright.sync_api", reason="pip install 'neurosoup[viz]'")
needs_chromium = pytest.mark.skipif(
    shutil.which(CHROMIUM) is None, reason="needs Debian's chromium: apt-get install -y chromium"
)
STATUS = re.compile(r"step -?\d+ ·")
CODE = "from neurosoup.scenarios.cli import main; raise SystemExit(main())"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``neurosoup view TARGET --port P`` in a child process."""

    def __init__(self, target: str, log: Path, *options: str) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log = log
        self.proc = subprocess.Popen(
            [sys.executable, "-c", CODE, "view", target, *options, "--port", str(self.port)],
            stdout=log.open("w"), stderr=subprocess.STDOUT,
        )  # fmt: skip

    def wait(self, timeout: float = 150) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise AssertionError(f"view exited {self.proc.returncode}: {self.log.read_text()}")
            try:
                with urllib.request.urlopen(self.url, timeout=5) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.5)
        raise AssertionError(f"view did not answer within {timeout} s: {self.log.read_text()}")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


@pytest.fixture(scope="module")
def servers(kind_runs, tmp_path_factory):
    """One live server (soup/journal-v1) and one replay server per kind, started together."""
    logs = tmp_path_factory.mktemp("view_logs")
    started = {"live": Server("soup/journal-v1", logs / "live.log", "--seed", "2")}  # 1st
    # fixpoint at tick 7 (seed 0: tick 17)
    for kind, path in kind_runs.items():
        started[kind] = Server(str(path), logs / f"{kind}.log")
    yield started
    for server in started.values():
        server.stop()


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


def _open(browser, server: Server):
    server.wait()
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(server.url, wait_until="networkidle", timeout=120_000)
    page.get_by_text(STATUS).wait_for(timeout=60_000)
    return page


def _status(page) -> str:
    return page.get_by_text(STATUS).inner_text()


def _shot(page, path: Path) -> np.ndarray:
    page.screenshot(path=str(path))
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def _step_to(page, n: int) -> None:
    page.get_by_role("button", name="Step").click()
    page.get_by_text(re.compile(rf"step {n} ·")).wait_for(timeout=60_000)


@needs_chromium
def test_live_soup_steps_and_plays(servers, browser, tmp_path) -> None:
    page = _open(browser, servers["live"])
    first = _status(page)
    assert first.startswith("step 0 ·") and "other 20" in first
    before = _shot(page, tmp_path / "live_0.png")
    for n in (1, 2, 3):
        _step_to(page, n)
    page.get_by_role("button", name="▶").click()  # play until the first fixpoint appears
    page.get_by_text(re.compile(r"fixpoint [1-9]")).wait_for(timeout=90_000)
    page.get_by_role("button", name="❚❚").click()
    after = _status(page)
    assert after != first and "other 20" not in after
    shot = _shot(page, tmp_path / "live_1.png")
    # 7 ticks later: status, counts chart and map differ (measured 0.8 % of the pixels)
    assert shot.shape == before.shape and (shot != before).any(axis=2).mean() > 0.002
    page.close()


@needs_chromium
@pytest.mark.parametrize("kind", ["soup", "organism", "quine", "evolution"])
def test_replay_walks_the_frames(kind, servers, browser, kind_runs, tmp_path) -> None:
    before_bytes = kind_runs[kind].read_bytes()
    page = _open(browser, servers[kind])
    first = _status(page)
    shot0 = _shot(page, tmp_path / f"{kind}_0.png")
    start = int(first.split()[1])
    _step_to(page, start + 1)
    _step_to(page, start + 2)
    assert _status(page) != first
    shot1 = _shot(page, tmp_path / f"{kind}_1.png")
    assert (shot1 != shot0).any(axis=2).mean() > 0.005
    page.close()
    assert kind_runs[kind].read_bytes() == before_bytes  # replay never writes


def test_damaged_file_and_busy_port_get_one_line(kind_runs, tmp_path, capsys) -> None:
    bad = tmp_path / "bad.h5"
    data = kind_runs["soup"].read_bytes()
    bad.write_bytes(data[: len(data) // 2])  # cut: a copy that stopped half-way
    assert main(["view", str(bad), "--port", str(_free_port())]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and "bad.h5" in err
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["view", "soup/journal-v1", "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"port {port} on 127.0.0.1 is in use; try --port" in err
    other = int(err.rsplit(" ", 1)[1])
    assert other != port
    assert main(["view", "soup/jurnal-v1"]) == 2
    assert "Did you mean" in capsys.readouterr().err
