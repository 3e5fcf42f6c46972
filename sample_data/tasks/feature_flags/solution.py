"""An in-memory feature-flag service with per-user overrides."""

from __future__ import annotations

import re

_NAME = re.compile(r"^[a-z][a-z0-9_.-]{0,63}$")


class UnknownFlagError(KeyError):
    """Raised when a flag that was never defined is used."""


class FeatureFlags:
    """Flags resolve as: per-user override, then global override, then default."""

    def __init__(self) -> None:
        self._defaults: dict[str, bool] = {}
        self._global: dict[str, bool] = {}
        self._users: dict[str, dict[str, bool]] = {}

    def define(self, name: str, default: bool = False) -> None:
        """Declare a new flag; names are lowercase identifiers like "new-ui"."""
        if not isinstance(name, str) or not _NAME.match(name):
            raise ValueError(f"invalid flag name: {name!r}")
        if not isinstance(default, bool):
            raise TypeError("default must be a bool")
        if name in self._defaults:
            raise ValueError(f"flag {name!r} is already defined")
        self._defaults[name] = default
        self._users[name] = {}

    def set(self, name: str, enabled: bool, user: str | None = None) -> None:
        """Override a flag for everyone, or for one user when ``user`` is given."""
        if name not in self._defaults:
            raise UnknownFlagError(name)
        if not isinstance(enabled, bool):
            raise TypeError("enabled must be a bool")
        if user is not None and (not isinstance(user, str) or not user):
            raise ValueError("user must be a non-empty str or None")
        if user is None:
            self._global[name] = enabled
        else:
            self._users[name][user] = enabled

    def clear(self, name: str, user: str | None = None) -> None:
        """Remove a global or per-user override."""
        if name not in self._defaults:
            raise UnknownFlagError(name)
        if user is None:
            self._global.pop(name, None)
        else:
            self._users[name].pop(user, None)

    def is_enabled(self, name: str, user: str | None = None) -> bool:
        if name not in self._defaults:
            raise UnknownFlagError(name)
        if user is not None and user in self._users[name]:
            return self._users[name][user]
        return self._global.get(name, self._defaults[name])

    def flags(self) -> list[str]:
        return sorted(self._defaults)
