"""The headless CLI. `workbench` alone opens the UI; subcommands run the same Engine.

Errors a user can fix (bad --db, locked store, bad input) print one line on stderr and
exit with status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from workbench import __version__
from workbench.store.errors import StoreError

EXIT_USAGE = 2


class CliError(Exception):
    """A user-facing failure: printed as one line, exit status 2."""


def _add_db(parser: argparse.ArgumentParser, top: bool = False) -> None:
    parser.add_argument(
        "--db",
        metavar="PATH",
        default=None if top else argparse.SUPPRESS,
        help="store location (default: $WORKBENCH_DB, else .workbench/workbench.db)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="workbench",
        description="A workbench for self-improving agent systems. Without a command, "
        "opens the terminal UI.",
    )
    parser.add_argument("--version", action="version", version=f"workbench {__version__}")
    _add_db(parser, top=True)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    init = commands.add_parser("init", help="create the store and seed it from sample_data/")
    _add_db(init)
    init.add_argument("--json", action="store_true", help="machine-readable output")

    store = commands.add_parser("store", help="inspect the store")
    store_cmds = store.add_subparsers(dest="store_command", metavar="SUBCOMMAND", required=True)
    stats = store_cmds.add_parser("stats", help="row counts per table")
    _add_db(stats)
    stats.add_argument("--json", action="store_true", help="machine-readable output")
    return parser


def _engine(args: argparse.Namespace):
    from workbench.engine import Engine

    return Engine(args.db)


def cmd_init(args: argparse.Namespace) -> int:
    with _engine(args) as engine:
        added = engine.seed()
        result = {
            "db": str(engine.db_path),
            "schema_version": engine.schema_version,
            "created": engine.created,
            "added": added,
        }
    if args.json:
        print(json.dumps(result, indent=2, sort_keys=True))
        return 0
    state = "created" if result["created"] else "opened"
    print(f"{state} store {result['db']} (schema v{result['schema_version']})")
    if added:
        for table, n in sorted(added.items()):
            print(f"  seeded {n:>5}  {table}")
    else:
        print("  nothing to seed: the store already has all sample data")
    return 0


def cmd_store_stats(args: argparse.Namespace) -> int:
    with _engine(args) as engine:
        counts = engine.stats()
        result = {
            "db": str(engine.db_path),
            "schema_version": engine.schema_version,
            "tables": counts,
        }
    if args.json:
        print(json.dumps(result, indent=2, sort_keys=True))
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{result['db']}  (schema v{result['schema_version']})")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, n in counts.items():
        table.add_row(name, str(n))
    Console().print(table)
    return 0


def run_ui(args: argparse.Namespace) -> int:
    from workbench.engine import Engine
    from workbench.ui.app import WorkbenchApp

    engine = Engine(args.db)
    try:
        engine.ensure_seeded()
        WorkbenchApp(engine).run()
    finally:
        engine.close()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "init":
            return cmd_init(args)
        if args.command == "store":
            return cmd_store_stats(args)
        return run_ui(args)
    except (StoreError, CliError, ValueError) as exc:
        print(f"workbench: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
