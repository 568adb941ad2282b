"""Per-frame time of the ``neurosoup view`` page for a live soup: figures built and PNG-encoded.

    .venv/bin/python benchmarks/view_frame.py                   # N = 10³ and 10⁴
    .venv/bin/python benchmarks/view_frame.py --sizes 10000 --repeats 5

A frame is what the server does after each step before the browser can show it: every
panel's figure built (``panels.figures``) and encoded as PNG at the page's 80 dpi
(``fast.png``, what the panels send). The tick itself (the model's step) is timed apart. The
live journal soup (attack single 10 %, 20 self-train steps) is stepped 3 ticks first so the
history and the map's projection exist; timings are the best of ``--repeats``, 1 thread.
CPU time (``process_time``) is printed beside wall time: on a shared machine the wall time
grows with the load average, the CPU time much less.
The browser's own time (websocket, decoding the PNGs) is not included: the end-to-end test
(tests/viz/test_view.py) measures click → status line updated.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from neurosoup.scenarios.viz.fast import png
from neurosoup.scenarios.viz.models import live_model
from neurosoup.scenarios.viz.panels import figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--scenario", default="soup/journal-v1")
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"{args.scenario}; best of {args.repeats}; PNG at 80 dpi; 1 thread")
    for n in args.sizes:
        model = live_model(args.scenario, {"n_particles": n})
        for _ in range(3):
            model.step()
        tick = float("inf")
        for _ in range(args.repeats):
            t = time.perf_counter()
            model.step()
            tick = min(tick, time.perf_counter() - t)
        parts, cpu = {}, {}
        for name, fn in figures(model).items():
            best = best_cpu = float("inf")
            for _ in range(args.repeats):
                t, c = time.perf_counter(), time.process_time()
                fig = fn(model)
                if fig is not None:
                    png(fig)
                best = min(best, time.perf_counter() - t)
                best_cpu = min(best_cpu, time.process_time() - c)
            parts[name], cpu[name] = best, best_cpu
        shown = ", ".join(f"{k} {v * 1e3:.0f} ms" for k, v in parts.items())
        print(f"N = {n:>6}: frame {sum(parts.values()) * 1e3:6.0f} ms wall, "
              f"{sum(cpu.values()) * 1e3:.0f} ms CPU ({shown}); tick {tick * 1e3:.0f} ms; "
              f"load average {os.getloadavg()[0]:.1f}")  # fmt: skip


if __name__ == "__main__":
    main()
