"""Paths and settings: where the store lives, where bundled data is, the remembered theme."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DATA_DIR = PROJECT_ROOT / "sample_data"
THEMES_DIR = PROJECT_ROOT / "themes"
DEFAULT_DB_RELATIVE = Path(".workbench") / "workbench.db"
DEFAULT_BUSY_TIMEOUT_MS = 5000
DEFAULT_THEME = "workbench-dark"


POSTGRES_SCHEMES = ("postgresql", "postgres")
# Local files that belong to a PostgreSQL store (checkpoints, learning batches) live here,
# one folder per server and database, under the working directory's `.workbench/`.
POSTGRES_LOCAL_DIR = Path(".workbench") / "postgres"


@dataclass(frozen=True)
class StoreLocation:
    """Where the store is and whether the user chose it (a chosen path is never created).

    For a PostgreSQL store `url` is the connection URL and `path` a local directory that
    stands for it: files kept next to a SQLite store (checkpoints, ...) go beside it.
    """

    path: Path
    explicit: bool
    url: str | None = None

    @property
    def is_postgres(self) -> bool:
        return self.url is not None

    @property
    def target(self) -> str:
        """What reopens this store in another process: the file path or the URL."""
        return self.url if self.url is not None else str(self.path)

    @property
    def label(self) -> str:
        """How errors and the UI name the store: never with the password."""
        return mask_url(self.url) if self.url is not None else str(self.path)

    @property
    def short_label(self) -> str:
        """The header's name: the file name, or user@host:port/database."""
        if self.url is None:
            return self.path.name
        parts = urlsplit(self.url)
        user = f"{parts.username}@" if parts.username else ""
        port = f":{parts.port}" if parts.port else ""
        return f"{user}{parts.hostname or 'local'}{port}{parts.path or '/'}"


def url_scheme(value: str) -> str | None:
    """The scheme of `SCHEME://...`, or None for a plain path."""
    scheme, sep, _rest = value.partition("://")
    if sep and scheme and all(c.isalnum() or c in "+-." for c in scheme):
        return scheme.lower()
    return None


def mask_url(url: str) -> str:
    """The URL with its password replaced by `***` (for errors, logs and the header)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def postgres_local_dir(url: str, cwd: Path) -> Path:
    """The local folder standing for a PostgreSQL store (no password in its name)."""
    parts = urlsplit(url)
    try:
        port = parts.port or 5432
    except ValueError:
        raise ValueError(f"store URL has an invalid port: {mask_url(url)}") from None
    host = parts.hostname or "local"
    database = parts.path.lstrip("/") or "postgres"
    name = f"{host}_{port}_{database}"
    if parts.query:  # e.g. another schema in the same database: its own folder
        name += "_" + hashlib.blake2b(parts.query.encode(), digest_size=4).hexdigest()
    # no dots: side folders are named from the stem (`<name>-checkpoints`)
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in name)
    return cwd / POSTGRES_LOCAL_DIR / safe


def resolve_db(
    cli_db: str | None, env: Mapping[str, str] | None = None, cwd: Path | None = None
) -> StoreLocation:
    """`--db PATH|URL`, else `WORKBENCH_DB`, else `.workbench/workbench.db` in the working dir.

    A `postgresql://` (or `postgres://`) URL selects a PostgreSQL store; any other URL
    scheme is refused rather than taken for a file name.
    """
    env = os.environ if env is None else env
    cwd = Path.cwd() if cwd is None else cwd
    chosen = cli_db or env.get("WORKBENCH_DB")
    if chosen:
        scheme = url_scheme(chosen)
        if scheme in POSTGRES_SCHEMES:
            return StoreLocation(postgres_local_dir(chosen, cwd), explicit=True, url=chosen)
        if scheme is not None:
            raise ValueError(
                f"unsupported store URL scheme {scheme!r}: use a file path or "
                f"postgresql://USER:PASSWORD@HOST:PORT/DATABASE"
            )
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


def embedder_spec(env: Mapping[str, str] | None = None) -> str:
    """The memory embedder: `WORKBENCH_EMBEDDER`, else `"embedder"` in the settings file,
    else `hashing` (see memory/embedder.py for the forms)."""
    env = os.environ if env is None else env
    chosen = env.get("WORKBENCH_EMBEDDER", "").strip()
    if chosen:
        return chosen
    configured = load_settings(config_file(env)).get("embedder")
    return configured.strip() if isinstance(configured, str) and configured.strip() else "hashing"


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
    from workbench.fsutil import atomic_write  # tempfile: not needed to read settings

    path = config_file() if path is None else path
    settings = load_settings(path) | dict(updates)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path, "w", encoding="utf-8") as fh:
        json.dump(settings, fh, indent=2, sort_keys=True)
    return path


def slow_handler_ms(env: Mapping[str, str] | None = None) -> float | None:
    """`WORKBENCH_SLOW_HANDLER_MS`: a debug setting; the UI logs every handler that holds
    its event loop longer than this many milliseconds (see ui/slowlog.py). Unset: off."""
    env = os.environ if env is None else env
    value = env.get("WORKBENCH_SLOW_HANDLER_MS", "").strip()
    if not value:
        return None
    try:
        ms = float(value)
    except ValueError:
        ms = -1.0
    if not 0 < ms < 60_000:
        raise ValueError(f"WORKBENCH_SLOW_HANDLER_MS must be milliseconds above 0, got {value!r}")
    return ms
