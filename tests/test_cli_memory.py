"""`workbench memory ...` through the real entry point."""

from __future__ import annotations

import json
import sqlite3

import pytest

from tests.test_cli import assert_one_line_error, run_cli
from workbench.engine import Engine

MEMORY_TABLES = ("vector_memory", "episodic_memory", "semantic_memory", "memory_events")


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "mem.db"
    with Engine(path) as engine:
        engine.seed()
    return str(path)


def memory_rows(db: str) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        return {t: conn.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in MEMORY_TABLES}


def test_store_then_search_finds_it_first(db):
    text = "a consolidation write that hits database is locked succeeds on retry"
    stored = run_cli("memory", "store", "--db", db, "--json", "--namespace", "notes",
                     "--key", "k1", "--text", text, "--meta", '{"area": "sqlite"}')  # fmt: skip
    assert stored.returncode == 0, stored.stderr
    assert json.loads(stored.stdout) == {
        "tier": "vector", "namespace": "notes", "key": "k1", "replaced": False,
    }  # fmt: skip
    found = run_cli("memory", "search", text, "--db", db, "--k", "3", "--json")
    assert found.returncode == 0, found.stderr
    hits = json.loads(found.stdout)
    assert len(hits) == 3
    assert {"key", "text", "score"} <= set(hits[0])
    assert hits[0]["key"] == "k1" and hits[0]["score"] == pytest.approx(1.0, abs=1e-5)
    only = json.loads(run_cli("memory", "search", "locked", "--db", db, "--namespace",
                              "notes", "--json").stdout)  # fmt: skip
    assert [h["key"] for h in only] == ["k1"]
    plain = run_cli("memory", "search", text, "--db", db, "--k", "1")
    assert "notes/k1" in plain.stdout and "1.0000" in plain.stdout


def test_store_episode_and_fact(db):
    episode = run_cli("memory", "store", "--db", db, "--json", "--tier", "episodic",
                      "--namespace", "sess", "--key", "result", "--text", "tests passed",
                      "--meta", '{"outcome": "success", "strategy": "balanced"}')  # fmt: skip
    assert episode.returncode == 0, episode.stderr
    result = json.loads(episode.stdout)
    assert (result["session"], result["sequence"], result["evicted"]) == ("sess", 1, [])
    fact = run_cli("memory", "store", "--db", db, "--tier", "semantic", "--namespace", "rule",
                   "--key", "sqlite", "--text", "Use one writer", "--meta",
                   '{"confidence": 0.9}')  # fmt: skip
    assert fact.returncode == 0 and fact.stdout.startswith("added rule #")


def test_stats_reports_each_tier(db):
    result = run_cli("memory", "stats", "--db", db, "--json")
    assert result.returncode == 0, result.stderr
    stats = json.loads(result.stdout)
    assert set(stats) == {"vector", "episodic", "semantic", "working"}
    for tier in stats.values():
        assert {"count", "bytes"} <= set(tier)
    vector = stats["vector"]
    assert vector["count"] == 48  # the seed
    assert vector["compression_ratio"] > 3.5
    assert vector["searches"] == 20 and vector["latency_source"] == "probe"
    assert vector["search_p50_ms"] > 0
    assert stats["episodic"]["count"] == 72 and stats["semantic"]["count"] == 20
    assert stats["working"]["scope"] == "session"
    plain = run_cli("memory", "stats", "--db", db)
    assert "smaller than float32" in plain.stdout and "this process only" in plain.stdout


