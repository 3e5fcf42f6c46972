"""Turning recording off: per environment (`WORKBENCH_RECORD=off`) or per project path.

The path list lives in the user settings file (`config.config_file()`, JSON) as

    {"agents": {"exclude": ["~/work/secret-client/*", "/srv/private"]}}

A pattern is a shell glob matched against the session's working directory (`~` expanded);
a pattern without glob characters also excludes everything below that directory.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from workbench import config

RECORD_ENV = "WORKBENCH_RECORD"
OFF_VALUES = frozenset({"off", "0", "false", "no"})
GLOB_CHARS = frozenset("*?[")


def recording_off(env: Mapping[str, str] | None = None) -> bool:
    """Is recording turned off in this environment?"""
    env = os.environ if env is None else env
    return env.get(RECORD_ENV, "").strip().lower() in OFF_VALUES


def exclude_patterns(settings: Mapping[str, Any] | None = None) -> list[str]:
    """The user's `[agents] exclude` patterns (non-string entries are ignored)."""
    settings = config.load_settings() if settings is None else settings
    agents = settings.get("agents")
    patterns = agents.get("exclude") if isinstance(agents, Mapping) else None
    if not isinstance(patterns, list):
        return []
    return [p for p in patterns if isinstance(p, str) and p.strip()]


def excluded(cwd: str | None, patterns: list[str]) -> str | None:
    """The pattern that excludes `cwd`, or None."""
    if not cwd or not patterns:
        return None
    path = os.path.normpath(os.path.expanduser(cwd))
    for pattern in patterns:
        expanded = os.path.normpath(os.path.expanduser(pattern.strip()))
        if fnmatch.fnmatchcase(path, expanded) or fnmatch.fnmatchcase(path + os.sep, expanded):
            return pattern
        if not GLOB_CHARS & set(expanded) and Path(expanded) in (Path(path), *Path(path).parents):
            return pattern
    return None


def skip_reason(
    cwd: str | None,
    env: Mapping[str, str] | None = None,
    settings: Mapping[str, Any] | None = None,
) -> str | None:
    """Why this session must not be recorded, or None to record it."""
    if recording_off(env):
        return f"{RECORD_ENV}=off"
    pattern = excluded(cwd, exclude_patterns(settings))
    return f"excluded by agents.exclude {pattern!r}" if pattern else None
