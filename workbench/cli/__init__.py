"""The headless CLI. `workbench` alone opens the UI; subcommands run the same Engine.

Errors a user can fix (bad --db, locked store, bad input) print one line on stderr and
exit with status 2. The exception is `workbench hooks run`, called by coding agents on every
tool call: it always exits 0 (see workbench/agents/hookrun.py) and is dispatched before the
command groups are imported, so it starts fast.
"""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import TYPE_CHECKING

from workbench import __version__
from workbench.cli.common import EXIT_USAGE, CliError, add_db, open_engine, print_json
from workbench.daemon import forward as forward_to_daemon
from workbench.textsafe import clean

if TYPE_CHECKING:
    import argparse

# Each command group is a module workbench/cli/<name>.py with NAME, add(commands) and
# run(args). A call imports and builds only the group it runs (start-up time: see
# benchmarks/cli_startup.py); `--help` and unknown commands build them all.
GROUPS = ("neural", "pipeline", "memory", "hub", "strategy", "perf", "patterns", "learn",
          "hooks", "agents", "tasks", "mcp", "serve", "doctor", "daemon")  # fmt: skip
# Commands defined in this module (they need no group module).
BUILT_IN = ("init", "store", "bench")


def group(name: str) -> ModuleType:
    return importlib.import_module(f"workbench.cli.{name}")


def command_of(argv: Sequence[str]) -> str | None:
    """The command word of an argument list: the first that is not an option (nor the
    value of the top-level --db)."""
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--db":
            skip = True
        elif arg == "--":
            return None
        elif not arg.startswith("-"):
            return arg
    return None


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The argument parser; with `only` (a command word), no group module but the one it
    names is imported and built."""
    import argparse  # not at import time: `hooks run` is dispatched before any parser

    parser = argparse.ArgumentParser(
        prog="workbench",
        description="A workbench for self-improving agent systems. Without a command, "
        "opens the terminal UI.",
    )
    parser.add_argument("--version", action="version", version=f"workbench {__version__}")
    add_db(parser, top=True)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    init = commands.add_parser("init", help="create the store and seed it from sample_data/")
    add_db(init)
    init.add_argument("--json", action="store_true", help="machine-readable output")

    store = commands.add_parser("store", help="inspect the store")
    store_cmds = store.add_subparsers(dest="store_command", metavar="SUBCOMMAND", required=True)
    stats = store_cmds.add_parser("stats", help="row counts per table")
    add_db(stats)
    stats.add_argument("--json", action="store_true", help="machine-readable output")
    for name in GROUPS:
        if only is None or name == only:
            group(name).add(commands)

    bench = commands.add_parser("bench", help="measure kernels against their peers")
    bench_cmds = bench.add_subparsers(dest="bench_command", metavar="SUBCOMMAND", required=True)
    kernels = bench_cmds.add_parser(
        "kernels", help="WASM SIMD kernels vs numpy (numpy run as users run it)"
    )
    kernels.add_argument("--quick", action="store_true", help="smaller sizes, a few seconds")
    kernels.add_argument("--json", action="store_true", help="machine-readable output")
    return parser


def cmd_bench_kernels(args: argparse.Namespace) -> int:
    from workbench.kernels import bench

    report = bench.run(quick=args.quick)
    print(
        json.dumps(report, indent=2, sort_keys=True) if args.json else bench.format_report(report)
    )
    return 0


def cmd_init(args: argparse.Namespace) -> int:
    with open_engine(args) as engine:
        added = engine.seed()
        result = {
            "db": engine.store_label,
            "schema_version": engine.schema_version,
            "created": engine.created,
            "added": added,
        }
    if args.json:
        print_json(result)
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
    with open_engine(args) as engine:
        counts = engine.stats()
        result = {
            "db": engine.store_label,
            "schema_version": engine.schema_version,
            "tables": counts,
        }
    if args.json:
        print_json(result)
        return 0
    # Plain columns, not a rich table: importing rich costs this hot read-only call ~18 ms
    # (benchmarks/cli_startup.py). Table names are the schema's; the label is cleaned.
    width = max([len("table"), *map(len, counts)])
    digits = max([len("rows"), *(len(f"{n:,}") for n in counts.values())])
    print(clean(f"{result['db']}  (schema v{result['schema_version']})", keep_newlines=False))
    print(f"  {'table':<{width}}  {'rows':>{digits}}")
    for name, n in counts.items():
        print(f"  {name:<{width}}  {n:>{digits},}")
    return 0


def _in_browser() -> bool:
    """textual-serve runs the app with its web driver and pipes, not a terminal."""
    import os

    return "web_driver" in os.environ.get("TEXTUAL_DRIVER", "")


def run_ui(args: argparse.Namespace) -> int:
    if not sys.stdin.isatty() and not _in_browser():
        raise CliError("the UI needs an interactive terminal; run a subcommand (see --help)")
    from workbench.engine import Engine
    from workbench.ui.app import WorkbenchApp

    engine = Engine(args.db, long_lived=True)
    try:
        engine.ensure_seeded()
        WorkbenchApp(engine).run()
    finally:
        engine.close()
    return 0


def hook_args(argv: Sequence[str]) -> list[str] | None:
    """The arguments after `[--db PATH] hooks run`, or None for any other command."""
    args = list(argv)
    db: list[str] = []
    if args[:1] == ["--db"] and len(args) > 1:
        db, args = args[:2], args[2:]
    elif args[:1] and args[0].startswith("--db="):
        db, args = args[:1], args[1:]
    return db + args[2:] if args[:2] == ["hooks", "run"] else None


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    forwarded = forward_to_daemon(argv)  # to a running command server (workbench/daemon.py)
    if forwarded is not None:
        return forwarded
    hook = hook_args(argv)
    if hook is not None and "-h" not in hook and "--help" not in hook:
        from workbench.agents.hookrun import run as run_hook

        return run_hook(hook)
    from workbench.store.errors import StoreError

    command = command_of(argv)
    parser = build_parser(command if command in GROUPS + BUILT_IN else None)
    args = parser.parse_args(argv)
    try:
        if args.command == "init":
            return cmd_init(args)
        if args.command == "store":
            return cmd_store_stats(args)
        if args.command in GROUPS:
            return group(args.command).run(args)
        if args.command == "bench":
            return cmd_bench_kernels(args)
        return run_ui(args)
    except (StoreError, CliError, ValueError, OSError) as exc:
        # the message may quote input or stored text: one clean line
        print(f"workbench: error: {clean(str(exc), keep_newlines=False)}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
