"""Atomic file writes: a reader sees the old file or the whole new one, never a part."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any


@contextlib.contextmanager
def atomic_write(dest: Path, mode: str = "wb", **open_kwargs: Any) -> Iterator[IO]:
    """Write to a temp file beside `dest`, fsync, then rename over it; on any failure
    (a full disk included) the temp file is removed and `dest` is left as it was."""
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}-", suffix=".tmp")
    try:
        with os.fdopen(fd, mode, **open_kwargs) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, dest)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        # Name the file the user asked for, not the temp file (errno kept: ENOSPC stays one).
        raise OSError(exc.errno, f"{exc.strerror or exc}: cannot write {dest}") from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# --- private files: the store and what sits beside it hold agent sessions ----------------

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def private_mkdir(path: Path) -> None:
    """Create `path` and any missing parents as 0700 (existing ones are left as they are:
    a user's directory is theirs to set; see `wide_permissions` for the warning)."""
    missing = []
    current = Path(path)
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for directory in reversed(missing):
        try:
            directory.mkdir(mode=PRIVATE_DIR_MODE)
        except FileExistsError:
            continue
        # mkdir's mode is masked by the umask; a umask never widens it, so chmod only narrows
        os.chmod(directory, PRIVATE_DIR_MODE)


def create_private_file(path: Path) -> bool:
    """Create an empty 0600 file if none exists (SQLite then opens it as a new database and
    gives its -wal/-shm the same mode). Returns whether it was created here."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    except FileExistsError:
        return False
    os.close(fd)
    return True


def wide_permissions(paths: list[Path]) -> list[str]:
    """`path (0755)` for each existing path that group or others may read or enter."""
    found = []
    for path in paths:
        try:
            mode = path.stat().st_mode & 0o777
        except OSError:
            continue
        if mode & 0o077:
            found.append(f"{path} ({mode:04o})")
    return found


def foreign_owner(path: Path) -> int | None:
    """The owner's uid when `path` exists and belongs to another user, else None."""
    try:
        uid = path.stat().st_uid
    except OSError:
        return None
    return uid if uid != os.geteuid() else None
