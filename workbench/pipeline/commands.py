"""Command strategies: an agent CLI, a script calling a model or any tool, as a strategy.

A command strategy runs inside the task's sandbox copy, as its working directory, before
the task's tests. It edits files in place; the tests then run on what it left. It sees
the sandbox's scrubbed environment plus

    WB_PROMPT    the task's prompt (repo tasks) or its description and what to edit
    WB_TASK_ID   the task's name
    WB_FILES     the files it may edit, one per line

and only the variables it names in `pass_env` (an agent's API key reaches that agent and
nothing else). It goes through the same launcher as the tests (`sandbox.launch`: CPU,
memory, file-size and process limits, its own process group, a wall timeout), under a
small supervisor process, so a command that kills its parent kills only the supervisor:
that, a timeout or a cancel is a recorded failure and the run goes on. Test files it
touched are put back before the tests run (it must not grade itself). Its exit code, time
and the diff it made (bounded to `MAX_DIFF_CHARS`) are recorded on the execution.

Declared with `--strategy-cmd NAME='COMMAND ...'` (split with shlex) or in a
`strategies.toml`: one table per strategy,

    [my_agent]
    command = ["my-agent", "--fix"]      # or a string, split with shlex
    timeout = 300                         # seconds (default 300)
    pass_env = ["ANTHROPIC_API_KEY"]      # variables it receives (default none)
    network = true                        # it needs the network (default false)
    memory_mb = 2048                      # address-space limit (default 1024)
    description = "my agent, fix mode"

`network` is recorded and handed to the launcher; today's launcher has no network
isolation, so every command can reach the network until an isolating launcher honours it.
"""

from __future__ import annotations

import difflib
import os
import shlex
import shutil
import sys
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

from workbench.pipeline.isolation import Isolation
from workbench.pipeline.sandbox import (
    MEMORY_LIMIT_BYTES,
    ExecutionResult,
    ProcessRegistry,
    _describe_exit,
    isolated,
    run_launch,
)
from workbench.pipeline.tasks import TaskSpec

DEFAULT_TIMEOUT_S = 300.0
MAX_TIMEOUT_S = 24 * 3600.0
MAX_DIFF_CHARS = 20_000
MAX_DIFF_FILE_BYTES = 1 << 20
COMMAND_LOG_CHARS = 1500
STRATEGIES_FILE = "strategies.toml"
KEYS = ("command", "timeout", "pass_env", "network", "memory_mb", "description")
RESERVED_ENV = ("WB_PROMPT", "WB_TASK_ID", "WB_FILES")

# Runs the command as its child and exits with its status (128 + n for a signal): the
# command's parent is this process, never the pipeline.
SUPERVISOR = """
import subprocess, sys
try:
    code = subprocess.call(sys.argv[1:])
except OSError as exc:
    print(f"workbench: cannot start {sys.argv[1]}: {exc}", file=sys.stderr)
    sys.exit(127)
sys.exit(code if code >= 0 else 128 - code)
"""


@dataclass(frozen=True)
class CommandStrategy:
    """A named command and what it may receive."""

    name: str
    command: tuple[str, ...]
    timeout_s: float = DEFAULT_TIMEOUT_S
    pass_env: tuple[str, ...] = ()
    network: bool = False
    memory_mb: int = MEMORY_LIMIT_BYTES >> 20
    description: str = ""

    def describe(self) -> dict:
        """What a run records about it (names of variables, never their values)."""
        out = asdict(self)
        out["command"] = list(self.command)
        out["pass_env"] = list(self.pass_env)
        return out


@dataclass(frozen=True)
class CommandStep:
    """What the sandbox needs to run one command strategy on one task."""

    argv: tuple[str, ...]
    timeout_s: float
    memory_bytes: int
    passed_env: Mapping[str, str] = field(default_factory=dict)
    network: bool = False


def _check_name(name: str, where: str) -> None:
    if not name.isidentifier():
        raise ValueError(f"{where}: strategy name {name!r} must be an identifier")


def _resolve_argv(argv: list[str], where: str, base: Path) -> tuple[str, ...]:
    """The program as an absolute path (the sandbox's PATH is minimal)."""
    if not argv or not all(isinstance(a, str) for a in argv) or not argv[0].strip():
        raise ValueError(f"{where}: command must be a non-empty list of strings")
    program = argv[0]
    if os.sep in program:
        # absolute, but links kept: a venv's python must stay the venv's
        path = Path(os.path.abspath(base / Path(program).expanduser()))
        if not path.is_file() or not os.access(path, os.X_OK):
            raise ValueError(f"{where}: {program} is not an executable file")
        found = str(path)
    else:
        found = shutil.which(program) or ""
        if not found:
            raise ValueError(f"{where}: command {program!r} not found on PATH")
    return (found, *argv[1:])


