"""Tasks made from a real repository: a snapshot, the tests to run, a prompt, optionally
functions hollowed out; and `validate`, which proves a task is sound.

A repository task is a plain directory a user can keep in git:

    NAME/task.json        name, prompt, tests (files or pytest node ids), files the agent
                          may edit, module (the first .py of them), root = "snapshot",
                          timeout, and where it came from
    NAME/snapshot/...     the repository's tracked files (`git ls-files` in a git
                          repository, else every file but caches and virtualenvs), with the
                          hollowed functions' bodies replaced by `raise NotImplementedError`
    NAME/reference/...    the original text of each hollowed file (never copied into the
                          sandbox: the sandbox copies `snapshot/` only)

The snapshot refuses symlinks that leave the repository and stops at `MAX_SNAPSHOT_BYTES`.
Hollowing edits the source text only between the first statement after the docstring and
the end of the body (found with `ast`), so signatures, decorators, docstrings, comments
elsewhere and formatting stay as they were.

`validate` runs the task's tests in the sandbox twice: on the original (the snapshot with
`reference/` put back) they must all pass; on the hollowed snapshot (or, for a task
without hollowed functions, the snapshot with every function of its editable files
hollowed: "broken") at least one must fail. It names the tests either way.
`add_repo` validates before it writes anything.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from workbench.pipeline.sandbox import ExecutionResult, run_sandboxed
from workbench.pipeline.tasks import TaskSpec, load_task

MAX_SNAPSHOT_BYTES = 50 << 20
DEFAULT_TIMEOUT_S = 60.0
SKIP_DIRS = {".git", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".tox",
             ".venv", "venv", "node_modules", ".workbench", ".hg", ".svn"}  # fmt: skip
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
HOLLOW_BODY = "raise NotImplementedError"


# -- snapshot ------------------------------------------------------------------------------


def repo_files(repo: Path) -> list[str]:
    """Tracked files (`git ls-files`) in a git repository, else every file but caches."""
    if (repo / ".git").exists() and shutil.which("git"):
        proc = subprocess.run(
            ["git", "-c", "core.quotepath=off", "ls-files", "-z", "--cached"],
            cwd=repo,
            capture_output=True,
            timeout=60,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "GIT_CONFIG_NOSYSTEM": "1",
                 "HOME": str(repo), "LANG": "C.UTF-8"},
        )  # fmt: skip
        if proc.returncode == 0:
            names = proc.stdout.decode("utf-8", "surrogateescape").split("\0")
            return sorted({n for n in names if n})
    found = []
    for dirpath, dirnames, filenames in os.walk(repo):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        for filename in filenames:
            found.append((Path(dirpath) / filename).relative_to(repo).as_posix())
    return sorted(found)


def snapshot_repo(repo: Path, into: Path, max_bytes: int = MAX_SNAPSHOT_BYTES) -> list[str]:
    """Copy the repository's files into `into`; returns the copied relative paths."""
    base = repo.resolve()
    copied, total = [], 0
    for rel in repo_files(repo):
        src = repo / rel
        if not src.exists() and not src.is_symlink():
            continue  # tracked but deleted in the working tree
        if src.is_symlink():
            target = src.resolve()
            if not target.is_relative_to(base):
                raise ValueError(f"{rel}: a symlink leaving the repository (to {target})")
            if not target.exists():
                raise ValueError(f"{rel}: a broken symlink")
            if target.is_dir():
                continue  # its files are tracked under their own path
        if not src.is_file():
            continue
        total += src.stat().st_size
        if total > max_bytes:
            raise ValueError(f"{repo}: the snapshot would exceed {max_bytes >> 20} MB")
        dest = into / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)
        copied.append(rel)
    if not copied:
        raise ValueError(f"{repo}: no files to snapshot")
    return copied


# -- hollowing -----------------------------------------------------------------------------


def _is_docstring(stmt: ast.stmt) -> bool:
    return (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Constant)
        and isinstance(stmt.value.value, str)
    )


FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef


def _find(tree: ast.Module, qualname: str) -> FunctionNode | None:
    scope: list[ast.stmt] = tree.body
    parts = qualname.split(".")
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        wanted = (ast.FunctionDef, ast.AsyncFunctionDef) if last else (ast.ClassDef,)
        node = next((n for n in scope if isinstance(n, wanted) and n.name == part), None)
        if node is None:
            return None
        if last:
            return node  # type: ignore[return-value]
        scope = node.body  # type: ignore[attr-defined]
    return None


