"""The ``view`` command: check the target and the port, then serve the solara app.

``neurosoup view ID|FILE [--set K=V] [--seed S] [--port P] [--host H]``: a scenario id or
TOML file runs live; a run file (``.h5``) is replayed, opened read-only and refused when
damaged (the CLI's one-line ``error:``). A port in use is refused with one line naming a free
one.
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import socket
from importlib.util import find_spec
from pathlib import Path

from neurosoup.particles import DependencyNotInstalled, NeurosoupError

from ..runner import parse_sets, resolve

DEFAULT_PORT = 8765
DESCRIPTION = ("A scenario id or TOML file runs live (step, play, pause, reset; its main "
               "parameters as controls); a run file (.h5) is replayed read-only (a frame slider "
               "and play). Needs the viz extra: pip install 'neurosoup[viz]'.")
APP = "neurosoup.scenarios.viz.app"


def check_port(host: str, port: int) -> None:
    """Raise one line naming a free port when ``host:port`` cannot be bound."""
    if not 0 < port < 65536:
        raise NeurosoupError(f"--port must lie in 1…65535, got {port}")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((host, port))
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise NeurosoupError(
                    f"cannot listen on {host}:{port} ({exc.strerror}); pass --host 127.0.0.1 "
                    "or another --port"
                ) from None
            raise NeurosoupError(f"port {port} on {host} is in use; try --port "
                                 f"{free_port(host)}") from None  # fmt: skip


def free_port(host: str = "127.0.0.1") -> int:
    """A port the OS reports free on ``host`` now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def is_run_file(target: str) -> bool:
    """True for an existing file that is not a TOML scenario file (a run file to replay)."""
    return Path(target).is_file() and not target.endswith(".toml")


def view_request(target: str, sets: dict, seed: int | None = None) -> dict:
    """What the app shows, checked before the server starts (bad input: one line)."""
    if is_run_file(target):
        if sets or seed is not None:
            raise NeurosoupError("--set and --seed change a live scenario; a replayed run file "
                                 "is shown as recorded: drop them")  # fmt: skip
        from neurosoup.analysis import open_run

        with open_run(target) as run:  # read-only; a damaged file raises SnapshotError
            run.verify()
        return {"mode": "replay", "target": str(Path(target).resolve()), "sets": {}}
    _, _, file_seed = resolve(target, sets)  # an unknown id or a bad --set fails here
    seed = seed if seed is not None else (file_seed if file_seed is not None else 0)
    return {"mode": "live", "target": target, "sets": sets, "seed": seed}


def cmd_view(args: argparse.Namespace) -> int:
    """Serve the page until interrupted."""
    if find_spec("solara") is None or find_spec("uvicorn") is None:
        raise DependencyNotInstalled(
            "neurosoup view needs the viz extra (Mesa's SolaraViz on solara): "
            "pip install 'neurosoup[viz]'"
        )
    request = view_request(args.target, parse_sets(args.set), args.seed)
    check_port(args.host, args.port)
    os.environ["NEUROSOUP_VIEW"] = json.dumps(request)
    os.environ["SOLARA_APP"] = APP
    os.environ["SERVER_NAME"], os.environ["SERVER_PORT"] = args.host, str(args.port)
    import uvicorn

    print(f"neurosoup view ({request['mode']}): http://{args.host}:{args.port}  (Ctrl-C stops)",
          flush=True)  # fmt: skip
    uvicorn.run("solara.server.starlette:app", host=args.host, port=args.port,
                log_level="warning", ws_ping_interval=None)  # fmt: skip
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``view`` on the CLI's sub-parser set."""
    p = sub.add_parser("view", help="watch a scenario live or replay a run file in the browser",
                       description=DESCRIPTION)  # fmt: skip
    p.add_argument("target", metavar="ID|FILE", help="scenario id, TOML file or run file (.h5)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="live mode: override a setting, e.g. n_particles=100")
    p.add_argument("--seed", type=int, default=None, help="live mode: the seed (default 0)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"default {DEFAULT_PORT}")
    p.add_argument("--host", default="127.0.0.1", help="default 127.0.0.1 (this machine only)")
    p.set_defaults(func=cmd_view)
