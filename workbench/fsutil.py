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
