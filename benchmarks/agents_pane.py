"""How long the Agents pane's queries take on a large store, and its refresh as a whole.

Builds a store with SESSIONS agent sessions of TOOLS tool calls each (plus their pre/post
events and a prompt), then times, median of REPEATS, each read the pane makes on a change
(`engine.agents.sessions`, `agents_overview`, `tool_usage`, `timeline` + `advice` of the
newest session) and the pane applying a read's result inside a headless app. The peer for
the heaviest query (tool usage, a GROUP BY over every tool call) is the same SQL run
through plain `sqlite3` in the same process: the ratio is what the ORM layer costs. The
reads run in a thread worker; what the UI thread does is apply their result, timed last.

    python benchmarks/agents_pane.py [--sessions 2000] [--tools 50] [--repeats 7]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from workbench.engine import Engine
from workbench.store import models as m

TOOLS = ["Bash", "Read", "Edit", "Grep", "Glob", "Write", "Task", "WebFetch"]
T0 = dt.datetime(2026, 1, 1, 9, 0, 0)


def build(engine: Engine, sessions: int, tools: int) -> None:
    """Sessions, each: SessionStart, one prompt, `tools` calls with pre/post events."""
    with engine.db.atomic():
        for s in range(sessions):
            start = T0 + dt.timedelta(minutes=s)
            session = m.AgentSession.create(
                external_id=f"bench-{s:06d}", status="ended", outcome="success",
                outcome_detail="{}", meta="{}", started=start, last_event=start, ended=start,
            )  # fmt: skip
            events = [
                {"session": session.id, "seq": 1, "kind": "SessionStart", "at": start},
                {"session": session.id, "seq": 2, "kind": "UserPromptSubmit", "at": start,
                 "text": f"task number {s}: make the tests pass"},
            ]  # fmt: skip
            calls = []
            for t in range(tools):
                at = start + dt.timedelta(seconds=t)
                name = TOOLS[(s + t) % len(TOOLS)]
                for kind in ("PreToolUse", "PostToolUse"):
                    events.append({"session": session.id, "seq": len(events) + 1,
                                   "kind": kind, "at": at, "payload": "{}"})  # fmt: skip
                calls.append(
                    {"session": session.id, "tool_use_id": f"t{t}", "tool_name": name,
                     "input": json.dumps({"command": "pytest -q"}),
                     "status": "failed" if (s * 7 + t) % 11 == 0 else "ok",
                     "started": at, "ended": at, "duration_ms": float(10 + (s + t) % 500)}
                )  # fmt: skip
            for e in events:
                e.setdefault("payload", "{}")
            m.AgentEvent.insert_many(events).execute()
            m.AgentToolCall.insert_many(calls).execute()


def median_ms(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


async def pane_apply_ms(engine: Engine, repeats: int) -> tuple[float, float]:
    """The UI-thread part of a refresh: applying what the read worker posted (the sessions
    list, charts, timeline and advice) when one live session's counts moved (its cells are
    updated in place) and when the listed sessions changed (the list is refilled)."""
    from workbench.ui.agents import AgentsLoaded, AgentsPane
    from workbench.ui.app import WorkbenchApp

    app = WorkbenchApp(engine, watch=False, theme="workbench-dark")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("7")
        await app.workers.wait_for_complete()
        await pilot.pause()
        pane = app.query_one(AgentsPane)
        agents = engine.agents
        sessions = agents.sessions(limit=200)
        detail = (agents.timeline(sessions[0]["id"]), agents.advice(sessions[0]["id"]))
        overview, usage = agents.agents_overview(), agents.tool_usage()

        bumped = [{**sessions[0], "tool_calls": sessions[0]["tool_calls"] + 1}, *sessions[1:]]
        shifted = sessions[1:]  # the list's rows moved: it is refilled
        lists = iter([bumped, sessions] * repeats)
        refills = iter([shifted, sessions] * repeats)

        def apply(rows_of) -> None:
            rows = next(rows_of)
            message = AgentsLoaded(pane._generation, rows, overview, usage, rows[0]["id"], detail)
            pane._loaded(message)

        in_place = median_ms(lambda: apply(lists), repeats)
        refilled = median_ms(lambda: apply(refills), repeats)
        return in_place, refilled


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=2000)
    parser.add_argument("--tools", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "agents.db"
        engine = Engine(path)
        started = time.perf_counter()
        build(engine, args.sessions, args.tools)
        built = time.perf_counter() - started
        agents = engine.agents
        newest = agents.sessions(limit=1)[0]["id"]
        n_calls = m.AgentToolCall.select().count()
        print(f"store: {args.sessions} sessions, {n_calls} tool calls, "
              f"{m.AgentEvent.select().count()} events (built in {built:.1f} s)")  # fmt: skip
        results = {
            "sessions(limit=200)": median_ms(lambda: agents.sessions(limit=200), args.repeats),
            "sessions('number 7', limit=50)": median_ms(
                lambda: agents.sessions("number 7", limit=50), args.repeats
            ),
            "agents_overview()": median_ms(agents.agents_overview, args.repeats),
            "tool_usage()": median_ms(agents.tool_usage, args.repeats),
            "timeline+advice(newest)": median_ms(
                lambda: (agents.timeline(newest), agents.advice(newest)), args.repeats
            ),
        }
        sql, params = agents_tool_usage_sql()
        raw = sqlite3.connect(path)
        peer = median_ms(lambda: raw.execute(sql, params).fetchall(), args.repeats)
        raw.close()
        results["worker read (all of the above)"] = sum(
            results[k] for k in ("sessions(limit=200)", "agents_overview()", "tool_usage()",
                                 "timeline+advice(newest)")
        )  # fmt: skip
        in_place, refilled = asyncio.run(pane_apply_ms(engine, args.repeats))
        results["UI apply: one session changed"] = in_place
        results["UI apply: list refilled"] = refilled
        engine.close()
    for name, ms in results.items():
        print(f"{name:<32} {ms:8.1f} ms")
    print(f"{'peer: same GROUP BY, raw sqlite3':<32} {peer:8.1f} ms")
    print(f"tool_usage() / raw sqlite3 = {results['tool_usage()'] / peer:.2f}x")


def agents_tool_usage_sql() -> tuple[str, tuple]:
    """The SQL `tool_usage()` runs (without its Python post-processing)."""
    from peewee import Case, fn

    tc = m.AgentToolCall
    query = tc.select(
        tc.tool_name, fn.COUNT(tc.id),
        fn.SUM(Case(None, [(tc.status == "failed", 1)], 0)),
        fn.SUM(Case(None, [(tc.status == "ok", 1)], 0)),
        fn.AVG(tc.duration_ms), fn.MAX(tc.duration_ms), fn.COUNT(tc.session.distinct()),
    ).group_by(tc.tool_name)  # fmt: skip
    sql, params = query.sql()
    return sql, tuple(params)


if __name__ == "__main__":
    main()
