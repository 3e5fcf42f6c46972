"""`workbench memory ...`: store, import, search, stats and consolidate the memory tiers."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from workbench.cli.common import CliError, command_group, fmt, open_engine, print_json, say

NAME = "memory"
EXIT_PARTIAL = 1  # an import that kept its good lines but reported bad ones


def add(commands) -> None:
    command = command_group(commands, "memory", "four-tier agent memory")

    p = command("store", "store one entry in a tier")
    p.add_argument(
        "--tier",
        choices=("vector", "episodic", "semantic"),
        default="vector",
        help="default: vector",
    )
    p.add_argument(
        "--namespace", metavar="NS", help="vector namespace | episodic session | fact or rule"
    )
    p.add_argument("--key", metavar="K", help="vector key | episodic kind | semantic subject")
    p.add_argument("--text", metavar="T", required=True)
    p.add_argument(
        "--meta",
        metavar="JSON",
        help="vector metadata | episodic context (+outcome, sequence) | "
        "semantic confidence, source, evidence_count",
    )
    p = command("import", "bulk-load vector entries from JSON lines (text, key, namespace, meta)")
    p.add_argument("file", metavar="FILE.jsonl")
    p.add_argument("--namespace", metavar="NS", default="default", help="for lines without one")
    p = command("search", "the stored texts most similar to QUERY")
    p.add_argument("query", metavar="QUERY")
    p.add_argument("--namespace", metavar="NS")
    p.add_argument("--k", type=int, default=10, metavar="N")
    p.add_argument("--where", metavar="JSON", help='metadata filter, e.g. {"lang": "python"}')
    command("stats", "count and bytes per tier, compression and search latency")
    command("consolidate", "promote repeated episodes to facts, prune, report what moved")


def _json_arg(text: str | None, name: str) -> Any:
    if text is None:
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CliError(f"--{name}: not JSON ({exc.msg})") from None
    if not isinstance(value, dict):
        raise CliError(f"--{name}: must be a JSON object")
    return value


def run(args: argparse.Namespace) -> int:
    command = args.memory_command
    meta = _json_arg(getattr(args, "meta", None), "meta")
    where = _json_arg(getattr(args, "where", None), "where")
    with open_engine(args) as engine:
        memory = engine.memory
        with engine.guard():
            if command == "store":
                result = memory.store(
                    args.tier, args.text, namespace=args.namespace, key=args.key, meta=meta
                )
            elif command == "import":
                result = memory.import_jsonl(args.file, args.namespace)
            elif command == "search":
                hits = memory.search(args.query, args.namespace, args.k, where)
                result = [
                    {
                        "key": h.key,
                        "text": h.text,
                        "score": round(h.score, 6),
                        "namespace": h.namespace,
                    }
                    for h in hits
                ]
            elif command == "stats":
                result = memory.stats()
            else:
                result = memory.consolidate("manual").summary()
    if args.json:
        print_json(result)
    else:
        say(FORMATTERS[command](result))
    if command == "import" and result["bad_lines"]:
        for error in result["errors"]:
            print(f"workbench: {result['file']}:{error['line']}: {error['error']}", file=sys.stderr)
        return EXIT_PARTIAL
    return 0


def _format_store(result: dict) -> str:
    if result["tier"] == "vector":
        verb = "replaced" if result["replaced"] else "stored"
        return f"{verb} vector {result['namespace']}/{result['key']}"
    if result["tier"] == "episodic":
        lines = [f"recorded episode {result['session']}#{result['sequence']} ({result['kind']})"]
        for ev in result["evicted"]:
            lines.append(f"  evicted {ev['count']} episode(s) by {ev['reason']} limit")
        if result["consolidation"]:
            lines.append(f"  consolidation ran ({result['consolidation']['reason']})")
        return "\n".join(lines)
    verb = "added" if result["created"] else "reinforced"
    return (
        f"{verb} {result['kind']} #{result['id']} (confidence {result['confidence']:.2f}, "
        f"evidence {result['evidence_count']})"
    )


def _format_import(result: dict) -> str:
    return (
        f"imported {result['stored']} line(s) from {result['file']} "
        f"({result['unique_keys']} distinct keys); {result['bad_lines']} bad line(s)"
    )


def _format_search(hits: list[dict]) -> str:
    if not hits:
        return "no matches"
    return "\n".join(
        f"{i:>3}  {h['score']:.4f}  {h['namespace']}/{h['key']}  {h['text'][:100]}"
        for i, h in enumerate(hits, 1)
    )


def _format_stats(stats: dict) -> str:
    v, e, s, w = stats["vector"], stats["episodic"], stats["semantic"], stats["working"]
    smaller = v["smaller_than_float32"]
    lines = [
        f"vector     {v['count']:>8} entries  {v['bytes']:>12,} bytes  "
        f"compression {fmt(v['compression_ratio'])}x"
        + (f" ({smaller:.1%} smaller than float32)" if smaller is not None else ""),
        f"           search p50 {fmt(v['search_p50_ms'])} ms, p95 {fmt(v['search_p95_ms'])} ms "
        f"over {v['searches']} searches ({v['latency_source'] or 'none'})",
        f"episodic   {e['count']:>8} events   {e['bytes']:>12,} bytes  "
        f"capacity {e['capacity']}, max age {e['max_age_days']:g} days",
        f"semantic   {s['count']:>8} facts    {s['bytes']:>12,} bytes",
        f"working    {w['count']:>8} items    {w['bytes']:>12,} bytes  "
        f"hits {w['hits']}, misses {w['misses']} (this process only)",
    ]
    return "\n".join(lines)


def _format_report(report: dict) -> str:
    lines = [
        f"consolidation ({report['reason']}) at {report['at']}: "
        f"{report['episodes_considered']} episodes, {report['patterns_considered']} patterns",
        f"  promoted {report['promoted_count']}, reinforced {report['reinforced_count']}, "
        f"pruned {report['pruned_episodes_count']} episode(s) and "
        f"{report['pruned_facts_count']} fact(s)",
    ]
    for title, section in (
        ("promoted", "promoted"),
        ("reinforced", "reinforced"),
        ("pruned episode", "pruned_episodes"),
        ("pruned fact", "pruned_facts"),
    ):
        for item in report[section]:
            label = item.get("statement") or f"{item['session']}#{item['sequence']}"
            lines.append(f"  {title}: {label} — {item['why']}")
    return "\n".join(lines)


FORMATTERS = {
    "store": _format_store,
    "import": _format_import,
    "search": _format_search,
    "stats": _format_stats,
    "consolidate": _format_report,
}
