"""Sandboxed execution of one (task, strategy): a fresh temp dir, a subprocess, limits.

`python -I -m pytest` runs in a copy of the task with the transformed module written in,
a scrubbed environment (PATH, a temp HOME, LANG, PYTHONDONTWRITEBYTECODE, PYTHONHASHSEED=0
and PYTEST_DISABLE_PLUGIN_AUTOLOAD — nothing else of ours leaks), its own process group,
RLIMIT_CPU / RLIMIT_AS / RLIMIT_FSIZE / RLIMIT_NPROC / no core dumps, and a wall timeout
that kills the whole group. Results come from the JUnit XML pytest writes (parsed, never
evaluated); no report means the interpreter died, and that is recorded with its reason.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from workbench.pipeline.tasks import TaskSpec

if TYPE_CHECKING:
    from workbench.pipeline.commands import CommandStep

MEMORY_LIMIT_BYTES = 1 << 30
FILE_SIZE_LIMIT_BYTES = 64 << 20
NPROC_LIMIT = 512
LOG_EXCERPT_CHARS = 2000
POLL_S = 0.05
LINT_RULES = "E4,E7,E9,F,B"  # ruff's defaults plus bugbear; no style-only rules
_BASE_PATH = "/usr/local/bin:/usr/bin:/bin"


@dataclass
class ExecutionResult:
    """What one sandboxed run measured."""

    task: str
    strategy: str
    status: str  # passed | failed | timeout | crash | error | cancelled
    tests_passed: int = 0
    tests_total: int = 0
    lint_ok: bool = False
    lint_errors: int = 0
    exec_ms: float = 0.0
    reason: str = ""
    log_excerpt: str = ""
    real: bool = False  # a test report was obtained
    failures: list[str] = field(default_factory=list)
    # a command strategy's step (None for transform strategies): see pipeline/commands.py
    command_exit: int | None = None
    command_ms: float | None = None
    command_diff: str | None = None
    command_network: bool | None = None

    @property
    def pass_rate(self) -> float:
        return self.tests_passed / self.tests_total if self.tests_total else 0.0

    def as_dict(self) -> dict:
        return asdict(self)


class ProcessRegistry:
    """Live sandbox process groups, so a cancel can kill every one of them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._procs: set[subprocess.Popen] = set()

    def add(self, proc: subprocess.Popen) -> None:
        with self._lock:
            self._procs.add(proc)

    def discard(self, proc: subprocess.Popen) -> None:
        with self._lock:
            self._procs.discard(proc)

    def pids(self) -> list[int]:
        with self._lock:
            return [p.pid for p in self._procs]

    def kill_all(self) -> None:
        with self._lock:
            procs = list(self._procs)
        for proc in procs:
            kill_group(proc)


def kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL the process group the sandbox leads (its children die with it)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def scrubbed_env(home: Path) -> dict[str, str]:
    """The only environment a sandbox sees."""
    python_dir = str(Path(sys.executable).parent)
    return {
        "PATH": f"{python_dir}:{_BASE_PATH}",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
    }


# Limits are set by a tiny launcher that then execs the real command, not by a
# preexec_fn: code between fork and exec in a process with threads (the worker pool) can
# deadlock. argv: cpu_s, as_bytes, fsize_bytes, nproc, then the command. The sandbox dies
# with its parent, so a killed worker leaves no orphan behind.
LAUNCHER = """
import os, resource, sys
parent = os.getppid()
try:  # Linux: die with the process that started us (a killed Dask worker, say)
    import ctypes
    ctypes.CDLL(None).prctl(1, 9)  # PR_SET_PDEATHSIG, SIGKILL
except (OSError, AttributeError):
    pass
if os.getppid() != parent:
    sys.exit(137)
cpu, mem, fsize, nproc = (int(v) for v in sys.argv[1:5])
resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
hard = resource.getrlimit(resource.RLIMIT_NPROC)[1]
cap = nproc if hard == resource.RLIM_INFINITY else min(nproc, hard)
resource.setrlimit(resource.RLIMIT_NPROC, (cap, cap))
os.execv(sys.argv[5], sys.argv[5:])
"""


