"""The read side of agent sessions: lists, filter, timeline, outcome, advice applied, tool
usage and recording errors, over sessions written as the recorder writes them."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from tests.agents.factory import T0, Advice, Event, Prompt, Tool, make_session, standard_sessions
from tests.conftest import FROZEN_NOW
from workbench.agents import views
from workbench.agents.views import display_text, session_matches, tool_subject
from workbench.store import models as m


@pytest.fixture
def agents(fixture_engine):
    standard_sessions()
    return fixture_engine.agents


def test_sessions_newest_first_with_counts_from_the_rows(agents):
    rows = agents.sessions()
    assert [r["external_id"] for r in rows] == [
        "e5d2f871-cache",
        "b81e0d44-migrate",
        "7f3c9a12-parser",
    ]
    live, failed, fixed = rows
    assert (fixed["prompts"], fixed["tool_calls"], fixed["tool_failures"]) == (2, 5, 1)
    assert (failed["prompts"], failed["tool_calls"], failed["tool_failures"]) == (1, 4, 2)
    assert (live["status"], live["outcome"], live["tool_pending"]) == ("active", None, 1)
    assert fixed["title"] == "Fix the failing date parser tests in shop/dates.py"
    assert fixed["outcome"] == "success" and fixed["outcome_detail"]["edits"] == 1
    assert fixed["duration_s"] == pytest.approx((fixed["ended"] - T0).total_seconds())
    # a stale counter on the session row does not change what is shown
    m.AgentSession.update(tool_calls=99, prompts=0).where(
        m.AgentSession.external_id == "7f3c9a12-parser"
    ).execute()
    again = agents.session("7f3c9a12-parser")
    assert (again["tool_calls"], again["prompts"]) == (5, 2)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["e5d2f871-cache", "b81e0d44-migrate", "7f3c9a12-parser"]),
        ("migration", ["b81e0d44-migrate"]),  # words of the first prompt
        ("SUCCESS", ["7f3c9a12-parser"]),  # case-insensitive outcome
        ("active", ["e5d2f871-cache"]),
        ("opus", ["b81e0d44-migrate"]),  # model
        ("shop pending", ["e5d2f871-cache"]),  # every word must match
        ("nothing-like-this", []),
    ],
)
def test_filter_matches_every_word(agents, query, expected):
    assert [r["external_id"] for r in agents.sessions(query)] == expected


def test_filter_scans_past_the_first_batch(agents, monkeypatch):
    monkeypatch.setattr(views, "SCAN_BATCH", 2)
    for i in range(5):
        make_session(
            f"newer-{i}", [Prompt("unrelated work")], started=FROZEN_NOW - dt.timedelta(minutes=i)
        )
    assert [r["external_id"] for r in agents.sessions("parser", limit=1)] == ["7f3c9a12-parser"]
    assert len(agents.sessions(limit=3)) == 3
    with pytest.raises(ValueError, match="limit must be positive"):
        agents.sessions(limit=0)


def test_session_by_row_id_or_agent_id_and_unknown(agents):
    fixed = agents.session("7f3c9a12-parser")
    assert agents.session(fixed["id"])["external_id"] == "7f3c9a12-parser"
    assert agents.session(f"#{fixed['id']}")["id"] == fixed["id"]
    with pytest.raises(ValueError, match="unknown agent session: nope"):
        agents.session("nope")
    with pytest.raises(ValueError, match="unknown agent session"):
        agents.timeline(10_000)


def test_timeline_in_order_with_durations_and_failures(agents):
    steps = agents.timeline("7f3c9a12-parser")
    assert [(s["kind"], s["label"]) for s in steps] == [
        ("event", "SessionStart"),
        ("prompt", "prompt"),
        ("advice", "advice"),
        ("tool", "Read"),
        ("tool", "Bash"),
        ("tool", "Edit"),
        ("tool", "Bash"),
        ("prompt", "prompt"),
        ("tool", "Bash"),
        ("event", "Stop"),
        ("event", "SessionEnd"),
    ]
    bash = steps[4]
    assert (bash["status"], bash["duration_ms"]) == ("failed", 2140.0)
    assert bash["text"] == "pytest -q tests/test_dates.py"
    assert bash["error"] == "2 failed, 5 passed in 1.92s"
    assert steps[5]["text"] == "shop/dates.py" and steps[5]["status"] == "ok"
    assert steps[1]["text"] == "Fix the failing date parser tests in shop/dates.py"
    assert steps[2]["text"] == "3 items on UserPromptSubmit: hub 1, learning 4, memory 17"
    assert [s["at"] for s in steps] == sorted(s["at"] for s in steps)
    live = agents.timeline("e5d2f871-cache")
    assert (live[-1]["label"], live[-1]["status"], live[-1]["duration_ms"]) == (
        "Bash",
        "pending",
        None,
    )


def test_timeline_keeps_unknown_events_and_cleans_text(agents):
    make_session(
        "odd",
        [
            Prompt("look at \x1b[31mred\x1b[0m\x07 text"),
            Event("Notification"),
            Event("SomethingNew", {"extra": 1}),
            Tool("mcp__workbench__hub_query", {"q": "x"}, 5.0),
        ],
    )
    steps = agents.timeline("odd")
    labels = [s["label"] for s in steps]
    assert "Notification" in labels and "SomethingNew" in labels
    assert steps[1]["text"] == "look at red text"
    assert steps[4]["text"] == '{"q": "x"}'


def test_outcome_says_how_it_was_derived(agents):
    fixed = agents.outcome("7f3c9a12-parser")
    assert fixed["outcome"] == "success" and fixed["state"] == "derived"
    assert fixed["detail"]["reason"].startswith("the last test run passed")
    assert agents.outcome("e5d2f871-cache") == {"outcome": None, "state": "pending", "detail": {}}


def test_advice_applied_only_from_applications_after_it(agents, fixture_engine):
    item = m.KnowledgeItem.get(m.KnowledgeItem.uid == "fx-1")
    # an application recorded before the advice does not count for it
    m.KnowledgeApplication.create(
        item=item, agent="claude-code", success=True, created=T0 - dt.timedelta(days=1)
    )
    [advice] = agents.advice("7f3c9a12-parser")
    hub, learning, memory = advice["items"]
    assert hub["applied"] == {"count": 0, "worked": 0, "failed": 0, "first": None}
    assert learning["applied"] is None and memory["applied"] is None
    assert advice["applied_items"] == 0 and advice["hub_items"] == 1
    # the stored counter is not trusted either
    m.AgentAdvice.update(applied=3).execute()
    assert agents.advice("7f3c9a12-parser")[0]["applied_items"] == 0
    fixture_engine.hub.mark_applied("fx-1", "claude-code", success=True)
    fixture_engine.hub.mark_applied("fx-1", "other-agent", success=False)
    [advice] = agents.advice("7f3c9a12-parser")
    assert advice["items"][0]["applied"] == {
        "count": 2,
        "worked": 1,
        "failed": 1,
        "first": FROZEN_NOW,
    }
    assert advice["applied_items"] == 1


def test_advice_names_items_by_uid_and_survives_missing_ones(agents, fixture_engine):
    make_session(
        "by-uid",
        [
            Prompt("p"),
            Advice(
                [
                    {"kind": "hub", "id": "fx-3", "title": "Batch inserts"},
                    {"kind": "hub", "id": 987654, "title": "gone"},
                ],
                "text",
            ),
        ],
    )
    fixture_engine.hub.mark_applied("fx-3", "claude-code")
    by_uid, gone = agents.advice("by-uid")[0]["items"]
    assert by_uid["applied"]["count"] == 1 and by_uid["missing"] is False
    assert gone["missing"] is True and gone["applied"]["count"] == 0


def test_tool_usage_and_failure_rate_across_sessions(agents):
    usage = {r["tool"]: r for r in agents.tool_usage()}
    bash = usage["Bash"]
    assert (bash["calls"], bash["failed"], bash["ok"], bash["pending"]) == (6, 3, 2, 1)
    assert bash["failure_rate"] == pytest.approx(3 / 5)
    assert bash["sessions"] == 3
    assert bash["mean_ms"] == pytest.approx((2140 + 1985 + 5210 + 830 + 1460) / 5)
    assert bash["max_ms"] == 5210.0
    assert usage["Read"]["failure_rate"] == 0.0
    assert list(usage)[0] == "Bash"  # most used first
    one = {r["tool"]: r for r in agents.tool_usage("b81e0d44-migrate")}
    assert set(one) == {"Glob", "Write", "Bash"}
    assert one["Bash"]["failure_rate"] == 1.0


def test_tool_usage_of_an_empty_store_is_empty(engine):
    assert engine.agents.tool_usage() == []
    assert engine.agents.sessions() == []
    assert engine.agents.agents_overview() == {
        "sessions": 0,
        "active": 0,
        "outcomes": {},
        "errors": 0,
    }


def test_overview_and_recording_errors(agents):
    m.AgentError.create(
        at=FROZEN_NOW - dt.timedelta(minutes=5),
        source="hooks",
        message="malformed hook JSON at line 1 column 2",
    )
    m.AgentError.create(
        at=FROZEN_NOW,
        source="import",
        session_external_id="s-9",
        message="line 3 is not JSON",
        detail=json.dumps({"line": 3}),
    )
    overview = agents.agents_overview()
    assert overview == {
        "sessions": 3,
        "active": 1,
        "outcomes": {"success": 1, "failure": 1, "pending": 1},
        "errors": 2,
    }
    errors = agents.recording_errors()
    assert [e["message"] for e in errors] == [
        "line 3 is not JSON",
        "malformed hook JSON at line 1 column 2",
    ]
    assert errors[0]["session"] == "s-9"
    assert len(agents.recording_errors(limit=1)) == 1


def test_display_text_and_subjects():
    assert display_text("a\x1b]0;title\x07b\x1b[2Jc\r\nd\x00e\x9b") == "abc d e"
    assert display_text("x" * 10, 5) == "xxxx…"
    assert display_text(None) == ""
    assert tool_subject("Grep", {"pattern": "TODO", "path": "src"}) == "TODO src"
    assert tool_subject("Bash", {"command": "ls\n-la"}) == "ls -la"
    assert tool_subject("Custom", {"b": 1, "a": [2]}) == '{"a": [2], "b": 1}'
    assert tool_subject("Bash", {}) == ""
    session = {
        "id": 3,
        "external_id": "abc",
        "agent": "codex",
        "status": "ended",
        "outcome": None,
        "source": "event",
        "model": None,
        "cwd": None,
        "title": None,
    }
    assert session_matches(session, "#3 codex") and not session_matches(session, "claude")
