"""Expensive test state built once per test run and copied into each test.

A seeded store, or one with a trained classifier, is built once in a directory every xdist
worker of the run shares, under a file lock (the first worker to ask builds, the other
waits and reuses it); each test then gets its own copy of the file. Kept out of conftest
so that `conftest` and `tests.conftest` (pytest imports the first, tests the second) see
one shared directory.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from filelock import FileLock

from workbench.fsutil import create_private_file

_shared_dir: Path | None = None


def set_shared_dir(path: Path | None) -> None:
    """Set by the session fixture `shared_dir` (tests/conftest.py)."""
    global _shared_dir
    _shared_dir = path


def active() -> bool:
    return _shared_dir is not None


def shared_template(name: str, build: Callable[[Path], None]) -> Path:
    """The file `name` in the run's shared directory, built by `build(path)` once. Each
    template has a directory of its own (files a store keeps beside it stay apart); a
    marker written after `build` returns says it is whole."""
    if _shared_dir is None:
        raise RuntimeError("shared_template is only available while pytest runs")
    folder = _shared_dir / "templates" / name
    folder.mkdir(parents=True, exist_ok=True)
    path, built = folder / name, folder / "built"
    with FileLock(str(folder) + ".lock"):
        if not built.exists():  # a failed build left no marker: start over
            for leftover in folder.iterdir():
                shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()
            build(path)
            built.touch()
    return path


def copy_store_file(template: Path, dest: Path) -> None:
    """A closed SQLite store copied as a file into a new private (0600) file, as the engine
    creates a store (no mode warning)."""
    create_private_file(dest)
    shutil.copyfile(template, dest)
