"""Every CLI command, in text mode and with --json, through the entry point (`cli.main`).

A printing bug (like `hub inbox` passing `markup=` to a helper that did not take it) only
shows in text mode; this runs the whole command list twice, each time on its own fresh
store: once as a person reads it, once as a program does. A command added to the parser
without a step here fails `test_every_command_has_a_step`.

Commands run in-process (the console script's `main`), so the ~60 of them fit in the
suite's time; the subprocess entry point is covered by the per-group CLI tests.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from workbench.cli import build_parser, main
from workbench.engine import Engine
from workbench.store import models as m

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "sample_data" / "neural" / "code-review.model.json"
DATA = ROOT / "sample_data" / "neural" / "code_review.json"
MODEL = "code-review-classifier"
SQL = '{"code": "db.query(\\"SELECT * FROM t WHERE id=\\" + id)", "context": "api"}'
TASK_SOLUTION = "def add(a, b):\n    return a + b\n"
TASK_TESTS = "from solution import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n"
EVENT = json.dumps({"session": "ev-1", "kind": "prompt", "text": "rename the parser module"})
TRANSCRIPT = [
    {"type": "user", "uuid": "u1", "sessionId": "tx-1", "timestamp": "2026-12-01T10:00:00Z",
     "cwd": "/home/dev/app", "message": {"role": "user", "content": "list the files"}},
    {"type": "assistant", "uuid": "a1", "sessionId": "tx-1", "timestamp": "2026-12-01T10:00:02Z",
     "message": {"role": "assistant", "content": [
         {"type": "tool_use", "id": "t1", "name": "Bash", "input": {"command": "ls"}}]}},
    {"type": "user", "uuid": "u2", "sessionId": "tx-1", "timestamp": "2026-12-01T10:00:03Z",
     "message": {"role": "user", "content": [
         {"type": "tool_result", "tool_use_id": "t1", "content": "a.py", "is_error": False}]}},
]  # fmt: skip
INTERACTION = json.dumps(
    {"agent": "coder", "task": "parse csv files", "success": True, "actions": ["read", "write"]}
)

# Commands left out, and why (the set of commands is checked against the parser).
LEFT_OUT = {
    ("bench", "kernels"): "a ~40 s measurement; tests/kernels test its report",
    ("hooks", "run"): "prints nothing by contract (exit 0, empty stdout): tests/agents",
    ("mcp",): "a server until its client leaves: tests/test_mcp.py drives it",
    ("serve",): "a server until stopped: tests/ui/test_browser.py drives it",
    ("daemon", "start"): "a server: tests/test_daemon.py starts and stops real ones",
    ("daemon", "stop"): "tests/test_daemon.py",
    ("daemon", "status"): "tests/test_daemon.py",
    ("learn", "watch"): "a service until SIGTERM: tests/patterns/test_learn_watch.py runs it "
    "as a subprocess in both modes",
}
NO_DB = {("neural", "federate")}  # takes --stores instead
# Commands that answer a fresh store with a one-line refusal (exit 2), in both modes.
REFUSES_ON_A_FRESH_STORE = {
    ("learn", "rollback"): "only one version of the champion",
}


def continuous_deployed(db: str) -> bool:
    """Whether `learn trigger` deployed its candidate: then `learn rollback` has a version to
    go back to. Which way the one-epoch candidate's gates go depends on the sample
    operations, so the test asks the store instead of assuming."""
    with Engine(db):
        return (
            m.TrainingRun.select()
            .where((m.TrainingRun.kind == "continuous") & (m.TrainingRun.status == "deployed"))
            .exists()
        )


def latest_hub_item(db: str) -> str:
    with Engine(db):
        return m.KnowledgeItem.select().order_by(m.KnowledgeItem.id.desc()).get().uid


def latest_decision(db: str) -> str:
    with Engine(db):
        return m.AdaptiveDecision.select().order_by(m.AdaptiveDecision.id.desc()).get().uid


Step = tuple[tuple[str, ...], Callable[[dict], list[str]]]


def steps() -> list[Step]:
    """(command, argv after the command given the context) in an order that works."""
    return [
        (("init",), lambda c: []),
        (("store", "stats"), lambda c: []),
        (("neural", "catalog"), lambda c: []),
        (
            ("neural", "train"),
            lambda c: ["--model", str(SPEC), "--data", str(DATA), "--epochs", "3"],
        ),  # fmt: skip
        (("neural", "list"), lambda c: []),
        (("neural", "versions"), lambda c: [MODEL]),
        (("neural", "predict"), lambda c: ["--model", MODEL, "--input", SQL]),
        (("neural", "ensemble"), lambda c: ["--models", f"{MODEL}@1,{MODEL}@1", "--input", SQL]),
        (("neural", "quantize"), lambda c: [MODEL]),
        (("neural", "rollback"), lambda c: [MODEL, "--version", "1"]),
        (("neural", "export"), lambda c: [f"{MODEL}@1", "--output", str(c["dir"] / "m.clf")]),
        (("neural", "import"), lambda c: [str(c["dir"] / "m.clf"), "--name", "copy"]),
        (("neural", "delete"), lambda c: ["copy"]),
        (("neural", "cleanup"), lambda c: ["--keep", "5", "--dry-run", "--checkpoints"]),
        (
            ("neural", "federate"),
            lambda c: [
                "--stores",
                f"{c['db']},{c['other']}",
                "--model",
                str(SPEC),
                "--data",
                f"{DATA},{DATA}",
                "--name",
                "fed",
                "--rounds",
                "1",
                "--local-epochs",
                "1",
            ],
        ),  # fmt: skip
        (
            ("pipeline", "run"),
            lambda c: [
                "--tasks",
                str(c["tasks"]),
                "--iterations",
                "1",
                "--strategies",
                "balanced",
                "--workers",
                "1",
            ],
        ),  # fmt: skip
        (("pipeline", "status"), lambda c: []),
        (("pipeline", "select"), lambda c: []),
        (("memory", "store"), lambda c: ["--text", "retry a locked write", "--key", "k1"]),
        (("memory", "import"), lambda c: [str(ROOT / "sample_data" / "memory" / "vector.jsonl")]),
        (("memory", "search"), lambda c: ["locked write", "--k", "3"]),
        (
            ("memory", "put"),
            lambda c: [
                "--namespace",
                "agent",
                "--key",
                "plan",
                "--value",
                "read the test",
                "--ttl",
                "60",
            ],
        ),  # fmt: skip
        (("memory", "get"), lambda c: ["--namespace", "agent", "--key", "plan"]),
        (("memory", "list"), lambda c: ["--namespace", "agent"]),
        (("memory", "delete"), lambda c: ["--namespace", "agent", "--key", "plan"]),
        (("memory", "show"), lambda c: ["--tier", "episodic", "--limit", "3"]),
        (("memory", "stats"), lambda c: []),
        (("memory", "consolidate"), lambda c: []),
        (("memory", "optimize"), lambda c: []),
        (("hub", "channels"), lambda c: []),
        (("hub", "channel"), lambda c: ["reviews"]),
        (("hub", "subscribe"), lambda c: ["tester", "general"]),
        (
            ("hub", "share"),
            lambda c: [
                "--channel",
                "general",
                "--type",
                "solution",
                "--title",
                "Close cursors",
                "--content",
                "always",
                "--agent",
                "coder",
            ],
        ),  # fmt: skip
        (("hub", "inbox"), lambda c: ["tester"]),
        (("hub", "list"), lambda c: []),
        (("hub", "query"), lambda c: ["cursors"]),
        (("hub", "show"), lambda c: [latest_hub_item(c["db"])]),
        (("hub", "vote"), lambda c: [latest_hub_item(c["db"]), "--agent", "tester"]),
        (("hub", "applied"), lambda c: [latest_hub_item(c["db"]), "--agent", "tester"]),
        (
            ("hub", "update"),
            lambda c: [
                latest_hub_item(c["db"]),
                "--note",
                "clarified",
                "--content",
                "close them in finally",
            ],
        ),
        (("hub", "popular"), lambda c: []),
        (("hub", "export"), lambda c: [str(c["dir"] / "hub.json")]),
        (("hub", "import"), lambda c: [str(c["dir"] / "hub.json")]),
        (("hub", "archive"), lambda c: [latest_hub_item(c["db"])]),
        (("hub", "unsubscribe"), lambda c: ["tester", "general"]),
        (("hub", "prune"), lambda c: ["--dry-run"]),
        (("strategy", "analyze"), lambda c: ["build a REST API with auth"]),
        (
            ("strategy", "outcome"),
            lambda c: [latest_decision(c["db"]), "--success", "--duration", "30"],
        ),  # fmt: skip
        (("strategy", "status"), lambda c: []),
        (
            ("perf", "record"),
            lambda c: ["--agent", "coder", "--category", "api", "--duration", "20", "--success"],
        ),  # fmt: skip
        (("perf", "report"), lambda c: []),
        (("perf", "compare"), lambda c: ["coder", "reviewer"]),
        (("patterns", "analyze"), lambda c: ["--operation", '{"description": "refactor it"}']),
        (
            ("patterns", "learn"),
            lambda c: [
                "--operation",
                '{"description": "refactor it", "pattern": "systems"}',
                "--outcome",
                '{"success": true}',
            ],
        ),  # fmt: skip
        (("patterns", "record"), lambda c: ["--interaction", INTERACTION]),
        (("patterns", "failures"), lambda c: []),
        (("patterns", "learnings"), lambda c: []),
        (("patterns", "train"), lambda c: ["--epochs", "2", "--folds", "2"]),
        (("patterns", "status"), lambda c: []),
        (("learn", "status"), lambda c: []),
        (("learn", "curriculum"), lambda c: ["--force"]),
        (("learn", "trigger"), lambda c: ["--force", "--epochs", "1"]),
        (("learn", "rollback"), lambda c: []),
        (("neural", "evaluate"), lambda c: [MODEL, "--data", str(DATA)]),
        (("pipeline", "evaluate-selectors"), lambda c: ["--bootstrap", "50"]),
        (
            ("tasks", "add-repo"),
            lambda c: [
                str(c["tasks"] / "tiny_add"),
                "--tests",
                "test_solution.py",
                "--prompt",
                "Add two numbers.",
                "--name",
                f"repo_{c['mode']}",
                "--hollow",
                "solution:add",
            ],
        ),  # fmt: skip
        (("tasks", "list"), lambda c: []),
        (("tasks", "show"), lambda c: [f"repo_{c['mode']}"]),
        (("tasks", "validate"), lambda c: [f"repo_{c['mode']}"]),
        (("agents", "record"), lambda c: ["--event", EVENT]),
        (("agents", "import"), lambda c: [str(c["transcript"])]),
        (("agents", "list"), lambda c: []),
        (("agents", "show"), lambda c: ["ev-1"]),
        (("agents", "errors"), lambda c: []),
        (("agents", "redact-existing"), lambda c: []),
        (("agents", "purge"), lambda c: ["ev-1", "--yes"]),
        (("hooks", "install"), lambda c: ["--dir", str(c["dir"])]),
        (("hooks", "uninstall"), lambda c: ["--dir", str(c["dir"])]),
        (("doctor",), lambda c: []),
    ]


def parser_commands() -> set[tuple[str, ...]]:
    def walk(parser: argparse.ArgumentParser, prefix: tuple[str, ...]):
        subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if not subs:
            yield prefix
            return
        for name, sub in subs[0].choices.items():
            yield from walk(sub, (*prefix, name))

    return set(walk(build_parser(), ()))


def test_every_command_has_a_step():
    covered = {command for command, _ in steps()} | set(LEFT_OUT)
    assert parser_commands() == covered


@pytest.fixture
def context(tmp_path, monkeypatch) -> dict:
    monkeypatch.chdir(tmp_path)
    tasks = tmp_path / "tasks" / "tiny_add"
    tasks.mkdir(parents=True)
    meta = {"name": "tiny_add", "kind": "function", "complexity": "easy", "description": "Add."}
    (tasks / "task.json").write_text(json.dumps(meta))
    (tasks / "solution.py").write_text(TASK_SOLUTION)
    (tasks / "test_solution.py").write_text(TASK_TESTS)
    other = tmp_path / "other.db"
    with Engine(other) as engine:
        engine.seed()
    transcript = tmp_path / "session.jsonl"
    transcript.write_text("".join(json.dumps(r) + "\n" for r in TRANSCRIPT))
    return {"db": str(tmp_path / "store.db"), "other": str(other), "dir": tmp_path,
            "tasks": tasks.parent, "transcript": transcript}  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["text", "json"])
def test_every_command_prints_in_text_and_json(context, capsys, mode):
    context["mode"] = mode
    for command, build in steps():
        argv = [*command, *build(context)]
        if command not in NO_DB:
            argv += ["--db", context["db"]]
        if mode == "json":
            argv.append("--json")
        code = main(argv)
        out, err = capsys.readouterr()
        if command in REFUSES_ON_A_FRESH_STORE and not continuous_deployed(context["db"]):
            assert code == 2, (command, out, err)
            assert len(err.strip().splitlines()) == 1 and err.startswith("workbench: error: ")
            continue
        assert code == 0, (command, err)
        assert out.strip(), (command, "printed nothing")
        if mode == "json":
            json.loads(out)
        else:
            with pytest.raises(json.JSONDecodeError):  # text for people, not JSON
                json.loads(out)
