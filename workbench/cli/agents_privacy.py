"""`workbench agents purge|redact-existing`: forget agent sessions for good, and redact
what was stored before redaction existed.

Attach to the `agents` group: `agents_privacy.add(subparsers)` where the group builds its
subcommands, and `agents_privacy.run(args)` for `args.agents_command in COMMANDS`.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from workbench.cli.common import CliError, add_db, open_engine, print_json
from workbench.textsafe import clean

COMMANDS = ("purge", "redact-existing")


def add(sub: argparse._SubParsersAction) -> None:
    """Add `purge` and `redact-existing` to the `agents` group's subparsers."""
    p = sub.add_parser(
        "purge",
        help="remove agent sessions and everything derived from them, for good",
        description="Removes the sessions named (criteria combine with AND) and every row "
        "derived from them in one transaction, then compacts the database so no copy of "
        "their text is left in the file (secure_delete, VACUUM, WAL truncated).",
    )
    p.add_argument("session", nargs="?", metavar="SESSION", help="a session id (or row id)")
    p.add_argument("--before", metavar="DATE", help="sessions whose last event is older")
    p.add_argument("--project", metavar="PATH", help="sessions recorded in PATH or below it")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    add_db(p)
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = sub.add_parser(
        "redact-existing",
        help="redact secrets in agent data stored before redaction (or with it off)",
    )
    add_db(p)
    p.add_argument("--json", action="store_true", help="machine-readable output")


def run(args: argparse.Namespace) -> int:
    if args.agents_command == "purge":
        return cmd_purge(args)
    if args.agents_command == "redact-existing":
        return cmd_redact_existing(args)
    raise CliError(f"unknown agents command: {args.agents_command}")


def _selection(args: argparse.Namespace) -> dict[str, Any]:
    from workbench.agents.purge import parse_before

    if args.session is None and args.before is None and args.project is None:
        raise CliError("name what to purge: SESSION, --before DATE or --project PATH")
    return {
        "session": args.session,
        "before": parse_before(args.before) if args.before is not None else None,
        "project": args.project,
    }


def _confirm(sessions: list[dict[str, Any]]) -> bool:
    print(f"{len(sessions)} agent session(s) will be removed with everything derived from them:")
    for row in sessions[:20]:
        print(
            f"  {clean(row['external_id'], False)}  {clean(row['agent'], False)}  "
            f"{clean(row['cwd'] or '—', False)}  last event {row['last_event']}"
        )
    if len(sessions) > 20:
        print(f"  … and {len(sessions) - 20} more")
    answer = input("This cannot be undone. Purge them? [y/N] ")
    return answer.strip().lower() in ("y", "yes")


def cmd_purge(args: argparse.Namespace) -> int:
    selection = _selection(args)
    with open_engine(args) as engine, engine.guard():
        preview = engine.agents.purge_preview(**selection)
        if preview and not args.yes:
            if not sys.stdin.isatty():
                raise CliError(
                    f"purge removes data for good: add --yes to confirm "
                    f"({len(preview)} session(s) match)"
                )
            if not _confirm(preview):
                print("nothing purged")
                return 1
        report = engine.agents.purge(**selection)
    if args.json:
        print_json(report.as_dict())
        return 0
    if not report.matched:
        print(f"nothing to purge: no agent session matches {clean(report.criteria, False)}")
        return 0
    rows = ", ".join(f"{table} {n}" for table, n in report.rows.items())
    print(f"purged {len(report.sessions)} session(s): {rows}")
    print(_compaction_line(report.compaction))
    return 0


def _compaction_line(compaction: dict[str, Any]) -> str:
    if compaction.get("backend") == "postgresql":
        done = "VACUUM FULL done" if compaction.get("vacuumed") else "VACUUM FULL failed"
        return f"database: {done}; {clean(compaction.get('note', ''), False)}"
    if compaction.get("wal_truncated"):
        return "database compacted: VACUUM, WAL checkpointed and truncated (no copy left)"
    return (
        "database compacted (VACUUM), but another process holds the store open, so its WAL "
        "could not be truncated yet: run this again once it is closed"
    )


def cmd_redact_existing(args: argparse.Namespace) -> int:
    with open_engine(args) as engine, engine.guard():
        result = engine.agents.redact_existing()
    if args.json:
        print_json(result)
        return 0
    if not result["total"]:
        print(f"nothing to redact: scanned {result['scanned']} rows of agent data")
        return 0
    kinds = ", ".join(f"{kind} {n}" for kind, n in result["redactions"].items())
    changed = sum(result["rows"].values())
    print(f"redacted {result['total']} secret(s) in {changed} of {result['scanned']} rows: {kinds}")
    if "compaction" in result:
        print(_compaction_line(result["compaction"]))
    return 0
