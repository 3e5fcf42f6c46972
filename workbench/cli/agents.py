"""`workbench agents ...`: import transcripts, record neutral events, list and show sessions.

Each command is its own subparser here (`add`) and its own function (`COMMANDS`), so more
commands (purge, redact-existing) slot in without touching the others.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from workbench.cli.common import CliError, command_group, console, fmt, open_engine, print_json
from workbench.textsafe import clean

NAME = "agents"
EXIT_PARTIAL = 1  # an import that kept its good lines but reported bad ones


def printable(value: object) -> str:
    """Text from files or agents, escaped for the terminal (the one textsafe.clean)."""
    return clean(value)


def add(commands) -> None:
    from workbench.cli import agents_privacy

    command = command_group(commands, "agents", "recorded coding-agent sessions")
    p = command("import", "import Claude Code transcripts (a .jsonl file or a directory)")
    p.add_argument("path", metavar="PATH")
    p = command("record", "record one event in the framework-neutral schema (README: Agents)")
    p.add_argument("--event", required=True, metavar="JSON", help="one event object")
    p = command("list", "sessions, most recently active first")
    p.add_argument("--limit", type=int, default=50, metavar="N")
    p = command("show", "one session: outcome, events, tool calls, advice")
    p.add_argument("ref", metavar="ID", help="row id or the agent's session id")
    p = command("errors", "problems met while recording (hooks never fail their agent)")
    p.add_argument("--limit", type=int, default=50, metavar="N")
    agents_privacy.add(command.subparsers)


def run(args: argparse.Namespace) -> int:
    from workbench.cli import agents_privacy

    if args.agents_command in agents_privacy.COMMANDS:
        return agents_privacy.run(args)
    return COMMANDS[args.agents_command](args)


def _limit(args: argparse.Namespace) -> int:
    if args.limit < 1:
        raise CliError(f"--limit must be at least 1 (got {args.limit})")
    return args.limit


def cmd_import(args: argparse.Namespace) -> int:
    from pathlib import Path

    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

    from workbench.agents.transcripts import transcript_files

    path = Path(args.path).expanduser()
    try:
        transcript_files(path)  # refuse a missing path before opening the store
    except ValueError as exc:
        raise CliError(str(exc)) from None
    show = not args.json and sys.stderr.isatty()
    with open_engine(args) as engine:
        progress = Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            DownloadColumn(),
            TimeRemainingColumn(),
            disable=not show,
            transient=True,
        )
        with progress, engine.guard():
            task = progress.add_task("importing", total=None)

            def advance(used: int, total: int) -> None:
                progress.update(task, advance=used, total=total)

            result = engine.agents.import_transcripts(path, advance)
    if args.json:
        print_json(result)
    else:
        out = console()
        out.print(
            f"read {result['lines']} line(s) in {result['files']} file(s): "
            f"{result['records']} record(s), {result['events']} new event(s), "
            f"{result['duplicates']} already imported, {result['sessions']} session(s)",
            markup=False,
            highlight=False,
        )
        for reason, n in sorted(result["skipped"].items()):
            out.print(f"  skipped {n:>6}  {reason}", markup=False, highlight=False)
    for error in result["errors"]:
        print(f"workbench: {error['file']}:{error['line']}: {error['error']}", file=sys.stderr)
    return EXIT_PARTIAL if result["bad_lines"] else 0


def cmd_record(args: argparse.Namespace) -> int:
    try:
        event = json.loads(args.event)
    except json.JSONDecodeError as exc:
        raise CliError(f"--event: not valid JSON ({exc.msg} at column {exc.colno})") from None
    with open_engine(args) as engine, engine.guard():
        result = engine.agents.record_event(event)
    if args.json:
        print_json(result)
    elif result["event"] is None:
        print(f"event already recorded in session {result['session']}; nothing added")
    else:
        print(f"recorded event {result['seq']} of session {result['session']}")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    limit = _limit(args)
    with open_engine(args) as engine, engine.guard():
        rows = engine.agents.list_sessions(limit)
    if args.json:
        print_json(rows)
        return 0
    if not rows:
        print("no agent sessions recorded yet (see README: Agents)")
        return 0
    from rich.table import Table

    table = Table()
    for column in ("id", "session", "agent", "status", "outcome", "prompts", "tools", "failed",
                   "last event"):  # fmt: skip
        table.add_column(column, justify="right" if column in ("id", "prompts", "tools",
                                                              "failed") else "left")  # fmt: skip
    for r in rows:
        table.add_row(
            str(r["id"]),
            printable(r["session"])[:36],
            printable(r["agent"]),
            r["status"],
            fmt(r["outcome"]),
            str(r["prompts"]),
            str(r["tool_calls"]),
            str(r["tool_failures"]),
            r["last_event"],
        )
    console().print(table)
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    with open_engine(args) as engine, engine.guard():
        try:
            detail = engine.agents.session_detail(args.ref)
        except ValueError as exc:
            raise CliError(str(exc)) from None
    if args.json:
        print_json(detail)
        return 0
    out = console()

    def say(text: Any) -> None:
        out.print(printable(text), markup=False, highlight=False)

    d = detail
    say(f"session {d['id']}  {d['session']}  ({d['agent']}, {d['source']}, {d['status']})")
    if d["cwd"]:
        say(f"  cwd {d['cwd']}")
    say(f"  {d['prompts']} prompt(s), {d['tool_calls']} tool call(s), "
        f"{d['tool_failures']} failed, {d['redactions']} redaction(s)")  # fmt: skip
    detail_o = d["outcome_detail"]
    say(f"  outcome {fmt(d['outcome'])}" + (f": {detail_o['rule']}" if "rule" in detail_o else ""))
    for fed in detail_o.get("learning", []):
        rows = ", ".join(
            f"{k} {fed[k]}" for k in ("episode", "execution", "pattern_memory") if k in fed
        )
        say(f"    turn {fed['turn']}: {fed['outcome']} → {rows or '—'}"
            + (f" ({fed['skipped']})" if "skipped" in fed else ""))  # fmt: skip
    say("tool calls:")
    for c in d["calls"]:
        ms = f"{c['duration_ms']:.0f} ms" if c["duration_ms"] is not None else "—"
        say(f"  {c['status']:<7} {c['tool_name']:<12} {ms:>9}  {c['input'][:90]}")
    say("events:")
    for e in d["events"]:
        text = " ".join((e["text"] or "").split())[:100]
        say(f"  {e['seq']:>4} {e['at']}  {e['kind']:<18} {text}")
    for a in d["advice"]:
        ids = ", ".join(f"{i['kind']} {i['id']}" for i in a["items"])
        say(f"advice at {a['event']} ({a['at']}): {ids}")
    return 0


def cmd_errors(args: argparse.Namespace) -> int:
    limit = _limit(args)
    with open_engine(args) as engine, engine.guard():
        rows = engine.agents.recording_errors(limit)
    if args.json:
        print_json(rows)
        return 0
    if not rows:
        print("no recording errors")
        return 0
    out = console()
    for r in rows:
        where = f" session {r['session']}" if r["session"] else ""
        out.print(
            printable(f"{r['at']}  {r['source']}{where}: {r['message']}"),
            markup=False,
            highlight=False,
        )
    return 0


COMMANDS = {
    "import": cmd_import,
    "record": cmd_record,
    "list": cmd_list,
    "show": cmd_show,
    "errors": cmd_errors,
}
