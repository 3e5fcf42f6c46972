"""`workbench hub ...`: share knowledge, query it, subscribe, vote, apply, evolve."""

from __future__ import annotations

import argparse
import json

from workbench.cli.common import (
    CliError,
    choices_arg,
    command_group,
    console,
    open_engine,
    plain_table,
    print_json,
)
from workbench.hub import KNOWLEDGE_TYPES, PRIORITIES

NAME = "hub"


def add(commands) -> None:
    command = command_group(commands, "hub", "knowledge hub: channels, items, votes, evolution")

    p = command("share", "share a knowledge item on a channel (delivered to its subscribers)")
    p.add_argument("--channel", required=True, metavar="C")
    p.add_argument("--type", required=True, **choices_arg(KNOWLEDGE_TYPES))
    p.add_argument("--title", required=True)
    p.add_argument("--content", required=True)
    p.add_argument("--priority", default="MEDIUM", metavar="|".join(PRIORITIES))
    p.add_argument("--tags", default="", metavar="a,b")
    p.add_argument("--agent", default="", metavar="A", help="the sharing agent")
    p.add_argument("--context", default=None, metavar="JSON", help="a JSON object")
    p.add_argument(
        "--broadcast",
        action="store_true",
        help="deliver to every subscribed agent, not one channel",
    )

    p = command("query", "items relevant to a text (BM25), best first")
    p.add_argument("text")
    p.add_argument("--channel", metavar="C")
    p.add_argument("--min-priority", metavar="|".join(PRIORITIES))
    p.add_argument("--tag", metavar="T")
    p.add_argument("--limit", type=int, default=10, metavar="N")

    p = command("list", "items by priority and popularity")
    p.add_argument("--channel", metavar="C")
    p = command("show", "one item with its version history")
    p.add_argument("id")
    command("channels", "channels with item and subscriber counts")
    p = command("channel", "create a channel")
    p.add_argument("name")
    p.add_argument("--description", default="")
    for name, text in (("subscribe", "subscribe an agent"), ("unsubscribe", "unsubscribe")):
        p = command(name, f"{text} to a channel")
        p.add_argument("agent")
        p.add_argument("channel")
    p = command("inbox", "items delivered to an agent")
    p.add_argument("agent")
    p.add_argument("--all", action="store_true", help="include acknowledged items")
    p.add_argument("--ack", action="store_true", help="mark the listed items read")
    p = command("vote", "vote an item useful (once per agent)")
    p.add_argument("id")
    p.add_argument("--agent", required=True, metavar="A")
    p = command("applied", "record that an agent applied an item (and how it went)")
    p.add_argument("id")
    p.add_argument("--agent", required=True, metavar="A")
    outcome = p.add_mutually_exclusive_group()
    outcome.add_argument("--success", dest="success", action="store_const", const=True)
    outcome.add_argument("--failure", dest="success", action="store_const", const=False)
    p = command("update", "change an item's title or content: a new version")
    p.add_argument("id")
    p.add_argument("--note", required=True, help="what changed and why")
    p.add_argument("--title")
    p.add_argument("--content")
    p = command("archive", "archive an item by hand")
    p.add_argument("id")
    p = command("popular", "most voted and applied items")
    p.add_argument("--limit", type=int, default=10, metavar="N")
    p = command("export", "write the knowledge base to a JSON file")
    p.add_argument("file")
    p = command("import", "merge a JSON knowledge file (validated before anything is written)")
    p.add_argument("file")
    p = command("prune", "archive stale items, delete long-archived ones")
    p.add_argument("--stale-days", type=int, default=90, metavar="N")
    p.add_argument("--dry-run", action="store_true")


def _context(text: str | None) -> dict | None:
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        raise CliError("--context must be a JSON object") from None
    if not isinstance(value, dict):
        raise CliError("--context must be a JSON object")
    return value


def run(args: argparse.Namespace) -> int:
    command = args.hub_command
    with open_engine(args) as engine, engine.guard():
        hub = engine.hub
        if command == "share":
            result = hub.share(
                args.channel,
                args.type,
                args.title,
                args.content,
                priority=args.priority,
                tags=args.tags.split(","),
                agent=args.agent,
                context=_context(args.context),
                broadcast=args.broadcast,
            )
        elif command == "query":
            result = hub.query(
                args.text,
                channel=args.channel,
                min_priority=args.min_priority,
                tag=args.tag,
                limit=args.limit,
            )
        elif command == "list":
            result = hub.items(args.channel)
        elif command == "show":
            result = hub.item(args.id, count_view=True)
        elif command == "channels":
            result = hub.channels()
        elif command == "channel":
            result = hub.create_channel(args.name, args.description)
        elif command == "subscribe":
            result = {"agent": args.agent, "channel": args.channel}
            result["changed"] = hub.subscribe(args.agent, args.channel)
        elif command == "unsubscribe":
            result = {"agent": args.agent, "channel": args.channel}
            result["changed"] = hub.unsubscribe(args.agent, args.channel)
        elif command == "inbox":
            result = hub.inbox(args.agent, unread_only=not args.all, acknowledge=args.ack)
        elif command == "vote":
            result = hub.vote(args.id, args.agent)
        elif command == "applied":
            result = hub.mark_applied(args.id, args.agent, args.success)
        elif command == "update":
            if args.title is None and args.content is None:
                raise CliError("update needs --title and/or --content")
            result = hub.update(args.id, note=args.note, title=args.title, content=args.content)
        elif command == "archive":
            result = hub.archive(args.id)
        elif command == "popular":
            result = hub.popular(args.limit)
        elif command == "export":
            result = hub.export_file(args.file)
        elif command == "import":
            result = hub.import_file(args.file)
        else:
            result = hub.prune(args.stale_days, dry_run=args.dry_run)
    if args.json:
        print_json(result)
    else:
        _print(command, result, args)
    return 0


