"""`workbench daemon start|stop|status`: the command server that makes frequent calls (hooks,
searches, queries) skip the interpreter's imports (see workbench/daemon.py)."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

from workbench import daemon
from workbench.cli.common import CliError

NAME = "daemon"


def add(commands) -> None:
    p = commands.add_parser(
        NAME,
        help="a command server that makes hooks and read-only calls start fast",
        description="Keeps one process with workbench's imports done; `workbench` calls of "
        "the forwarded commands (store stats, hub query/list/popular/show/inbox, memory "
        "search/get/stats, patterns analyze, hooks run) run in a worker forked from it, on "
        "the caller's own terminal, directory and environment. Per user, on a unix socket in "
        "$WORKBENCH_DAEMON_DIR, $XDG_RUNTIME_DIR/workbench or /tmp/workbench-UID. "
        "WORKBENCH_DAEMON=0 turns forwarding off.",
    )
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    start = actions.add_parser("start", help="start the server in the background")
    start.add_argument(
        "--idle",
        type=float,
        default=daemon.DEFAULT_IDLE_S,
        help=f"exit after this many seconds without a call (default {daemon.DEFAULT_IDLE_S:g})",
    )
    start.add_argument("--foreground", action="store_true", help="serve in this process")
    actions.add_parser("stop", help="stop the server")
    status = actions.add_parser("status", help="whether a server runs, and what it served")
    status.add_argument("--json", action="store_true", help="machine-readable output")


def run(args: argparse.Namespace) -> int:
    directory = daemon.socket_dir()
    if args.action == "start":
        return start(directory, args.idle, args.foreground)
    if args.action == "stop":
        answer = daemon.request("stop")
        print(f"stopped (pid {answer['stopping']})" if answer else "no workbench daemon runs")
        return 0
    info = daemon.request("status")
    if args.json:
        print(json.dumps(info))
    elif info is None:
        print(f"no workbench daemon runs (socket directory {directory})")
    else:
        up = time.time() - info["started"]
        print(
            f"workbench daemon {info['version']} · pid {info['pid']} · up {up:.0f} s · "
            f"{info['served']} commands served · {info['socket']}"
        )
    return 0 if info is not None else 1


def start(directory: str, idle: float, foreground: bool) -> int:
    if idle <= 0:
        raise CliError(f"--idle must be positive: {idle:g}")
    if foreground:
        try:
            server = daemon.Server(directory, idle)
        except ValueError as exc:
            raise CliError(str(exc)) from None
        print(f"listening on {server.path}", flush=True)
        server.serve_forever()
        return 0
    if daemon.request("status") is not None:
        print(f"a workbench daemon already runs ({os.path.join(directory, daemon.SOCKET_NAME)})")
        return 0
    os.makedirs(directory, mode=0o700, exist_ok=True)
    problem = daemon.private_dir_problem(directory)
    if problem:
        raise CliError(f"daemon directory refused: {problem}")
    log_path = os.path.join(directory, daemon.LOG_NAME)
    with open(log_path, "ab") as log:
        child = subprocess.Popen(
            [sys.executable, "-m", "workbench", "daemon", "start", "--foreground",
             "--idle", str(idle)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
            env={**os.environ, daemon.DISABLE_ENV: "0"},
        )  # fmt: skip
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        info = daemon.request("status")
        if info is not None:
            print(f"workbench daemon started: pid {info['pid']}, socket {info['socket']}")
            return 0
        if child.poll() is not None:
            break
        time.sleep(0.05)
    raise CliError(f"the daemon did not start; see {log_path}")
