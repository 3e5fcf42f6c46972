"""How a recorded agent session (or one turn of it) went, from what was recorded.

Only recorded tool calls count; nothing is guessed from the agent's own words.

- A **test run** is a completed tool call whose input has a shell `command` (Claude Code's
  Bash, a neutral event's shell tool) matching `TEST_COMMAND` (pytest, python -m pytest /
  unittest, tox, nox, npm/yarn/pnpm/bun test, go test, cargo test, make test|check, jest,
  vitest, mocha, rspec, phpunit, ctest, mvn test, gradle test). It **failed** when its
  output reports failures or errors (`N failed`, `N error(s)`, pytest's/jest's summary),
  else when the call itself failed (PostToolUseFailure, an error flag), else when the
  output says FAIL/FAILED; otherwise it **passed**.
- An **edit** is a successful call of a tool in `EDIT_TOOLS` (Edit, Write, MultiEdit,
  NotebookEdit, and the neutral names edit/write/apply_patch); its file is the input's
  `file_path` / `notebook_path` / `path`.
- A **tool failure** is any call recorded as failed.

The outcome, first rule that applies:

1. there was a test run: **success** if the last one passed, **failure** if it failed;
2. no test run and the last completed tool call failed: **failure**;
3. no test run, some tool calls failed but the last one succeeded: **partial**;
4. no test run, no failure, edits made: **partial** (work done, nothing checked it);
5. otherwise **unknown** (nothing checkable).

Only success and failure are measurements, so only they feed the adaptive optimizer's agent
executions and pattern learning (pattern memory, learnings, the experience buffer); every
turn with activity becomes an episodic memory entry, with outcome `neutral` unless measured.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

TEST_COMMAND = re.compile(
    r"(?:^|[\s;&|(/])(?:pytest|py\.test|python\d*(?:\.\d+)?\s+-m\s+(?:pytest|unittest)"
    r"|tox|nox|(?:npm|yarn|pnpm|bun)\s+(?:run\s+)?test|go\s+test|cargo\s+test"
    r"|make\s+(?:test|check)|jest|vitest|mocha|rspec|phpunit|ctest|mvn\s+test"
    r"|(?:\./)?gradlew?\s+test)(?=$|[\s;&|)])"
)
COUNTS = re.compile(r"\b(\d+)\s+(failed|passed|errors?|failures?)\b", re.IGNORECASE)
FAIL_WORD = re.compile(r"\bFAIL(?:ED)?\b")
EDIT_TOOLS = frozenset(
    {"edit", "write", "multiedit", "notebookedit", "apply_patch", "str_replace_based_edit_tool"}
)
FILE_KEYS = ("file_path", "notebook_path", "path")
MAX_FILES = 20
OUTCOMES = ("success", "failure", "partial", "unknown")


def shell_command(tool_input: Any) -> str | None:
    """The shell command of a tool call, if it ran one."""
    if isinstance(tool_input, Mapping):
        for key in ("command", "cmd"):
            if isinstance(tool_input.get(key), str):
                return tool_input[key]
    return None


def is_test_command(command: str) -> bool:
    return bool(TEST_COMMAND.search(command))


def test_result(status: str, output: str | None) -> dict[str, Any]:
    """passed/failed of one completed test run, with the counts its output reports."""
    counts = {"passed": 0, "failed": 0, "errors": 0}
    found = False
    for number, word in COUNTS.findall(output or ""):
        word = word.lower()
        key = "passed" if word == "passed" else "failed" if word.startswith("fail") else "errors"
        counts[key] = max(counts[key], int(number))
        found = True
    if found:
        failed = counts["failed"] + counts["errors"] > 0
        how = "output counts"
    elif status == "failed":
        failed, how = True, "the call failed"
    elif FAIL_WORD.search(output or ""):
        failed, how = True, "output says FAIL"
    else:
        failed, how = False, "the call succeeded"
    return {"result": "failed" if failed else "passed", "by": how, **counts}


def derive(calls: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The outcome of a list of tool calls (dicts with tool_name, input (JSON text or
    object), status, response, error), in the order they were made."""
    runs: list[dict[str, Any]] = []
    files: list[str] = []
    edits = failures = total = 0
    last_completed: str | None = None
    for call in calls:
        total += 1
        status = call.get("status", "pending")
        if status == "failed":
            failures += 1
        if status in ("ok", "failed"):
            last_completed = status
        tool_input = call.get("input")
        if isinstance(tool_input, str):
            try:
                tool_input = json.loads(tool_input)
            except ValueError:
                tool_input = None
        command = shell_command(tool_input)
        if command and status != "pending" and is_test_command(command):
            output = "\n".join(str(call.get(k) or "") for k in ("response", "error"))
            runs.append({"command": command[:200], **test_result(status, output)})
        name = str(call.get("tool_name", "")).lower()
        if name in EDIT_TOOLS and status == "ok":
            edits += 1
            if isinstance(tool_input, Mapping):
                path = next(
                    (tool_input[k] for k in FILE_KEYS if isinstance(tool_input.get(k), str)), None
                )
                if path and path not in files and len(files) < MAX_FILES:
                    files.append(path)
    if runs:
        last = runs[-1]
        outcome = "success" if last["result"] == "passed" else "failure"
        rule = f"the last of {len(runs)} test run(s) {last['result']} ({last['by']})"
    elif last_completed == "failed":
        outcome, rule = "failure", "no test run; the last tool call failed"
    elif failures:
        outcome = "partial"
        rule = f"no test run; {failures} tool call(s) failed, the last one succeeded"
    elif edits:
        outcome, rule = "partial", f"{edits} edit(s) made, no test run checked them"
    else:
        outcome, rule = "unknown", "nothing checkable: no test run, no edit, no failed call"
    return {
        "outcome": outcome,
        "rule": rule,
        "tool_calls": total,
        "tool_failures": failures,
        "tests": {
            "runs": len(runs),
            "last": runs[-1] if runs else None,
            "failed_runs": sum(r["result"] == "failed" for r in runs),
        },
        "edits": edits,
        "files": files,
    }
