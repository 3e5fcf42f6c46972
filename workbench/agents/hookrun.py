"""`workbench hooks run [--advise] [--db PATH]`: the lean path a coding agent calls on every
tool call.

It reads one hook event (Claude Code's JSON) from stdin and records it. It never disturbs
the agent: in Claude Code exit status 2 *blocks* the action, so this command exits 0 on
every problem (malformed JSON, invalid UTF-8, a locked store, a full disk), prints nothing
on stdout unless it is advising, and keeps the problem in `agent_errors` (shown by
`workbench agents errors`); when even that fails, the problem is swallowed. This is the one
exception to the CLI's "bad input exits 2" rule.

`main()` in `workbench/cli/__init__.py` dispatches here before building the full parser, so
the call imports neither the other command groups nor Textual nor the MCP SDK.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Mapping, Sequence
from typing import IO, Any

MAX_INPUT = 16 * 1024 * 1024  # a hook event larger than this is refused (and recorded)


def parse_args(argv: Sequence[str]) -> tuple[bool, str | None]:
    """(--advise, --db) from the arguments after `hooks run`; anything else is ignored."""
    advise, db = False, None
    args = list(argv)
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--advise":
            advise = True
        elif arg == "--db" and i + 1 < len(args):
            db = args[i + 1]
            i += 1
        elif arg.startswith("--db="):
            db = arg[len("--db=") :]
        i += 1
    return advise, db


def decode(raw: bytes) -> Any:
    """The hook input as JSON; a ValueError names what is wrong (byte, line, column)."""
    if len(raw) > MAX_INPUT:
        raise ValueError(f"hook input: larger than {MAX_INPUT} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"hook input: not UTF-8 text (bad byte at offset {exc.start})") from None
    if not text.strip():
        raise ValueError("hook input: empty (expected one JSON object on stdin)")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"hook input: not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from None


def run(
    argv: Sequence[str],
    stdin: IO[bytes] | None = None,
    stdout: IO[str] | None = None,
    env: Mapping[str, str] | None = None,
) -> int:
    """Record one hook event; always 0."""
    with contextlib.suppress(BaseException):  # a hook never fails its agent, not even on ^C
        _run(argv, stdin, stdout, env)
    return 0


def _run(argv, stdin, stdout, env) -> None:
    env = os.environ if env is None else env
    stdin = sys.stdin.buffer if stdin is None else stdin
    stdout = sys.stdout if stdout is None else stdout
    advise, db = parse_args(argv)
    raw = stdin.read()
    from workbench.agents import exclude

    if exclude.recording_off(env):
        return
    problem, data, session = None, None, None
    try:
        data = decode(raw)
    except ValueError as exc:
        problem = str(exc)
    if isinstance(data, dict):
        session = data.get("session_id") if isinstance(data.get("session_id"), str) else None
        cwd = data.get("cwd") if isinstance(data.get("cwd"), str) else None
        from workbench import config

        settings = config.load_settings(config.config_file(env))
        if exclude.excluded(cwd, exclude.exclude_patterns(settings)):
            return
    from workbench.engine import Engine

    engine = Engine(db, env=env)
    try:
        if problem is not None:
            engine.agents.record_error("hooks", problem, None, _excerpt(raw))
            return
        try:
            with engine.guard():
                if advise:  # answer now: never train a vector index inside a hook call
                    engine.memory.vector.train_on_search = False
                answer = engine.agents.record_hook_event(data, advise=advise)
        except Exception as exc:  # noqa: BLE001 - recorded, never raised to the agent
            with engine.guard():
                engine.agents.record_error("hooks", _one_line(exc), session, _excerpt(raw))
            return
        if answer:
            stdout.write(answer + "\n")
            stdout.flush()
    finally:
        engine.close()


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if isinstance(exc, ValueError) else f"{type(exc).__name__}: {text}"


def _excerpt(raw: bytes, limit: int = 2000) -> str:
    return raw[:limit].decode("utf-8", errors="replace")
