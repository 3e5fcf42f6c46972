"""Listening addresses for the network faces (`workbench mcp --http`, `workbench serve`)."""

from __future__ import annotations

import ipaddress


def is_loopback(host: str) -> bool:
    """Only this machine can reach it: 127.0.0.0/8, ::1 or localhost."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def require_token_off_loopback(host: str, token: str | None, how: str) -> None:
    """A listener off loopback without a token is refused, in one line naming the fix."""
    if not is_loopback(host) and not token:
        raise ValueError(
            f"refusing to listen on {host} without a token: pass {how}, or bind 127.0.0.1"
        )
