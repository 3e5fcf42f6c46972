"""hub, strategy and perf commands: the main paths through the real entry point in a
subprocess, the many small cases through the same `main()` in-process (a subprocess costs
about half a second of interpreter start-up each)."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.test_cli import assert_one_line_error, run_cli
from workbench.cli import main


@pytest.fixture
def call(capsys):
    """Run `main(args)` in-process; returns a CompletedProcess like `run_cli`."""

    def run(*args: str) -> subprocess.CompletedProcess:
        code = main(list(args))
        out, err = capsys.readouterr()
        return subprocess.CompletedProcess(list(args), code, out, err)

    return run


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    path = tmp_path_factory.mktemp("hubcli") / "w.db"
    assert run_cli("init", "--db", str(path)).returncode == 0
    return str(path)


def as_json(result: subprocess.CompletedProcess) -> dict | list:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_share_query_vote_through_the_entry_point(db):
    shared = as_json(run_cli(
        "hub", "share", "--db", db, "--channel", "testing", "--type", "solution",
        "--title", "Replay flaky tests with a fixed seed", "--content", "Seed the RNG.",
        "--priority", "high", "--tags", "pytest,flaky", "--agent", "coder", "--json",
    ))  # fmt: skip
    uid = shared["id"]
    assert shared["priority"] == "HIGH" and shared["tags"] == ["flaky", "pytest"]
    assert shared["delivered_to"] == ["reviewer", "tester"]
    found = as_json(run_cli("hub", "query", "flaky seed", "--db", db, "--tag", "flaky", "--json"))
    assert found[0]["id"] == uid and found[0]["score"] > 0
    as_json(run_cli("hub", "vote", uid, "--agent", "tester", "--db", db, "--json"))
    assert_one_line_error(
        run_cli("hub", "vote", uid, "--agent", "tester", "--db", db), "tester already voted"
    )


def test_apply_show_popular_inbox(db, call):
    # its own item: under `--dist worksteal` the test above may have run on another worker,
    # with another copy of the module's store
    uid = as_json(call(
        "hub", "share", "--db", db, "--channel", "testing", "--type", "solution",
        "--title", "Replay flaky tests: pin the seed", "--content", "Seed the RNG per test.",
        "--priority", "critical", "--tags", "pytest", "--agent", "coder", "--json",
    ))["id"]  # fmt: skip
    applied = as_json(
        call("hub", "applied", uid, "--agent", "tester", "--success", "--db", db, "--json")
    )
    assert applied["success_count"] == 1 and applied["applied_count"] == 1
    human = call("hub", "show", uid, "--db", db)
    assert "v1" in human.stdout and "EXPERIMENTAL" in human.stdout
    assert uid in [r["id"] for r in as_json(call("hub", "popular", "--db", db, "--json"))]
    assert uid in [r["id"] for r in as_json(call("hub", "inbox", "tester", "--db", db, "--json"))]
    updated = as_json(
        call(
            "hub",
            "update",
            uid,
            "--note",
            "why",
            "--content",
            "Seed numpy too.",
            "--db",
            db,
            "--json",
        )
    )
    assert updated["version"] == 2 and updated["versions"][0]["change_note"] == "why"
    listed = call("hub", "list", "--channel", "testing", "--db", db)
    assert "Replay flaky tests" in listed.stdout


def test_subscribe_and_channels(db, call):
    assert as_json(call("hub", "subscribe", "coder", "testing", "--db", db, "--json"))["changed"]
    assert "no change" in call("hub", "subscribe", "coder", "testing", "--db", db).stdout
    channels = {c["name"]: c for c in as_json(call("hub", "channels", "--db", db, "--json"))}
    assert "coder" in channels["testing"]["subscribers"]
    assert as_json(call("hub", "channel", "security", "--db", db, "--json"))["name"] == "security"


def test_export_import_and_a_bad_file(db, tmp_path, call):
    path = tmp_path / "kb.json"
    exported = as_json(call("hub", "export", str(path), "--db", db, "--json"))
    report = as_json(call("hub", "import", str(path), "--db", db, "--json"))
    assert report["items_added"] == 0 and report["items_merged"] == exported["items"]
    bad = tmp_path / "bad.json"
    doc = json.loads(path.read_text())
    doc["items"][0]["priority"] = "URGENT"
    bad.write_text(json.dumps(doc))
    before = as_json(call("store", "stats", "--db", db, "--json"))["tables"]
    assert_one_line_error(run_cli("hub", "import", str(bad), "--db", db), "'priority' must be")
    assert as_json(call("store", "stats", "--db", db, "--json"))["tables"] == before


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("hub", "share", "--channel", "testing", "--type", "solution", "--title", "t",
          "--content", "c", "--priority", "URGENT"), "priority must be one of"),
        (("hub", "share", "--channel", "testing", "--type", "solution", "--title", "t",
          "--content", "c", "--context", "[1]"), "--context must be a JSON object"),
        (("hub", "subscribe", "coder", "nowhere"), "unknown channel 'nowhere'"),
        (("hub", "applied", "kb-missing", "--agent", "a"), "no knowledge item 'kb-missing'"),
        (("hub", "update", "kb-0001", "--note", "n"), "update needs --title and/or --content"),
        (("hub", "prune", "--stale-days", "-1"), "stale days must be"),
        (("hub", "export", "/nonexistent-dir/kb.json"), "export directory does not exist"),
        (("hub", "import", "/nonexistent-dir/kb.json"), "no such file"),
        (("strategy", "analyze", "  "), "task description must not be empty"),
        (("strategy", "outcome", "st-missing", "--success", "--duration", "3"),
         "no strategy decision 'st-missing'"),
        (("perf", "record", "--agent", "a", "--category", "c", "--duration", "-1", "--success"),
         "duration must be"),
        (("perf", "report", "--min-priority", "0"), "between 1 and 10"),
        (("perf", "compare", "coder", "ghost"), "no recorded executions for agent 'ghost'"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line(db, call, args, fragment):
    assert_one_line_error(call(*args, "--db", db), fragment)


def test_prune_dry_run_reports(db, call):
    report = as_json(call("hub", "prune", "--dry-run", "--db", db, "--json"))
    assert report["dry_run"] is True and report["deleted"] == []
    assert "would archive" in call("hub", "prune", "--dry-run", "--db", db).stdout


def test_strategy_analyze_outcome_status(db, call):
    text = "Fix the crash in the parser and add a regression test"
    decided = as_json(run_cli("strategy", "analyze", text, "--db", db, "--json"))
    assert decided["analysis"]["complexity"] == "MODERATE"
    choice = decided["choice"]
    assert choice["strategy"] in {"single", "sequential", "parallel", "hierarchical", "consensus"}
    assert 0 < choice["confidence"] < 1
    recorded = as_json(call(
        "strategy", "outcome", decided["id"], "--failure", "--duration", "42.5",
        "--iterations", "3", "--improve", "split the work", "--db", db, "--json",
    ))  # fmt: skip
    assert recorded["strategy"] == choice["strategy"] and recorded["success"] is False
    status = as_json(call("strategy", "status", "--db", db, "--json"))
    assert status["statistics"]["outcomes"] == 20  # 19 sample outcomes + this one
    human = call("strategy", "analyze", text, "--no-record", "--db", db)
    assert "complexity   MODERATE" in human.stdout and "decision" not in human.stdout


def test_perf_record_report_compare(db, call):
    recorded = as_json(run_cli(
        "perf", "record", "--agent", "coder", "--category", "api_development",
        "--duration", "12.5", "--success", "--db", db, "--json",
    ))  # fmt: skip
    assert recorded["agent"] == "coder"
    report = as_json(call("perf", "report", "--db", db, "--json"))
    assert report["executions"] == 70  # 69 sample executions + this one
    assert all(1 <= r["priority"] <= 10 for r in report["recommendations"])
    assert report["recommendations"]
    human = call("perf", "report", "--db", db)
    assert "recommendations:" in human.stdout and "bottlenecks" in human.stdout
    compared = as_json(call("perf", "compare", "coder", "reviewer", "--db", db, "--json"))
    assert [c["category"] for c in compared["categories"]] == ["api_development"]
