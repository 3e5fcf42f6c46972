"""Paths and settings: where the store lives, where bundled data is, the remembered theme."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from workbench.fsutil import atomic_write

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DATA_DIR = PROJECT_ROOT / "sample_data"
THEMES_DIR = PROJECT_ROOT / "themes"
DEFAULT_DB_RELATIVE = Path(".workbench") / "workbench.db"
DEFAULT_BUSY_TIMEOUT_MS = 5000
DEFAULT_THEME = "workbench-dark"


@dataclass(frozen=True)
class StoreLocation:
    """Where the store is and whether the user chose it (a chosen path is never created)."""

    path: Path
    explicit: bool


def resolve_db(
    cli_db: str | None, env: Mapping[str, str] | None = None, cwd: Path | None = None
) -> StoreLocation:
    """`--db PATH`, else `WORKBENCH_DB`, else `.workbench/workbench.db` in the working dir."""
    env = os.environ if env is None else env
    cwd = Path.cwd() if cwd is None else cwd
    chosen = cli_db or env.get("WORKBENCH_DB")
    if chosen:
        path = Path(chosen).expanduser()
        return StoreLocation(path if path.is_absolute() else cwd / path, explicit=True)
    return StoreLocation(cwd / DEFAULT_DB_RELATIVE, explicit=False)


def busy_timeout_ms(env: Mapping[str, str] | None = None) -> int:
    env = os.environ if env is None else env
    raw = env.get("WORKBENCH_BUSY_TIMEOUT_MS")
    if raw is None:
        return DEFAULT_BUSY_TIMEOUT_MS
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"WORKBENCH_BUSY_TIMEOUT_MS must be an integer, got {raw!r}") from None
    if value < 0:
        raise ValueError(f"WORKBENCH_BUSY_TIMEOUT_MS must be >= 0, got {value}")
    return value


KERNEL_BACKENDS = ("wasm", "numpy")


def kernel_backend(env: Mapping[str, str] | None = None) -> str:
    """The numeric backend: `WORKBENCH_BACKEND` (wasm or numpy), default wasm."""
    env = os.environ if env is None else env
    name = env.get("WORKBENCH_BACKEND", "wasm")
    if name not in KERNEL_BACKENDS:
        raise ValueError(
            f"WORKBENCH_BACKEND must be one of {', '.join(KERNEL_BACKENDS)}, got {name!r}"
        )
    return name


def config_file(env: Mapping[str, str] | None = None) -> Path:
    """The user settings file: `WORKBENCH_CONFIG`, else the XDG config dir."""
    env = os.environ if env is None else env
    if env.get("WORKBENCH_CONFIG"):
        return Path(env["WORKBENCH_CONFIG"]).expanduser()
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "workbench" / "config.json"


def load_settings(path: Path | None = None) -> dict:
    """Settings from the config file; a missing or unreadable file gives defaults."""
    path = config_file() if path is None else path
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def save_settings(updates: Mapping[str, object], path: Path | None = None) -> Path:
    """Merge `updates` into the config file, written atomically (temp file + rename)."""
    path = config_file() if path is None else path
    settings = load_settings(path) | dict(updates)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path, "w", encoding="utf-8") as fh:
        json.dump(settings, fh, indent=2, sort_keys=True)
    return path
