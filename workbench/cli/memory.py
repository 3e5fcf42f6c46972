"""`workbench memory ...`: store, import, search, stats and consolidate the memory tiers."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from typing import Any

from workbench.cli.common import (
    CliError,
    choices_arg,
    command_group,
    fmt,
    open_engine,
    plain,
    print_json,
    say,
)
from workbench.memory.keyed import parse_ttl

NAME = "memory"
EXIT_PARTIAL = 1  # an import that kept its good lines but reported bad ones


def add(commands) -> None:
    command = command_group(commands, "memory", "four-tier agent memory")

    p = command("store", "store one entry in a tier")
    p.add_argument(
        "--tier",
        **choices_arg(("vector", "episodic", "semantic")),
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
    p = command("put", "store a value under a key in a namespace (replaces it; optional TTL)")
    _key_args(p)
    p.add_argument("--value", metavar="TEXT", required=True)
    p.add_argument("--ttl", metavar="S", help="seconds until the entry expires (default never)")
    p.add_argument("--meta", metavar="JSON", help="metadata object")
    p = command("get", "the value under a key (exact read, not a search)")
    _key_args(p)
    p = command("delete", "remove the entry under a key")
    _key_args(p)
    p = command("list", "the live entries of a namespace, by key")
    p.add_argument("--namespace", metavar="NS", required=True)
    p.add_argument("--prefix", metavar="P", default="", help="only keys starting with P")
    p.add_argument("--limit", type=int, default=1000, metavar="N")
    p = command("show", "read a tier: episodic events, semantic facts, the working set")
    p.add_argument("--tier", **choices_arg(("episodic", "semantic", "working")), required=True)
    p.add_argument("--since", metavar="WHEN", help="ISO date/time (UTC) or an age like 2h, 3d")
    p.add_argument("--limit", type=int, default=100, metavar="N")
    command("consolidate", "promote repeated episodes to facts, prune, report what moved")
    p = command(
        "optimize",
        "consolidate, drop expired, re-quantize, train vector indexes, VACUUM; sizes before/after",
    )
    p.add_argument("--namespace", metavar="NS", help="train only this vector namespace's index")
    p.add_argument(
        "--retrain", action="store_true", help="retrain indexes that are still current too"
    )
    for sub in command.subparsers.choices.values():
        sub.add_argument(
            "--embedder",
            metavar="SPEC",
            help="hashing (default), hashing:DIM or model2vec:PATH (a model on disk; needs "
            "the embeddings extra); default: $WORKBENCH_EMBEDDER, else the settings file",
        )


def _key_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--namespace", metavar="NS", required=True)
    p.add_argument("--key", metavar="K", required=True)


AGE_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_since(text: str | None, now: dt.datetime) -> dt.datetime | None:
    """--since: an ISO date/time (UTC) or an age such as 90s, 15m, 2h, 3d, 1w."""
    if text is None:
        return None
    text = text.strip()
    if text[-1:] in AGE_UNITS and text[:-1].replace(".", "", 1).isdigit():
        return now - dt.timedelta(seconds=float(text[:-1]) * AGE_UNITS[text[-1]])
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        raise CliError(
            f"--since: not a date/time or an age (got {text!r}; e.g. 2026-01-15, 2h, 3d)"
        ) from None
    if when.tzinfo is not None:
        when = when.astimezone(dt.UTC).replace(tzinfo=None)
    return when


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
                _hint_unindexed(memory.vector.unindexed)
            elif command == "stats":
                result = memory.stats()
            elif command == "optimize":
                result = _optimize(memory, args)
            elif command == "put":
                ttl = parse_ttl(args.ttl) if args.ttl is not None else None
                result = memory.put(args.namespace, args.key, args.value, ttl_s=ttl, metadata=meta)
            elif command == "get":
                result = memory.get(args.namespace, args.key)
            elif command == "delete":
                result = memory.delete(args.namespace, args.key)
            elif command == "list":
                result = memory.list(args.namespace, args.prefix, args.limit)
            elif command == "show":
                since = parse_since(args.since, engine.clock())
                result = memory.show(args.tier, since, args.limit)
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
    confidence = (
        f"confidence {result['confidence']:.2f}"
        if result["confidence_given"]
        else "no confidence given"
    )
    evidence = result["evidence_count"]
    return f"{verb} {result['kind']} #{result['id']} ({confidence}, evidence {evidence})"


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


def _hint_unindexed(unindexed: dict[str, str]) -> None:
    """One stderr line per large namespace this search scanned exactly (or through an index
    due for retraining): the CLI never trains in a search, `memory optimize` does."""
    for ns, why in sorted(unindexed.items()):
        print(
            f"workbench: hint: namespace {plain(ns)}: {why}; run `workbench memory optimize "
            f"--namespace {plain(ns)}` to train its index",
            file=sys.stderr,
        )


def _optimize(memory, args: argparse.Namespace) -> dict:
    """memory.optimize with a progress bar on stderr per index trained (not with --json)."""
    if args.namespace is not None and not args.namespace.strip():
        raise CliError("--namespace: must not be empty")
    if args.json or not sys.stderr.isatty():
        try:
            return memory.optimize(args.namespace, args.retrain)
        except ValueError as exc:
            raise CliError(str(exc)) from None
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    steps = {"kmeans": "k-means", "assign": "assigning rows", "truth": "choosing nprobe"}
    with Progress(
        TextColumn("[bold]{task.fields[ns]}[/bold] {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        tasks: dict[tuple[str, str], Any] = {}

        def progress(ns: str, step: str, done: int, total: int) -> None:
            key = (ns, step)
            if key not in tasks:
                tasks[key] = bar.add_task(steps.get(step, step), total=total, ns=plain(ns))
            bar.update(tasks[key], completed=done, total=total)

        try:
            return memory.optimize(args.namespace, args.retrain, progress)
        except ValueError as exc:
            raise CliError(str(exc)) from None


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


def _format_put(r: dict) -> str:
    verb = "replaced" if r["replaced"] else "stored"
    until = f" (expires {r['expires']} UTC)" if r["expires"] else ""
    return f"{verb} {plain(r['namespace'])}/{plain(r['key'])}{until}"


def _format_get(r: dict) -> str:
    return plain(r["value"])


def _format_delete(r: dict) -> str:
    return f"deleted {plain(r['namespace'])}/{plain(r['key'])}"


def _format_list(entries: list[dict]) -> str:
    if not entries:
        return "no entries"
    return "\n".join(
        f"{plain(e['key'])}\t{plain(e['value'])[:80]}"
        + (f"\t(expires {e['expires']})" if e["expires"] else "")
        for e in entries
    )


def _format_show(r: dict) -> str:
    since = f" since {r['since']}" if r["since"] else ""
    head = f"{r['tier']}: {r['total']} entr{'y' if r['total'] == 1 else 'ies'}{since}"
    lines = [head]
    for e in r["entries"]:
        if r["tier"] == "episodic":
            lines.append(
                f"  {e['created']}  {plain(e['session'])}#{e['sequence']}  {plain(e['kind'])}"
                f"  {e['outcome']}  {plain(e['text'])[:80]}"
            )
        elif r["tier"] == "semantic":
            lines.append(
                f"  {e['confidence']:.2f}  ev {e['evidence_count']}  {e['kind']}  "
                f"{plain(e['statement'])[:90]}"
            )
        else:
            lines.append(f"  {e['bytes']:>8,} B  {plain(e['item'])}")
    if r["tier"] == "working" and not r["entries"]:
        lines.append("  (the working tier lives in the process using it; a CLI call starts empty)")
    return "\n".join(lines)


def _format_optimize(r: dict) -> str:
    b, a, c = r["before"], r["after"], r["consolidation"]
    lines = [f"{'':10}{'before':>22}{'after':>22}"]
    for tier in ("vector", "episodic", "semantic"):
        lines.append(
            f"{tier:10}{b[tier]['count']:>8} {b[tier]['bytes']:>12,} B"
            f"{a[tier]['count']:>8} {a[tier]['bytes']:>12,} B"
        )
    if b["file_bytes"] is not None:
        lines.append(f"{'file':10}{b['file_bytes']:>21,} B{a['file_bytes']:>21,} B")
    lines.append(
        f"consolidation: promoted {c['promoted_count']}, reinforced {c['reinforced_count']}, "
        f"pruned {c['pruned_episodes_count']} episode(s), {c['pruned_facts_count']} fact(s); "
        f"expired {r['expired_entries']} keyed entr(ies); re-quantized {r['requantized']}; "
        + ("VACUUM done" if r["vacuumed"] else "no VACUUM (PostgreSQL autovacuum)")
    )
    for ix in r["indexes"]:
        head = f"index {plain(ix['namespace'])}: {ix['action']}, {ix['rows']} rows"
        if "nlist" in ix:
            head += (
                f", {ix['nlist']} lists, nprobe {ix['nprobe']} (held-out recall@10 "
                f"{ix['recall_at_10']:.4f})"
            )
        if "seconds" in ix:
            head += f" in {ix['seconds']:.1f} s"
        lines.append(f"{head} — {plain(ix['why'])}")
    return "\n".join(lines)


FORMATTERS = {
    "optimize": _format_optimize,
    "put": _format_put,
    "get": _format_get,
    "delete": _format_delete,
    "list": _format_list,
    "show": _format_show,
    "store": _format_store,
    "import": _format_import,
    "search": _format_search,
    "stats": _format_stats,
    "consolidate": _format_report,
}