def test_consolidate_reports_what_moved(db):
    result = run_cli("memory", "consolidate", "--db", db, "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["reason"] == "manual" and report["episodes_considered"] == 72
    subjects = {p["subject"] for p in report["promoted"]}
    assert "strategy=aggressive" in subjects
    again = run_cli("memory", "consolidate", "--db", db)
    assert "promoted 0, reinforced 0" in again.stdout


def test_import_keeps_good_lines_and_names_bad_ones(db, tmp_path):
    path = tmp_path / "bulk.jsonl"
    path.write_text(
        '{"text": "alpha line", "key": "a"}\n{oops\n{"text": "beta line", "namespace": "b"}\n'
        '{"text": 5}\n',
        encoding="utf-8",
    )
    result = run_cli("memory", "import", str(path), "--db", db, "--json")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["stored"] == 2 and report["bad_lines"] == 2
    errors = result.stderr.strip().splitlines()
    assert errors == [
        f"workbench: {path}:2: not JSON (Expecting property name enclosed in double quotes)",
        f"workbench: {path}:4: text must be a non-empty string",
    ]
    found = json.loads(run_cli("memory", "search", "alpha line", "--db", db, "--json").stdout)
    assert found[0]["key"] == "a"
    clean = tmp_path / "clean.jsonl"
    clean.write_text('{"text": "gamma"}\n', encoding="utf-8")
    assert run_cli("memory", "import", str(clean), "--db", db).returncode == 0


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("store", "--text", "x", "--meta", "{"), "--meta: not JSON"),
        (("store", "--text", "x", "--meta", "[1]"), "--meta: must be a JSON object"),
        (("store", "--tier", "episodic", "--text", "x", "--meta", '{"outcome": "meh"}'),
         "outcome must be one of success, failure, neutral"),
        (("search", "q", "--k", "0"), "k must be an integer from 1 to 1000"),
        (("search", "q", "--where", "nope"), "--where: not JSON"),
        (("import", "does-not-exist.jsonl"), "does-not-exist.jsonl: not a file"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_and_stores_nothing(db, args, fragment):
    before = memory_rows(db)
    assert_one_line_error(run_cli("memory", *args, "--db", db), fragment)
    assert memory_rows(db) == before


def test_import_of_a_binary_file_is_a_clear_error(db, tmp_path):
    path = tmp_path / "blob.jsonl"
    path.write_bytes(b"\xff\xfe\x00garbage")
    assert_one_line_error(run_cli("memory", "import", str(path), "--db", db), "not UTF-8")


def test_memory_by_key_through_the_cli(db):
    put = run_cli("memory", "put", "--db", db, "--namespace", "agent", "--key", "plan",
                  "--value", "read the test first", "--ttl", "3600", "--json")  # fmt: skip
    assert put.returncode == 0, put.stderr
    assert json.loads(put.stdout)["replaced"] is False
    got = run_cli("memory", "get", "--db", db, "--namespace", "agent", "--key", "plan")
    assert (got.returncode, got.stdout) == (0, "read the test first\n")
    listed = run_cli("memory", "list", "--db", db, "--namespace", "agent", "--json")
    entries = json.loads(listed.stdout)
    assert [(e["key"], e["value"]) for e in entries] == [("plan", "read the test first")]
    assert entries[0]["expires"] is not None
    gone = run_cli("memory", "delete", "--db", db, "--namespace", "agent", "--key", "plan")
    assert (gone.returncode, gone.stdout.strip()) == (0, "deleted agent/plan")
    assert_one_line_error(
        run_cli("memory", "get", "--db", db, "--namespace", "agent", "--key", "plan"),
        "no memory entry agent/plan",
    )


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("get", "--namespace", "agent", "--key", "missing"), "no memory entry agent/missing"),
        (("delete", "--namespace", "agent", "--key", "missing"), "no memory entry"),
        (("put", "--namespace", "a", "--key", "k", "--value", "v", "--ttl", "-1"), "ttl must be"),
        (("put", "--namespace", "a", "--key", "k", "--value", "v", "--ttl", "soon"), "ttl must"),
        (("put", "--namespace", "", "--key", "k", "--value", "v"), "namespace must be"),
        (("put", "--namespace", "a", "--key", "k" * 201, "--value", "v"), "at most 200"),
        (("show", "--tier", "episodic", "--since", "yesterday"), "--since: not a date"),
        (("show", "--tier", "working", "--since", "1h"), "working tier"),
    ],
)
def test_memory_by_key_bad_input_is_one_line_and_changes_nothing(db, args, fragment):
    before = memory_rows(db)
    assert_one_line_error(run_cli("memory", *args, "--db", db), fragment)
    assert memory_rows(db) == before


def test_memory_show_reads_every_tier(db):
    for tier, head in (("episodic", "episodic: "), ("semantic", "semantic: "),
                       ("working", "working: 0 entries")):  # fmt: skip
        shown = run_cli("memory", "show", "--db", db, "--tier", tier, "--limit", "2")
        assert shown.returncode == 0, shown.stderr
        assert shown.stdout.startswith(head)
    as_json = json.loads(
        run_cli(
            "memory", "show", "--db", db, "--tier", "episodic", "--since", "1d", "--json"
        ).stdout  # fmt: skip
    )
    assert as_json["total"] > 0 and len(as_json["entries"]) == min(as_json["total"], 100)
