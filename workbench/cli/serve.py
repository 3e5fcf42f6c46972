"""`workbench serve`: the UI in a browser (textual-serve), loopback unless told otherwise."""

from __future__ import annotations

import argparse
import os

from workbench.cli.common import add_db
from workbench.netutil import require_token_off_loopback

NAME = "serve"


def add(commands) -> None:
    p = commands.add_parser(
        NAME,
        help="serve the UI to a browser (textual-serve)",
        description="Serves the same app to web browsers: each tab runs its own app process "
        "on the same store. Binds 127.0.0.1 unless --host says otherwise; any other host "
        "needs --token (or WORKBENCH_SERVE_TOKEN), and the browser then opens "
        "http://HOST:PORT/?token=TOKEN once.",
    )
    add_db(p)
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--token", help="required on every request (default $WORKBENCH_SERVE_TOKEN)")
    p.add_argument(
        "--public-url", help="the URL browsers use, when it differs from http://HOST:PORT"
    )


def run(args: argparse.Namespace) -> int:
    token = args.token or os.environ.get("WORKBENCH_SERVE_TOKEN") or None
    require_token_off_loopback(args.host, token, "--token (or WORKBENCH_SERVE_TOKEN)")
    if not 0 < args.port < 65536:
        raise ValueError(f"--port out of range: {args.port}")
    from workbench.serve import serve

    return serve(getattr(args, "db", None), args.host, args.port, token, args.public_url)
