"""Sandboxed execution of one (task, strategy): a fresh temp dir, isolation, limits.

`isolated(argv, box=..., cwd=...)` is the one way any sandboxed command is made (the task's
pytest, a strategy's command step, a warm pool server): the isolation level of
`isolation.py` (Linux namespaces through bwrap or unshare: the `box` dir the only writable
tree, no store, no network unless asked, PID-namespace teardown; or limits only), rlimits
(CPU, address space, file size, processes, no core dumps) and death with the parent set by
a tiny launcher, and a scrubbed environment (PATH, an empty HOME, LANG,
PYTHONDONTWRITEBYTECODE, PYTHONHASHSEED=0, PYTEST_DISABLE_PLUGIN_AUTOLOAD, plus only the
variables a command names). `run_launch` runs it with a wall timeout that kills its process
group. `run_sandboxed` copies the task into a fresh `wb-sandbox-*` dir (its owner recorded,
so a later run can sweep it if this process is killed) and runs pytest there, cold or from
the warm pool (`pool.py`). Results come from the JUnit XML pytest writes (parsed, never
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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from workbench.pipeline import isolation as isolation_mod
from workbench.pipeline.isolation import Isolation
from workbench.pipeline.tasks import TaskSpec
from workbench.store import leases

if TYPE_CHECKING:
    from workbench.pipeline.commands import CommandStep
    from workbench.pipeline.pool import WarmPool

MEMORY_LIMIT_BYTES = 1 << 30
FILE_SIZE_LIMIT_BYTES = 64 << 20
NPROC_LIMIT = 512
LOG_EXCERPT_CHARS = 2000
POLL_S = 0.05
LINT_RULES = "E4,E7,E9,F,B"  # ruff's defaults plus bugbear; no style-only rules
_BASE_PATH = "/usr/local/bin:/usr/bin:/bin"
SANDBOX_PREFIX = "wb-sandbox-"
OWNER_FILE = "owner.json"


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
    isolation: str = ""  # bwrap | unshare | limits: what contained this execution
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


@dataclass(frozen=True)
class Launch:
    """A command ready to run isolated: its argv, its whole environment, where it runs."""

    argv: list[str]
    env: dict[str, str]
    cwd: Path
    isolation: Isolation


@dataclass
class Finished:
    """How a launched command ended."""

    returncode: int
    output: str
    exec_ms: float
    outcome: str = ""  # "" (it exited) | timeout | cancelled


def isolated(
    argv: list[str],
    *,
    box: Path,
    cwd: Path,
    cpu_s: int,
    memory_bytes: int = MEMORY_LIMIT_BYTES,
    network: bool = False,
    pass_env: Mapping[str, str] | None = None,
    isolation: Isolation | None = None,
    writable: bool = True,
    read_only: Sequence[str] = (),
) -> Launch:
    """THE way any sandboxed command is made (tests, a strategy's command step, a warm pool
    server): namespaces per the isolation level (`box` the only writable tree, no network
    unless `network`), rlimits, death with its parent, and a scrubbed environment with an
    empty home (`box/home`) plus only the variables in `pass_env`."""
    iso = isolation or isolation_mod.current()
    home = box / "home"
    home.mkdir(exist_ok=True)
    env = {**scrubbed_env(home), **dict(pass_env or {})}
    wrapped = isolation_mod.wrap(
        argv, root=box, cwd=cwd, network=network, writable=writable, isolation=iso,
        read_only=read_only,
    )  # fmt: skip
    return Launch(limited(wrapped, cpu_s, memory_bytes), env, cwd, iso)


def run_launch(
    launch: Launch,
    *,
    timeout_s: float,
    should_stop: Callable[[], bool] | None = None,
    registry: ProcessRegistry | None = None,
) -> Finished:
    """Run an `isolated` command to its end, a timeout or a stop; kill what it left."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        launch.argv,
        cwd=launch.cwd,
        env=launch.env,
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
    outcome = ""
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
    exec_ms = round((time.perf_counter() - started) * 1000.0, 1)
    reader.join(timeout=2)
    output = b"".join(output_chunks).decode("utf-8", "replace")
    code = proc.returncode
    if launch.isolation.namespaced and 128 < code < 128 + 65:
        code = 128 - code  # bwrap/unshare report a child's death by signal N as 128 + N
    return Finished(code, output, exec_ms, outcome)