def functions(source: str) -> list[str]:
    """Qualified names of the module's functions and its classes' methods."""
    tree = ast.parse(source)
    out = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            out.append(node.name)
        elif isinstance(node, ast.ClassDef):
            out += [
                f"{node.name}.{n.name}"
                for n in node.body
                if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
            ]
    return out


def hollow(source: str, qualname: str, where: str = "module") -> str:
    """`source` with `qualname`'s body replaced by `raise NotImplementedError`."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise ValueError(f"{where}: cannot parse ({exc.msg}, line {exc.lineno})") from None
    node = _find(tree, qualname)
    if node is None:
        raise ValueError(f"{where}: no function {qualname!r}")
    data = source.encode("utf-8")
    starts = [0]
    for line in data.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    body = node.body
    keep = 1 if body and _is_docstring(body[0]) else 0
    if keep == len(body):  # only a docstring: add the raise after it
        doc = body[0]
        at = starts[doc.end_lineno] if doc.end_lineno < len(starts) else len(data)  # type: ignore[operator]
        line_end = b"" if data[:at].endswith(b"\n") else b"\n"
        insert = line_end + b" " * doc.col_offset + HOLLOW_BODY.encode() + b"\n"
        out = data[:at] + insert + data[at:]
    else:
        first, last = body[keep], body[-1]
        start = starts[first.lineno - 1] + first.col_offset
        end = starts[last.end_lineno - 1] + last.end_col_offset  # type: ignore[operator]
        out = data[:start] + HOLLOW_BODY.encode() + data[end:]
    text = out.decode("utf-8")
    ast.parse(text)  # still valid Python
    return text


def parse_hollow(spec: str, files: Sequence[str]) -> tuple[str, str]:
    """`MODULE:FUNCTION` → (file path in the snapshot, qualified function name).

    MODULE is a path (`pkg/mod.py`) or a dotted name (`pkg.mod`, also found under src/)."""
    module, sep, function = spec.rpartition(":")
    if not sep or not module or not function:
        raise ValueError(f"--hollow {spec!r}: use MODULE:FUNCTION (e.g. pkg/mod.py:parse)")
    if module.endswith(".py"):
        candidates = [module]
    else:
        dotted = module.replace(".", "/")
        candidates = [f"{dotted}.py", f"src/{dotted}.py", f"{dotted}/__init__.py",
                      f"src/{dotted}/__init__.py"]  # fmt: skip
    for candidate in candidates:
        if candidate in files:
            return candidate, function
    raise ValueError(f"--hollow {spec!r}: no module {module} in the repository")


# -- validation ----------------------------------------------------------------------------


def _run_variant(task: TaskSpec, tree: Path) -> ExecutionResult:
    variant = dataclasses.replace(task, path=tree)
    return run_sandboxed(variant, "validate", variant.source(), lint=False)


def _summary(result: ExecutionResult) -> dict:
    failed = [f.split(":", 1)[0] for f in result.failures]
    return {"status": result.status, "passed": result.tests_passed, "total": result.tests_total,
            "failed": failed, "reason": result.reason}  # fmt: skip


def validate(task_dir: str | Path) -> dict:
    """Tests pass on the original and fail on the hollowed (or broken) code; which tests."""
    task = load_task(task_dir)
    reference = task.task_dir / "reference"
    hollowed = reference.is_dir()
    with tempfile.TemporaryDirectory(prefix="wb-validate-") as tmp:
        original = Path(tmp) / "original"
        shutil.copytree(task.path, original)
        if hollowed:
            shutil.copytree(reference, original, dirs_exist_ok=True)
        first = _run_variant(task, original)
        broken_tree = Path(tmp) / "broken"
        shutil.copytree(original if not hollowed else task.path, broken_tree)
        if not hollowed:
            broken_any = False
            for rel in task.editable:
                path = broken_tree / rel
                if path.suffix != ".py":
                    continue
                source = path.read_text(encoding="utf-8")
                for name in functions(source):
                    source = hollow(source, name, rel)
                    broken_any = True
                path.write_text(source, encoding="utf-8")
            if not broken_any:
                raise ValueError(f"{task.name}: no function in its files to break")
        second = _run_variant(task, broken_tree)
    original_ok = first.status == "passed"
    broken_ok = second.status != "passed"
    kind = "hollowed" if hollowed else "broken"
    if not original_ok:
        names = ", ".join(_summary(first)["failed"]) or first.reason
        message = f"tests fail on the original: {names}"
    elif not broken_ok:
        message = f"tests still pass on the {kind} code: they do not exercise it"
    else:
        caught = _summary(second)["failed"]
        message = f"{first.tests_total} tests pass on the original; on the {kind} code " + (
            f"these fail: {', '.join(caught)}" if caught else f"{second.reason}"
        )
    return {
        "task": task.name,
        "ok": original_ok and broken_ok,
        "kind": kind,
        "original": _summary(first),
        kind: _summary(second),
        "message": message,
    }


# -- add-repo ------------------------------------------------------------------------------


def add_repo(
    repo: str | Path,
    tests: Sequence[str],
    prompt: str,
    dest_root: str | Path,
    *,
    name: str | None = None,
    files: Sequence[str] = (),
    hollow_specs: Sequence[str] = (),
    timeout_s: float = DEFAULT_TIMEOUT_S,
    complexity: str = "medium",
    kind: str = "function",
    max_bytes: int = MAX_SNAPSHOT_BYTES,
) -> dict:
    """Make, validate and (only if valid) write a task directory under `dest_root`."""
    repo = Path(repo).expanduser()
    if not repo.is_dir():
        raise ValueError(f"{repo}: not a directory")
    name = name or repo.resolve().name
    if not NAME_RE.match(name):
        raise ValueError(f"task name {name!r}: letters, digits, '_', '.', '-' only")
    if not prompt.strip():
        raise ValueError("--prompt: say what the agent should do")
    if not tests:
        raise ValueError("--tests: name at least one test file or test id")
    dest_root = Path(dest_root)
    dest = dest_root / name
    if dest.exists():
        raise ValueError(f"{dest}: a task of that name already exists")
    if not 0 < timeout_s <= 600:
        raise ValueError("--timeout must be in (0, 600] seconds")
    with tempfile.TemporaryDirectory(prefix="wb-add-repo-") as tmp:
        build = Path(tmp) / name
        snapshot = build / "snapshot"
        copied = snapshot_repo(repo, snapshot, max_bytes)
        present = set(copied)
        for test in tests:
            test_file = test.split("::", 1)[0]
            if test_file not in present:
                if (repo / test_file).is_file():
                    raise ValueError(
                        f"--tests {test!r}: {test_file} is not tracked by git "
                        "(add-repo copies tracked files only)"
                    )
                raise ValueError(f"--tests {test!r}: no file {test_file} in the repository")
        hollowed: dict[str, list[str]] = {}
        for spec in hollow_specs:
            rel, function = parse_hollow(spec, copied)
            hollowed.setdefault(rel, []).append(function)
        editable = list(dict.fromkeys([*files, *hollowed]))
        for rel in editable:
            if rel not in present:
                raise ValueError(f"--files {rel!r}: no such file in the repository")
        modules = [f for f in editable if f.endswith(".py")]
        if not modules:
            raise ValueError("name the .py files the agent may edit with --files or --hollow")
        reference = build / "reference"
        for rel, names in hollowed.items():
            path = snapshot / rel
            original = path.read_text(encoding="utf-8")
            source = original
            for function in names:
                source = hollow(source, function, rel)
            (reference / rel).parent.mkdir(parents=True, exist_ok=True)
            (reference / rel).write_text(original, encoding="utf-8")
            path.write_text(source, encoding="utf-8")
        if not (snapshot / "pytest.ini").exists():
            paths = ". src" if (snapshot / "src").is_dir() else "."
            (snapshot / "pytest.ini").write_text(f"[pytest]\npythonpath = {paths}\n")
        meta = {
            "name": name,
            "kind": kind,
            "complexity": complexity,
            "description": prompt.strip().splitlines()[0][:200],
            "prompt": prompt,
            "root": "snapshot",
            "module": modules[0],
            "files": editable,
            "tests": list(tests),
            "timeout_s": timeout_s,
            "source": {
                "repo": str(repo.resolve()),
                "commit": _commit(repo),
                "hollowed": list(hollow_specs),
                "files": len(copied),
            },  # fmt: skip
        }
        (build / "task.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        report = validate(build)
        if report["original"]["total"] == 0:
            why = report["original"]["reason"]
            raise ValueError(f"--tests {' '.join(tests)}: matched no test ({why})")
        if not report["ok"]:
            raise ValueError(f"task {name}: {report['message']}")
        dest_root.mkdir(parents=True, exist_ok=True)
        staging = dest_root / f".{name}.incoming"
        shutil.rmtree(staging, ignore_errors=True)
        shutil.copytree(build, staging, symlinks=True)
        staging.rename(dest)
    return {"task": name, "path": str(dest.resolve()), "files": editable,
            "snapshot_files": len(copied), "validation": report}  # fmt: skip


def _commit(repo: Path) -> str | None:
    if not (repo / ".git").exists() or not shutil.which("git"):
        return None
    proc = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True,
                          timeout=30)  # fmt: skip
    return proc.stdout.strip() or None if proc.returncode == 0 else None
