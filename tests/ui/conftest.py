"""UI fixtures: an app over the frozen fixture store with no watcher and a fixed theme."""

from __future__ import annotations

import pytest

from tests.conftest import make_fixture_store
from workbench.ui.app import WorkbenchApp

SIZE = (120, 40)


@pytest.fixture
def make_app(tmp_path, isolated_env):
    engines = []

    def factory(theme: str | None = "workbench-dark", watch: bool = False) -> WorkbenchApp:
        engine = make_fixture_store(tmp_path / "fixture.db")
        engines.append(engine)
        return WorkbenchApp(engine, watch=watch, theme=theme, settings_path=isolated_env)

    yield factory
    for engine in engines:
        engine.close()
