"""Helpers for the agents tests: real-shaped Claude Code hook events and a hook runner."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import pytest

from workbench.cli import main


def hook_event(name: str, session: str = "sess-A", cwd: str = "/home/dev/parser", **fields):
    """A Claude Code hook input as documented (common fields + the event's own)."""
    return {
        "session_id": session,
        "transcript_path": f"/home/dev/.claude/projects/-home-dev-parser/{session}.jsonl",
        "cwd": cwd,
        "permission_mode": "default",
        "hook_event_name": name,
        **fields,
    }


def run_hook_process(db, payload, *args: str, env: dict | None = None):
    """`workbench hooks run` as Claude Code runs it: a process with the event on stdin."""
    data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return subprocess.run(
        [sys.executable, "-m", "workbench", "hooks", "run", "--db", str(db), *args],
        input=data,
        capture_output=True,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


@pytest.fixture
def hook(monkeypatch, capsysbinary):
    """`main(["hooks", "run", ...])` in-process with bytes on stdin: (exit code, stdout)."""

    def run(db, payload, *args: str):
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        fake = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8")
        monkeypatch.setattr(sys, "stdin", fake)
        code = main(["hooks", "run", "--db", str(db), *args])
        out, err = capsysbinary.readouterr()
        return code, out, err

    return run