def limited(cmd: list[str], cpu_s: int, memory_bytes: int) -> list[str]:
    """`cmd` run under CPU, address-space, file-size, core and process-count limits."""
    limits = [cpu_s, memory_bytes, FILE_SIZE_LIMIT_BYTES, NPROC_LIMIT]
    return [sys.executable, "-I", "-S", "-c", LAUNCHER, *map(str, limits), *cmd]


@dataclass
class Launched:
    """How one sandboxed process ended: exit code, output, and whether we stopped it."""

    returncode: int
    output: str
    outcome: str | None  # None (it exited), "timeout" or "cancelled"
    ms: float


def launch(
    cmd: list[str],
    *,
    cwd: Path,
    env: dict[str, str],
    timeout_s: float,
    memory_bytes: int = MEMORY_LIMIT_BYTES,
    should_stop: Callable[[], bool] | None = None,
    registry: ProcessRegistry | None = None,
    network: bool = False,
) -> Launched:
    """Run `cmd` in the sandbox: limits, scrubbed `env`, own process group, wall timeout.

    The one launch path of an execution: the task's tests and a command strategy's step
    both come through here. `network` says whether the process may use the network; this
    launcher has no network isolation yet, so today it is only recorded by the caller.
    """
    del network  # honoured by an isolating launcher; recorded by the caller meanwhile
    started = time.perf_counter()
    proc = subprocess.Popen(
        limited(cmd, max(1, int(timeout_s + 1)), memory_bytes),
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    if registry is not None:
        registry.add(proc)
    output_chunks: list[bytes] = []
    reader = threading.Thread(
        target=lambda: output_chunks.append(proc.stdout.read()),  # type: ignore[union-attr]
        daemon=True,
    )
    reader.start()
    outcome = None
    try:
        while True:
            try:
                proc.wait(timeout=POLL_S)
                break
            except subprocess.TimeoutExpired:
                if time.perf_counter() - started > timeout_s:
                    outcome = "timeout"
                elif should_stop is not None and should_stop():
                    outcome = "cancelled"
                if outcome:
                    kill_group(proc)
                    proc.wait()
                    break
    finally:
        kill_group(proc)  # leftovers a test spawned and forgot
        if registry is not None:
            registry.discard(proc)
    ms = round((time.perf_counter() - started) * 1000.0, 1)
    reader.join(timeout=2)
    output = b"".join(output_chunks).decode("utf-8", "replace")
    return Launched(proc.returncode, output, outcome, ms)


def run_sandboxed(
    task: TaskSpec,
    strategy: str,
    source: str,
    *,
    timeout_s: float | None = None,
    memory_bytes: int = MEMORY_LIMIT_BYTES,
    should_stop: Callable[[], bool] | None = None,
    registry: ProcessRegistry | None = None,
    lint: bool = True,
    command: CommandStep | None = None,
) -> ExecutionResult:
    """Run the task's tests against `source` (the transformed module) in a sandbox.

    With a `command` (a command strategy), the command first runs in the task's copy and
    edits it; the tests then run on what it left (see `pipeline/commands.py`)."""
    timeout_s = task.timeout_s if timeout_s is None else timeout_s
    root = Path(tempfile.mkdtemp(prefix="wb-sandbox-"))
    try:
        work = root / "task"
        shutil.copytree(
            task.path, work, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache", "*.pyc")
        )
        (work / task.module).write_text(source, encoding="utf-8")
        if not (work / "pytest.ini").exists():
            (work / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
        home = root / "home"
        home.mkdir()
        result = ExecutionResult(task=task.name, strategy=strategy, status="error")
        command_log = ""
        if command is not None:
            from workbench.pipeline.commands import run_command_step

            went_on, command_log = run_command_step(
                command, task, work, home, result, should_stop=should_stop, registry=registry
            )
            if not went_on:  # timed out, died or cancelled: no tests
                return result
            module = work / task.module
            source = module.read_text("utf-8", "replace") if module.is_file() else ""
        if lint:
            result.lint_ok, result.lint_errors = lint_source(source, task.module)
        report = root / "report.xml"
        cmd = [
            sys.executable, "-I", "-m", "pytest", "-q", "-p", "no:cacheprovider",
            "-c", "pytest.ini", "--rootdir", ".", f"--junitxml={report}", *task.tests,
        ]  # fmt: skip
        launched = launch(
            cmd, cwd=work, env=scrubbed_env(home), timeout_s=timeout_s,
            memory_bytes=memory_bytes, should_stop=should_stop, registry=registry,
        )  # fmt: skip
        outcome, output = launched.outcome, launched.output
        result.exec_ms = round(launched.ms + (result.command_ms or 0.0), 1)
        result.log_excerpt = command_log + output[-LOG_EXCERPT_CHARS:]
        if outcome == "timeout":
            result.status = "timeout"
            result.reason = f"timed out after {timeout_s:g} s (process group killed)"
            return result
        if outcome == "cancelled":
            result.status = "cancelled"
            result.reason = "cancelled"
            return result
        _read_report(result, report, launched.returncode, output)
        return result
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _describe_exit(code: int) -> str:
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        extra = " (CPU limit)" if name == "SIGXCPU" else ""
        return f"killed by {name}{extra}"
    return f"exit code {code}"


def _read_report(result: ExecutionResult, report: Path, code: int, output: str) -> None:
    if not report.is_file():
        result.status = "crash"
        hint = " (memory limit)" if "MemoryError" in output else ""
        result.reason = f"interpreter died without a test report: {_describe_exit(code)}{hint}"
        return
    try:
        root = ET.parse(report).getroot()
    except ET.ParseError as exc:
        result.status = "crash"
        result.reason = f"unreadable test report ({exc}); {_describe_exit(code)}"
        return
    total = passed = 0
    for case in root.iter("testcase"):
        if case.find("skipped") is not None:
            continue
        total += 1
        problem = case.find("failure")
        if problem is None:
            problem = case.find("error")
        if problem is None:
            passed += 1
            continue
        message = (problem.get("message") or problem.text or "").strip().splitlines()
        first = message[0] if message else problem.tag
        result.failures.append(f"{case.get('name', '?')}: {first[:200]}")
    result.tests_total, result.tests_passed, result.real = total, passed, total > 0
    if total == 0:
        result.status = "error"
        result.reason = f"no tests ran ({_describe_exit(code)})"
    elif passed == total:
        result.status = "passed"
    else:
        result.status = "failed"
        memory = [f for f in result.failures if "MemoryError" in f]
        if memory:
            result.reason = f"memory limit exceeded: {memory[0]}"
        else:
            result.reason = f"{total - passed}/{total} failed; {result.failures[0]}"


_ruff_lock = threading.Lock()
_ruff_cache: list[list[str] | None] = []


def _ruff_command() -> list[str] | None:
    """Locate ruff once (sysconfig's lazy init is not thread-safe)."""
    with _ruff_lock:
        if not _ruff_cache:
            _ruff_cache.append(_find_ruff())
        return _ruff_cache[0]


def _find_ruff() -> list[str] | None:
    try:
        from ruff.__main__ import find_ruff_bin

        return [find_ruff_bin()]
    except (ImportError, FileNotFoundError):
        found = shutil.which("ruff")
        return [found] if found else None


def lint_source(source: str, filename: str = "solution.py") -> tuple[bool, int]:
    """(ok, error count) from ruff with a fixed, isolated rule set; (False, -1) if no ruff."""
    ruff = _ruff_command()
    if ruff is None:
        return False, -1
    cmd = [
        *ruff, "check", "--isolated", "--no-cache", "--output-format", "json",
        "--select", LINT_RULES, "--target-version", "py311",
        "--stdin-filename", filename, "-",
    ]  # fmt: skip
    try:
        proc = subprocess.run(
            cmd,
            input=source,
            capture_output=True,
            text=True,
            timeout=30,
            env={"PATH": _BASE_PATH, "HOME": tempfile.gettempdir(), "LANG": "C.UTF-8"},
        )
        errors = json.loads(proc.stdout or "[]")
    except (OSError, subprocess.TimeoutExpired, json.JSONDecodeError):
        return False, -1
    return not errors, len(errors)
