"""A debug setting: log every UI-thread handler that runs longer than a threshold.

Textual runs every handler, timer and refresh on one asyncio event loop, so a handler that
blocks shows up as one loop step that took too long. asyncio's own debug mode measures
exactly that (`loop.slow_callback_duration`) and reports it on the `asyncio` logger as
"Executing <handle> took N seconds"; this module turns it on and sends those lines to a
file, because the terminal belongs to the UI. Debug mode adds a little overhead of its own
(it is a debug setting): `WORKBENCH_SLOW_HANDLER_MS=50 workbench`.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

SLOW_MARK = "took"


class _SlowSteps(logging.Filter):
    """Only asyncio's slow-step reports (debug mode also warns about other things)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage().startswith("Executing ") and SLOW_MARK in record.getMessage()


def watch_slow_handlers(
    loop: asyncio.AbstractEventLoop, threshold_ms: float, path: Path
) -> logging.Handler:
    """Log loop steps longer than `threshold_ms` to `path`; returns the handler (remove it
    from the `asyncio` logger to stop)."""
    loop.set_debug(True)
    loop.slow_callback_duration = threshold_ms / 1000
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    handler.addFilter(_SlowSteps())
    logger = logging.getLogger("asyncio")
    logger.addHandler(handler)
    if logger.getEffectiveLevel() > logging.WARNING:
        logger.setLevel(logging.WARNING)
    return handler
