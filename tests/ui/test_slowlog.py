"""The debug setting WORKBENCH_SLOW_HANDLER_MS logs UI-thread handlers over the threshold."""

from __future__ import annotations

import logging
import time

import pytest

from tests.ui.conftest import SIZE
from workbench import config
from workbench.ui.pane import Pane


async def test_a_slow_handler_is_logged_with_its_duration(make_app, monkeypatch):
    monkeypatch.setenv("WORKBENCH_SLOW_HANDLER_MS", "50")
    app = make_app()
    try:
        async with app.run_test(size=SIZE) as pilot:
            assert app.slow_log is not None
            target = next(iter(app.query(Pane)))
            monkeypatch.setattr(target, "refresh_data", lambda changed=None: time.sleep(0.12))
            await pilot.press("r")  # the refresh action runs every pane's refresh_data
            await pilot.pause()
            log = app.engine.db_path.parent / "slow-handlers.log"
            app.slow_log.flush()
            lines = [line for line in log.read_text().splitlines() if "took" in line]
            assert lines, "the 120 ms handler was not logged"
            took = max(float(line.rsplit("took ", 1)[1].split()[0]) for line in lines)
            assert took >= 0.12
    finally:
        if app.slow_log is not None:
            logging.getLogger("asyncio").removeHandler(app.slow_log)
            app.slow_log.close()


async def test_off_by_default(make_app, monkeypatch):
    monkeypatch.delenv("WORKBENCH_SLOW_HANDLER_MS", raising=False)
    app = make_app()
    async with app.run_test(size=SIZE):
        assert app.slow_log is None


@pytest.mark.parametrize("value", ["0", "-5", "fast", "1e9"])
def test_a_bad_threshold_is_a_one_line_error(value):
    with pytest.raises(ValueError, match="WORKBENCH_SLOW_HANDLER_MS must be"):
        config.slow_handler_ms({"WORKBENCH_SLOW_HANDLER_MS": value})
    assert config.slow_handler_ms({}) is None
    assert config.slow_handler_ms({"WORKBENCH_SLOW_HANDLER_MS": "50"}) == 50.0
