"""`workbench agents ...`: recorded coding-agent sessions.

Only the privacy commands live here on this branch (`cli/agents_privacy.py`); the agents
branch adds `record`, `import`, `list`, `show`, `errors` to the same group.
"""

from __future__ import annotations

import argparse

from workbench.cli import agents_privacy

NAME = "agents"


def add(commands) -> None:
    parser = commands.add_parser("agents", help="recorded coding-agent sessions")
    sub = parser.add_subparsers(dest="agents_command", metavar="SUBCOMMAND", required=True)
    agents_privacy.add(sub)


def run(args: argparse.Namespace) -> int:
    return agents_privacy.run(args)