def parse_strategy_cmd(spec: str, base: Path | None = None) -> CommandStrategy:
    """`NAME=COMMAND ARGS...` (from `--strategy-cmd`) → a command strategy."""
    where = f"--strategy-cmd {spec!r}"
    name, sep, command = spec.partition("=")
    name = name.strip()
    if not sep or not name:
        raise ValueError(f"{where}: use NAME='COMMAND ...'")
    _check_name(name, where)
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None
    return CommandStrategy(name=name, command=_resolve_argv(argv, where, base or Path.cwd()))


def load_strategies_file(path: str | Path) -> list[CommandStrategy]:
    """Every command strategy in a strategies.toml; any problem is one ValueError line."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"{path}: no such strategies file") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"{path}: not valid TOML ({exc})") from None
    out = []
    for name, table in data.items():
        where = f"{path}: [{name}]"
        if not isinstance(table, dict):
            raise ValueError(f"{path}: {name!r} must be a [{name}] table of one strategy")
        _check_name(name, f"{path}")
        unknown = sorted(set(table) - set(KEYS))
        if unknown:
            raise ValueError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(KEYS)})")
        command = table.get("command")
        if isinstance(command, str):
            try:
                command = shlex.split(command)
            except ValueError as exc:
                raise ValueError(f"{where}: command: {exc}") from None
        if not isinstance(command, list):
            raise ValueError(f"{where}: command must be a list of strings or a string")
        argv = _resolve_argv(command, where, path.parent.resolve())
        timeout = table.get("timeout", DEFAULT_TIMEOUT_S)
        if isinstance(timeout, bool) or not isinstance(timeout, int | float):
            raise ValueError(f"{where}: timeout must be a number of seconds")
        if not 0 < timeout <= MAX_TIMEOUT_S:
            raise ValueError(f"{where}: timeout must be in (0, {MAX_TIMEOUT_S:g}]")
        pass_env = table.get("pass_env", [])
        if not isinstance(pass_env, list) or not all(
            isinstance(v, str) and v.isidentifier() for v in pass_env
        ):
            raise ValueError(f"{where}: pass_env must be a list of variable names")
        reserved = [v for v in pass_env if v in RESERVED_ENV]
        if reserved:
            raise ValueError(f"{where}: pass_env may not name {reserved[0]} (set by workbench)")
        network = table.get("network", False)
        if not isinstance(network, bool):
            raise ValueError(f"{where}: network must be true or false")
        memory_mb = table.get("memory_mb", MEMORY_LIMIT_BYTES >> 20)
        if isinstance(memory_mb, bool) or not isinstance(memory_mb, int) or memory_mb < 64:
            raise ValueError(f"{where}: memory_mb must be a whole number >= 64")
        description = table.get("description", "")
        if not isinstance(description, str):
            raise ValueError(f"{where}: description must be a string")
        out.append(
            CommandStrategy(
                name, argv, float(timeout), tuple(pass_env), network, memory_mb, description
            )  # fmt: skip
        )
    if not out:
        raise ValueError(f"{path}: no strategies (one [name] table per strategy)")
    return out


def make_step(strategy: CommandStrategy, environ: Mapping[str, str] | None = None) -> CommandStep:
    """The step for one execution, with the named variables' current values."""
    environ = os.environ if environ is None else environ
    missing = [v for v in strategy.pass_env if v not in environ]
    if missing:
        raise ValueError(f"strategy {strategy.name!r}: pass_env {missing[0]} is not set")
    return CommandStep(
        argv=strategy.command,
        timeout_s=strategy.timeout_s,
        memory_bytes=strategy.memory_mb << 20,
        passed_env={v: environ[v] for v in strategy.pass_env},
        network=strategy.network,
    )


def step_env(step: CommandStep, task: TaskSpec) -> dict[str, str]:
    """What the command receives beyond the sandbox's scrubbed environment: the WB_*
    variables and the ones its strategy names (`pass_env`), nothing else."""
    return {
        **step.passed_env,
        "WB_PROMPT": task.instructions,
        "WB_TASK_ID": task.name,
        "WB_FILES": "\n".join(task.editable),
    }


