"""Memory by key: exact put/get/list/delete, TTL expiry on a frozen clock, bad input."""

from __future__ import annotations

import datetime as dt

import pytest

from workbench.engine import Engine
from workbench.memory.keyed import MAX_NAME, MissingEntry
from workbench.store import models as m

T0 = dt.datetime(2026, 1, 15, 9, 30, 0)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def memory(tmp_path, clock):
    with Engine(tmp_path / "keyed.db", clock=clock) as engine:
        yield engine.memory


def test_put_get_list_delete_are_exact(memory):
    assert memory.put("agent-1", "plan", "read the failing test first")["replaced"] is False
    memory.put("agent-1", "notes/a", "alpha", metadata={"src": "hook"})
    memory.put("agent-1", "notes/b", "beta")
    memory.put("agent-2", "plan", "someone else's plan")
    got = memory.get("agent-1", "plan")
    assert (got["namespace"], got["key"], got["value"]) == (
        "agent-1",
        "plan",
        "read the failing test first",
    )
    assert got["expires"] is None and got["created"] == "2026-01-15 09:30:00"
    assert memory.get("agent-1", "notes/a")["metadata"] == {"src": "hook"}
    assert [e["key"] for e in memory.list("agent-1")] == ["notes/a", "notes/b", "plan"]
    assert [e["key"] for e in memory.list("agent-1", prefix="notes/")] == ["notes/a", "notes/b"]
    # replacing keeps one row and returns the new value
    assert memory.put("agent-1", "plan", "run pytest -x")["replaced"] is True
    assert memory.get("agent-1", "plan")["value"] == "run pytest -x"
    assert m.VectorMemory.select().where(m.VectorMemory.namespace == "agent-1").count() == 3
    assert memory.delete("agent-1", "plan") == {
        "namespace": "agent-1",
        "key": "plan",
        "deleted": True,
    }
    with pytest.raises(MissingEntry, match="no memory entry agent-1/plan"):
        memory.get("agent-1", "plan")
    with pytest.raises(MissingEntry):
        memory.delete("agent-1", "plan")
    assert memory.get("agent-2", "plan")["value"] == "someone else's plan"  # other namespace
    # a keyed entry is an ordinary vector entry: search finds it
    assert memory.search("someone else's plan", "agent-2", 1)[0].key == "plan"


def test_ttl_expires_on_the_clock_and_replacing_resets_it(memory, clock):
    memory.put("s", "short", "gone soon", ttl_s=60)
    memory.put("s", "long", "stays", ttl_s=3600)
    memory.put("s", "forever", "no ttl")
    assert memory.get("s", "short")["expires"] == "2026-01-15 09:31:00"
    clock.advance(59)
    assert memory.get("s", "short")["value"] == "gone soon"
    clock.advance(1)
    with pytest.raises(MissingEntry, match="expired"):
        memory.get("s", "short")
    assert [e["key"] for e in memory.list("s")] == ["forever", "long"]
    # the list purged the expired row and said so
    assert not m.VectorMemory.select().where(m.VectorMemory.key == "short").exists()
    event = m.MemoryEvent.get(m.MemoryEvent.reason == "ttl")
    assert (event.action, event.count) == ("expire", 1)
    # a put without ttl makes an expiring entry permanent
    memory.put("s", "long", "stays for good")
    clock.advance(7200)
    assert memory.get("s", "long")["expires"] is None
    assert [e["key"] for e in memory.list("s")] == ["forever", "long"]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda mem: mem.put("", "k", "v"), "namespace must be a non-empty string"),
        (lambda mem: mem.put("ns", "  ", "v"), "key must be a non-empty string"),
        (lambda mem: mem.put("ns", "k" * (MAX_NAME + 1), "v"), f"at most {MAX_NAME}"),
        (lambda mem: mem.put("n" * (MAX_NAME + 1), "k", "v"), f"at most {MAX_NAME}"),
        (lambda mem: mem.put("ns", "a\x1b[2Jb", "v"), "control characters"),
        (lambda mem: mem.put("ns", "k", "v", ttl_s=0), "positive number"),
        (lambda mem: mem.put("ns", "k", "v", ttl_s=-5), "positive number"),
        (lambda mem: mem.put("ns", "k", "v", ttl_s=float("nan")), "positive number"),
        (lambda mem: mem.put("ns", "k", "v", ttl_s="10"), "number of seconds"),
        (lambda mem: mem.put("ns", "k", ""), "text must be a non-empty string"),
        (lambda mem: mem.get("ns", ""), "key must be a non-empty string"),
        (lambda mem: mem.list(""), "namespace must be a non-empty string"),
    ],
)
def test_bad_input_is_refused_and_nothing_changes(memory, call, message):
    memory.put("ns", "kept", "still here")
    with pytest.raises(ValueError, match=message):
        call(memory)
    assert [e["key"] for e in memory.list("ns")] == ["kept"]


def test_show_reads_episodic_and_semantic_since(memory, clock):
    memory.record("s1", "action", "old event", {}, "success")
    clock.advance(3600)
    memory.record("s1", "result", "new event", {}, "failure")
    memory.semantic.put("a fact", kind="fact", subject="x", confidence=0.9, source="t", evidence=2)
    shown = memory.show("episodic", since=T0 + dt.timedelta(minutes=30))
    assert shown["total"] == 1 and [e["text"] for e in shown["entries"]] == ["new event"]
    assert memory.show("episodic")["total"] == 2
    facts = memory.show("semantic")
    assert facts["total"] == 1 and facts["entries"][0]["statement"] == "a fact"
    with pytest.raises(ValueError, match="working tier"):
        memory.show("working", since=T0)
    with pytest.raises(ValueError, match="tier must be one of"):
        memory.show("vector")
