"""Task loading: a task is a directory with `task.json`, one solution module and pytest files.

Missing `task.json` fields get defaults (name = directory name, kind `function`, complexity
`medium`, module = the one non-test `.py` file, tests = `test_*.py`, timeout 10 s) so a
user folder needs little ceremony; anything malformed is a ValueError naming the file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from workbench import config
from workbench.pipeline import COMPLEXITIES, TASK_KINDS

DEFAULT_TIMEOUT_S = 10.0
MAX_TIMEOUT_S = 600.0


@dataclass(frozen=True)
class TaskSpec:
    """One runnable task: where it lives and what the sandbox needs to run it."""

    name: str
    kind: str
    complexity: str
    description: str
    path: Path
    module: str
    tests: tuple[str, ...]
    timeout_s: float
    network: bool = False  # task.json "network": true; runs only with --allow-network
    # what a command strategy is told (WB_PROMPT) and may edit (WB_FILES); repo tasks set
    # both, bank tasks get them from the description and the module
    prompt: str = ""
    files: tuple[str, ...] = ()
    home: Path | None = None  # the directory holding task.json (path may be a subfolder)

    @property
    def task_dir(self) -> Path:
        return self.home or self.path

    @property
    def editable(self) -> tuple[str, ...]:
        return self.files or (self.module,)

    @property
    def instructions(self) -> str:
        """The prompt a command strategy receives."""
        if self.prompt:
            return self.prompt
        tests = ", ".join(self.tests)
        return f"{self.description}\n\nEdit {self.module} so that the tests in {tests} pass."

    @property
    def module_path(self) -> Path:
        return self.path / self.module

    def source(self) -> str:
        return self.module_path.read_text(encoding="utf-8")


def default_tasks_dir() -> Path:
    return config.SAMPLE_DATA_DIR / "tasks"


def load_task(directory: str | Path) -> TaskSpec:
    """Read and validate one task directory."""
    directory = Path(directory)
    meta_file = directory / "task.json"
    where = str(meta_file)
    if not meta_file.is_file():
        raise ValueError(f"{where}: missing task.json")
    try:
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{where}: not valid JSON ({exc})") from None
    if not isinstance(meta, dict):
        raise ValueError(f"{where}: must hold a JSON object")

    def text(key: str, default: str) -> str:
        value = meta.get(key, default)
        if value is None:
            return default
        if not isinstance(value, str):
            raise ValueError(f"{where}: {key!r} must be a string")
        return value

    root = text("root", "")
    tree = directory
    if root:  # a repository task keeps its snapshot in a subfolder (see repo_tasks.py)
        tree = directory / root
        if not tree.is_dir() or not _inside(directory, root):
            raise ValueError(f"{where}: 'root' {root!r} is not a folder in {directory}")
    name = text("name", directory.name) or directory.name
    kind = text("kind", "function")
    complexity = text("complexity", "medium")
    if kind not in TASK_KINDS:
        raise ValueError(f"{where}: kind must be one of {', '.join(TASK_KINDS)}")
    if complexity not in COMPLEXITIES:
        raise ValueError(f"{where}: complexity must be one of {', '.join(COMPLEXITIES)}")
    description = text("description", "")

    tests_value = meta.get("tests")
    if tests_value is None:
        tests = tuple(sorted(p.name for p in tree.glob("test_*.py")))
    elif isinstance(tests_value, str):
        tests = (tests_value,)
    elif isinstance(tests_value, list) and all(isinstance(t, str) for t in tests_value):
        tests = tuple(tests_value)
    else:
        raise ValueError(f"{where}: 'tests' must be a file name or a list of file names")
    if not tests:
        raise ValueError(f"{where}: no test files (test_*.py) in {directory}")
    for test in tests:
        _check_inside(tree, test.split("::", 1)[0], where, "test file")

    module = meta.get("module")
    if module is None:
        candidates = sorted(
            p.name
            for p in tree.glob("*.py")
            if p.name not in tests and not p.name.startswith(("test_", "conftest"))
        )
        if len(candidates) != 1:
            raise ValueError(
                f"{where}: set 'module': found {len(candidates)} candidate solution modules"
            )
        module = candidates[0]
    if not isinstance(module, str) or not module.endswith(".py"):
        raise ValueError(f"{where}: 'module' must be a .py file name")
    _check_inside(tree, module, where, "module")
    files_value = meta.get("files", [])
    if not isinstance(files_value, list) or not all(isinstance(f, str) for f in files_value):
        raise ValueError(f"{where}: 'files' must be a list of file names")
    for name_ in files_value:
        _check_inside(tree, name_, where, "file")
    prompt = text("prompt", "")

    timeout = meta.get("timeout_s", DEFAULT_TIMEOUT_S)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float):
        raise ValueError(f"{where}: 'timeout_s' must be a number")
    if not 0 < timeout <= MAX_TIMEOUT_S:
        raise ValueError(f"{where}: 'timeout_s' must be in (0, {MAX_TIMEOUT_S:g}]")
    network = meta.get("network", False)
    if not isinstance(network, bool):
        raise ValueError(f"{where}: 'network' must be true or false")
    return TaskSpec(
        network=network,
        name=name,
        kind=kind,
        complexity=complexity,
        description=description,
        path=tree.resolve(),
        module=module,
        tests=tests,
        timeout_s=float(timeout),
        prompt=prompt,
        files=tuple(files_value),
        home=directory.resolve(),
    )


def _inside(directory: Path, name: str) -> bool:
    base = directory.resolve()
    candidate = (directory / name).resolve()
    return candidate != base and candidate.is_relative_to(base)


def _check_inside(directory: Path, name: str, where: str, what: str) -> None:
    """`name` is a file inside `directory` (a subfolder is fine; `..` and links out are not)."""
    if not _inside(directory, name) or not (directory / name).resolve().is_file():
        raise ValueError(f"{where}: {what} {name!r} is not a file in {directory}")


def load_tasks(root: str | Path | None = None, complexity: str | None = None) -> list[TaskSpec]:
    """Every task directory under `root` (sorted by name), optionally of one complexity."""
    root = default_tasks_dir() if root is None else Path(root)
    if not root.is_dir():
        raise ValueError(f"{root}: tasks directory does not exist")
    if complexity is not None and complexity not in COMPLEXITIES:
        raise ValueError(f"complexity must be one of {', '.join(COMPLEXITIES)}")
    if (root / "task.json").is_file():
        found = [load_task(root)]
    else:
        found = [load_task(p.parent) for p in sorted(root.glob("*/task.json"))]
    names = [t.name for t in found]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"{root}: duplicate task names: {', '.join(dupes)}")
    if complexity is not None:
        found = [t for t in found if t.complexity == complexity]
    return sorted(found, key=lambda t: (COMPLEXITIES.index(t.complexity), t.name))
