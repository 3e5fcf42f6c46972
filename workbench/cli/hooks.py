"""`workbench hooks ...`: record coding-agent hook events; install our hooks in Claude Code.

`hooks run` is normally dispatched before this module is imported (see `cli.main` and
`agents/hookrun.py`); it is declared here so `--help` lists it.
"""

from __future__ import annotations

import argparse
import json

from workbench.cli.common import CliError, add_db, console, print_json

NAME = "hooks"


def add(commands) -> None:
    parser = commands.add_parser("hooks", help="coding-agent hooks (Claude Code)")
    sub = parser.add_subparsers(dest="hooks_command", metavar="SUBCOMMAND", required=True)
    p = sub.add_parser(
        "run",
        help="record one hook event read from stdin (always exits 0; never disturbs the agent)",
    )
    add_db(p)
    p.add_argument(
        "--advise",
        action="store_true",
        help="on SessionStart/UserPromptSubmit, answer with relevant hub items, learnings, "
        "memories",
    )
    for name, text in (
        ("install", "merge our hook entries into a Claude Code settings file"),
        ("uninstall", "remove our hook entries (and only ours) from the settings file"),
    ):
        p = sub.add_parser(name, help=text)
        add_db(p)
        p.add_argument("--scope", choices=("project", "user"), default="project")
        p.add_argument(
            "--dir", metavar="DIR", help="the project directory (default: the current one)"
        )
        p.add_argument("--dry-run", action="store_true", help="show the result, write nothing")
        p.add_argument("--json", action="store_true", help="machine-readable output")
        if name == "install":
            p.add_argument(
                "--advise",
                action="store_true",
                help="inject advice at session start and on every prompt",
            )


def run(args: argparse.Namespace) -> int:
    command = args.hooks_command
    if command == "run":
        from workbench.agents.hookrun import run as run_hook

        argv = ["--advise"] if args.advise else []
        return run_hook(argv + (["--db", args.db] if args.db else []))
    from pathlib import Path

    from workbench import config
    from workbench.agents import install

    if args.scope == "user" and args.dir:
        raise CliError("--dir applies to --scope project only")
    directory = Path(args.dir).expanduser() if args.dir else None
    if directory is not None and not directory.is_dir():
        raise CliError(f"--dir {args.dir}: not a directory")
    path = install.settings_path(args.scope, directory)
    if command == "install":
        location = config.resolve_db(args.db, cwd=directory)  # default: the project's store
        if location.is_postgres:
            raise CliError(
                "hooks install writes the store into a settings file; with a PostgreSQL URL "
                "set WORKBENCH_DB for the agent instead of baking the password into it"
            )

        def change(settings):
            return install.merged(settings, str(location.path.resolve()), args.advise)
    else:

        def change(settings):
            return install.removed(settings)

    if command == "install" and not args.dry_run:
        from workbench.engine import open_engine

        with open_engine(args.db, cwd=directory):  # the hooks name this store: create it
            pass
    try:
        result = install.apply(path, change, dry_run=args.dry_run)
    except install.SettingsError as exc:
        raise CliError(str(exc)) from None
    if args.json:
        print_json(result)
        return 0
    out = console()
    if args.dry_run:
        verb = "would change" if result["changed"] else "would leave unchanged"
        out.print(f"{verb} {result['file']}:", markup=False, highlight=False)
        print(json.dumps(result["settings"], indent=2, ensure_ascii=False))
        return 0
    if not result["changed"]:
        done = "already installed" if command == "install" else "nothing of ours"
        out.print(f"{done} in {result['file']}; unchanged", markup=False, highlight=False)
        return 0
    verb = "installed hooks in" if command == "install" else "removed our hooks from"
    out.print(f"{verb} {result['file']}", markup=False, highlight=False)
    if result["backup"]:
        out.print(f"  previous file kept as {result['backup']}", markup=False, highlight=False)
    return 0
