"""`workbench mcp`: serve the engine to agents over the Model Context Protocol."""

from __future__ import annotations

import argparse
import os

from workbench.cli.common import CliError, add_db

NAME = "mcp"


def add(commands) -> None:
    p = commands.add_parser(
        NAME,
        help="serve the workbench to agents over MCP (stdio; --http for streamable HTTP)",
        description="An MCP server whose tools call the same engine as the CLI and the UI. "
        "stdio by default (what agent clients start); --http HOST:PORT serves streamable "
        "HTTP at /mcp, on loopback unless told otherwise; a non-loopback host needs a "
        "bearer token (--token or WORKBENCH_MCP_TOKEN), then checked on every request.",
    )
    add_db(p)
    p.add_argument("--http", metavar="HOST:PORT", help="streamable HTTP instead of stdio")
    p.add_argument(
        "--token",
        help="bearer token every HTTP request must carry (default: $WORKBENCH_MCP_TOKEN)",
    )


def run(args: argparse.Namespace) -> int:
    token = args.token or os.environ.get("WORKBENCH_MCP_TOKEN") or None
    if token and args.http is None:
        raise CliError("--token applies to --http only (stdio is reachable only by its parent)")
    try:
        from workbench.mcp_server import serve
    except ImportError as exc:  # pragma: no cover - mcp is a dependency; a broken install
        raise CliError(f"the MCP SDK is not importable ({exc}); pip install 'mcp>=2.3'") from None
    return serve(getattr(args, "db", None), http=args.http, token=token)