def program_files(argv: Iterable[str]) -> list[str]:
    """The command's own files (its program, and script arguments given by absolute path)
    that a namespaced sandbox shows read-only; nothing else of the user's files is visible."""
    return [a for a in argv if os.path.isabs(a) and os.path.isfile(a)]


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Relative path → content of every regular file under root (None when too big)."""
    out: dict[str, bytes | None] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in ("__pycache__", ".pytest_cache"))
        for filename in sorted(filenames):
            path = Path(dirpath) / filename
            if path.is_symlink() or not path.is_file():
                continue
            rel = path.relative_to(root).as_posix()
            try:
                size = path.stat().st_size
                out[rel] = path.read_bytes() if size <= MAX_DIFF_FILE_BYTES else None
            except OSError:
                out[rel] = None
    return out


def unified_diff(
    before: Mapping[str, bytes | None], after: Mapping[str, bytes | None], limit: int
) -> str:
    """A unified diff of what changed, cut at `limit` characters (saying so)."""
    parts: list[str] = []
    for rel in sorted(set(before) | set(after)):
        old, new = before.get(rel), after.get(rel)
        if rel in before and rel in after and old == new and old is not None:
            continue
        if old is None and new is None and rel in before and rel in after:
            continue  # too big to compare both times
        try:
            old_lines = [] if old is None else old.decode("utf-8").splitlines(keepends=True)
            new_lines = [] if new is None else new.decode("utf-8").splitlines(keepends=True)
        except UnicodeDecodeError:
            parts.append(f"Binary file {rel} changed\n")
            continue
        a = f"a/{rel}" if rel in before else "/dev/null"
        b = f"b/{rel}" if rel in after else "/dev/null"
        for line in difflib.unified_diff(old_lines, new_lines, a, b):
            parts.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    text = "".join(parts)
    if len(text) > limit:
        cut = text[:limit]
        text = f"{cut}\n… diff cut at {limit} of {len(text)} characters\n"
    return text


def diff_stat(diff: str | None) -> list[tuple[str, int, int]]:
    """(file, lines added, lines removed) per file of a unified diff."""
    out: list[tuple[str, int, int]] = []
    for line in (diff or "").splitlines():
        if line.startswith("+++ "):
            name = line[4:].removeprefix("b/")
            if name == "/dev/null" and out:
                continue
            out.append((name, 0, 0))
        elif line.startswith("--- "):
            continue
        elif line.startswith("+") and out:
            name, added, removed = out[-1]
            out[-1] = (name, added + 1, removed)
        elif line.startswith("-") and out:
            name, added, removed = out[-1]
            out[-1] = (name, added, removed + 1)
        elif line.startswith("Binary file "):
            out.append((line.removeprefix("Binary file ").removesuffix(" changed"), 0, 0))
    return out


def restore_tests(task: TaskSpec, work: Path, touched: Iterable[str]) -> list[str]:
    """Put back the task's test files the command changed; returns their names."""
    tests = {t.split("::", 1)[0] for t in task.tests}
    restored = []
    for rel in sorted(set(touched) & tests):
        original = task.path / rel
        target = work / rel
        if target.is_symlink() or target.is_dir():
            shutil.rmtree(target) if target.is_dir() else target.unlink()
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(original, target)
        restored.append(rel)
    return restored


def run_command_step(
    step: CommandStep,
    task: TaskSpec,
    work: Path,
    box: Path,
    result: ExecutionResult,
    *,
    isolation: Isolation | None = None,
    should_stop: Callable[[], bool] | None = None,
    registry: ProcessRegistry | None = None,
) -> tuple[bool, str]:
    """Run the command in `work`; fill in result's command fields.

    Returns (whether the tests should run, the command's part of the log)."""
    before = snapshot(work)
    cmd = [sys.executable, "-I", "-S", "-c", SUPERVISOR, *step.argv]
    launch = isolated(
        cmd, box=box, cwd=work, cpu_s=max(1, int(step.timeout_s + 1)),
        memory_bytes=step.memory_bytes, network=step.network,
        pass_env=step_env(step, task), isolation=isolation,
        read_only=program_files(step.argv),
    )  # fmt: skip
    launched = run_launch(
        launch, timeout_s=step.timeout_s, should_stop=should_stop, registry=registry
    )
    after = snapshot(work)
    changed = [rel for rel in set(before) | set(after) if before.get(rel) != after.get(rel)]
    restored = restore_tests(task, work, changed)
    result.command_ms = launched.exec_ms
    result.command_network = step.network
    result.command_diff = unified_diff(before, after, MAX_DIFF_CHARS)
    head = f"$ {shlex.join(Path(a).name if i == 0 else a for i, a in enumerate(step.argv))}"
    output = launched.output[-COMMAND_LOG_CHARS:]
    if launched.outcome == "timeout":
        result.status = "timeout"
        result.exec_ms = launched.exec_ms
        result.reason = f"command timed out after {step.timeout_s:g} s (process group killed)"
    elif launched.outcome == "cancelled":
        result.status, result.reason = "cancelled", "cancelled"
    elif launched.returncode < 0:
        # the supervisor itself died: the command killed its parent, or worse
        result.status = "crash"
        result.exec_ms = launched.exec_ms
        result.reason = (
            f"command step died: supervisor {_describe_exit(launched.returncode)} "
            "(did the command kill its parent?)"
        )
    else:
        result.command_exit = launched.returncode
    note = f"restored test files it changed: {', '.join(restored)}\n" if restored else ""
    if restored:
        result.reason = (result.reason + "; " if result.reason else "") + note.strip()
    exit_text = "—" if result.command_exit is None else str(result.command_exit)
    log = (
        f"{head}\n{output.rstrip()}\n{note}[command exit {exit_text}, {launched.exec_ms:.0f} ms]\n"
    )
    if result.command_exit is None:
        result.log_excerpt = log
        return False, log
    return True, log + "--- tests ---\n"