def say(out, *parts) -> None:
    """Print without Rich markup or highlighting: titles and content are user text."""
    out.print(*parts, markup=False, highlight=False)


def _items_table(rows: list[dict], title: str, score: bool = False) -> str:
    """Item rows as plain columns (no rich: `hub query` is a hot read-only call)."""
    columns = ["id", "priority", "state", "channel", "title", "votes", "applied"]
    columns += ["score"] if score else []
    cells = []
    for r in rows:
        row = [r["id"], r["priority"], r["state"], r["channel"], r["title"]]
        row += [r["useful_votes"], r["applied_count"]]
        row += [f"{r['score']:.2f}"] if score else []
        cells.append(row)
    return plain_table(title, columns, cells, right=("votes", "applied", "score"), flex="title")


def _print(command: str, result, args: argparse.Namespace) -> None:
    if command in ("query", "list", "popular"):
        if not result:
            print("no matching items" if command == "query" else "no items")
            return
        print(_items_table(result, f"hub {command}", score=command == "query"))
        return
    out = console()
    if command == "share":
        who = ", ".join(result["delivered_to"]) or "nobody (no other subscribers)"
        say(out, f"shared {result['id']} on {result['channel']}; delivered to {who}")
    elif command in ("show", "vote", "applied", "update", "archive"):
        _print_item(out, result)
    elif command == "channels":
        from rich.table import Table
        from rich.text import Text

        table = Table(title="channels")
        for column in ("channel", "items", "subscribers", "description"):
            table.add_column(column)
        for c in result:
            cells = (c["name"], str(c["items"]), ", ".join(c["subscribers"]), c["description"])
            table.add_row(*(Text(cell) for cell in cells))
        say(out, table)
    elif command == "channel":
        say(out, f"created channel {result['name']}")
    elif command in ("subscribe", "unsubscribe"):
        state = "subscribed to" if command == "subscribe" else "unsubscribed from"
        note = "" if result["changed"] else " (no change)"
        say(out, f"{result['agent']} {state} {result['channel']}{note}")
    elif command == "inbox":
        if not result:
            say(out, f"{args.agent}: inbox empty")
        for r in result:
            say(
                out,
                f"{r['id']}  {r['priority']:<8}  {r['title']}  (from {r['from'] or '—'})",
            )
    elif command == "export":
        say(
            out,
            f"exported {result['items']} items, {result['channels']} channels to {result['path']}",
        )
    elif command == "import":
        say(
            out,
            f"imported {result['items_added']} new items, merged {result['items_merged']}, "
            f"{result['versions_added']} versions, {result['channels_added']} new channels",
        )
    else:
        verb = "would archive" if result["dry_run"] else "archived"
        say(
            out,
            f"{verb} {len(result['archived'])} stale items (no activity for "
            f"{result['stale_days']} days)",
        )
        for r in result["archived"]:
            say(out, f"  {r['id']}  {r['was']:<12}  {r['title']}")
        verb = "would delete" if result["dry_run"] else "deleted"
        say(out, f"{verb} {len(result['deleted'])} archived items")
        for r in result["deleted"]:
            say(out, f"  {r['id']}  {r['title']}")


def _print_item(out, item: dict) -> None:
    rate = "—" if item["success_rate"] is None else f"{item['success_rate']:.0%}"
    from rich.text import Text

    say(out, Text.assemble((item["title"], "bold"), f"  ({item['id']}, v{item['version']})"))
    say(
        out,
        f"{item['priority']} · {item['state']} · {item['type']} on {item['channel']} · "
        f"by {item['source_agent'] or '—'}",
    )
    say(
        out,
        f"views {item['views']} · useful {item['useful_votes']} · applied "
        f"{item['applied_count']} ({item['success_count']} ok, {item['failure_count']} failed, "
        f"success {rate})",
    )
    if item.get("previous_state") and item["previous_state"] != item["state"]:
        say(out, f"state {item['previous_state']} → {item['state']}")
    say(out, item["content"])
    if item["tags"]:
        say(out, "tags: " + ", ".join(item["tags"]))
    for v in item["versions"]:
        say(out, f"  v{v['version']}  {v['created']}  {v['change_note']}")