def prepare_task(task: TaskSpec, source: str, box: Path) -> Path:
    """The task copy in `box` with the transformed module written in; its path."""
    work = box / "task"
    shutil.copytree(
        task.path, work, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache", "*.pyc")
    )
    (work / task.module).write_text(source, encoding="utf-8")
    if not (work / "pytest.ini").exists():
        (work / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    return work


def pytest_args(task: TaskSpec, report: str) -> list[str]:
    """pytest's arguments for a task (cold start and warm pool alike)."""
    return ["-q", "-p", "no:cacheprovider", "-c", "pytest.ini", "--rootdir", ".",
            f"--junitxml={report}", *task.tests]  # fmt: skip


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
    network: bool = False,
    isolation: Isolation | None = None,
    pool: WarmPool | None = None,
    command: CommandStep | None = None,
) -> ExecutionResult:
    """Run the task's tests against `source` (the transformed module) in a sandbox: from a
    warm pool worker when `pool` is given (and can take it), else a cold `python -m pytest`.

    With a `command` (a command strategy), the command first runs in the task's copy, in the
    same isolation, and edits it; the tests then run on what it left (pipeline/commands.py)."""
    timeout_s = task.timeout_s if timeout_s is None else timeout_s
    iso = isolation or (pool.isolation if pool is not None else isolation_mod.current())
    root, box = make_sandbox_dir()
    try:
        work = prepare_task(task, source, box)
        result = ExecutionResult(task=task.name, strategy=strategy, status="error",
                                 isolation=iso.level)  # fmt: skip
        command_log = ""
        if command is not None:
            from workbench.pipeline.commands import run_command_step

            went_on, command_log = run_command_step(
                command, task, work, box, result, isolation=iso, should_stop=should_stop,
                registry=registry,
            )  # fmt: skip
            if not went_on:  # timed out, died or cancelled: no tests
                return result
            module = work / task.module
            source = module.read_text("utf-8", "replace") if module.is_file() else ""
        if lint:
            result.lint_ok, result.lint_errors = lint_source(source, task.module)
        report = box / "report.xml"
        finished = None
        if pool is not None and pool.takes(iso, network, memory_bytes, work):
            finished, report_text = pool.run(
                work, pytest_args(task, "/tmp/report.xml"), timeout_s=timeout_s,
                memory_bytes=memory_bytes, should_stop=should_stop, registry=registry,
            )  # fmt: skip
            if report_text is not None:
                report.write_text(report_text, encoding="utf-8")
        if finished is None:  # cold: no pool, or one that cannot take this execution
            launch = isolated(
                [sys.executable, "-I", "-m", "pytest", *pytest_args(task, str(report))],
                box=box, cwd=work, cpu_s=max(1, int(timeout_s + 1)), memory_bytes=memory_bytes,
                network=network, isolation=iso,
            )  # fmt: skip
            finished = run_launch(
                launch, timeout_s=timeout_s, should_stop=should_stop, registry=registry
            )
        result.exec_ms = round(finished.exec_ms + (result.command_ms or 0.0), 1)
        result.log_excerpt = command_log + finished.output[-LOG_EXCERPT_CHARS:]
        if finished.outcome == "timeout":
            result.status = "timeout"
            result.reason = f"timed out after {timeout_s:g} s (process group killed)"
            return result
        if finished.outcome == "cancelled":
            result.status = "cancelled"
            result.reason = "cancelled"
            return result
        _read_report(result, report, finished.returncode, finished.output)
        return result
    finally:
        shutil.rmtree(root, ignore_errors=True)


# -- leftovers of killed runs ----------------------------------------------------------------


def make_sandbox_dir(parent: str | Path | None = None) -> tuple[Path, Path]:
    """A fresh `wb-sandbox-*` dir with its owner recorded (pid + start token, so a sweep
    knows when it is gone) and `box/`, the only tree the sandboxed code may write."""
    root = Path(tempfile.mkdtemp(prefix=SANDBOX_PREFIX, dir=parent))
    pid = os.getpid()
    owner = {"pid": pid, "proc_start": leases.process_start(pid), "host": leases.host_name()}
    (root / OWNER_FILE).write_text(json.dumps(owner), encoding="utf-8")
    box = root / "box"
    box.mkdir()
    return root, box


def leftovers(parent: str | Path | None = None) -> list[Path]:
    """`wb-sandbox-*` dirs whose owner process is gone (a run killed with -9 leaves them);
    dirs of live owners, of other hosts or with no readable owner record are not listed."""
    parent = Path(parent or tempfile.gettempdir())
    found = []
    for root in sorted(parent.glob(f"{SANDBOX_PREFIX}*")):
        try:
            owner = json.loads((root / OWNER_FILE).read_text(encoding="utf-8"))
            pid, start, host = int(owner["pid"]), str(owner["proc_start"]), str(owner["host"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if host == leases.host_name() and not leases.owner_alive(pid, start):
            found.append(root)
    return found


def sweep_leftovers(parent: str | Path | None = None) -> list[Path]:
    """Remove the `leftovers` (a pipeline run does this when it starts); the removed dirs."""
    removed = []
    for root in leftovers(parent):
        shutil.rmtree(root, ignore_errors=True)
        if not root.exists():
            removed.append(root)
    return removed


def doctor_rows() -> list[dict]:
    """`workbench doctor` lines about the sandbox: isolation level and why, tools, pool."""
    rows = []
    try:
        iso = isolation_mod.current()
    except isolation_mod.IsolationError as exc:
        iso = None
        rows.append(_row("sandbox isolation", "unavailable", "error", str(exc)))
    if iso is not None:
        status = "ok" if iso.namespaced else "warn"
        value = {"bwrap": "namespaces (bubblewrap)", "unshare": "namespaces (unshare)"}.get(
            iso.level, "limits only (no namespaces)"
        )
        rows.append(_row("sandbox isolation", value, status, iso.reason))
        if iso.namespaced:
            rows.append(_row("sandbox network", "off unless allowed", "ok",
                             "a task or command asking for it needs --allow-network"))  # fmt: skip
            rows.append(_row("warm pool", "available", "ok", "executions fork from servers "
                             "that imported pytest, inside the same namespaces"))  # fmt: skip
        else:
            rows.append(_row("sandbox network", "not blocked", "warn",
                             "without namespaces sandboxed code reaches the network"))  # fmt: skip
            rows.append(_row("warm pool", "off", "warn", "it needs namespaces: cold starts"))
    for tool in ("bwrap", "unshare"):
        path = shutil.which(tool)
        rows.append(_row(tool, path or "not installed", "info"))
    try:
        limit = Path("/proc/sys/user/max_user_namespaces").read_text().strip()
    except OSError:
        limit = "unknown"
    rows.append(_row("max user namespaces", limit, "info"))
    pending = leftovers()
    rows.append(_row("sandbox leftovers", f"{len(pending)} dirs of dead runs",
                     "warn" if pending else "ok",
                     "swept when the next pipeline run starts" if pending else ""))  # fmt: skip
    return rows


def _row(label: str, value: str, status: str, detail: str = "") -> dict:
    return {"label": label, "value": value, "status": status, "detail": detail}


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
