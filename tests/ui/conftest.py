"""UI fixtures: an app over the frozen fixture store with no watcher and a fixed theme.

A picture must come out the same on any machine, at any speed. What would otherwise
leak into one, and how it is held still here (autouse, so every UI test gets it):

- a blinking cursor's phase at the moment of the picture: the blink never toggles, so a
  focused Input always shows its cursor and an unfocused one never does;
- toasts that time out after 5 s: a slow machine would lose them before the picture (and
  before a test counts them), so they stay for the whole test;
- `sys.getsizeof`, which the working tier's byte count uses, differs between Python
  versions (the same four items: 19.8 KB on 3.11, 18.3 KB on 3.12): sized here by their
  payload instead;
- a model's stored size is its compressed blob, which depends on the zlib build
  (zlib vs zlib-ng) and on the measured training time in its metadata: shown here as the
  size of its arrays (see `freeze_model_sizes`).

Tests wait for dialogs and workers with `wait_for_screen` / `wait_until`, never a fixed
sleep.

Speed (test-only, production code unchanged): Textual parses every CSS source again for
each app, and again on each `Stylesheet.reparse` (a fresh Stylesheet with an empty parse
cache), ~5 % of a UI test; `shared_css_parse` keeps parsed rules for the whole test process.
A store a test prepares before its app starts (a pipeline run, trained versions) is built once
per run by `prepared_store` and copied, as the fixture store is (tests/templates.py).
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from textual.command import CommandList, CommandPalette
from textual.css.model import RuleSet
from textual.css.stylesheet import Stylesheet
from textual.screen import ModalScreen
from textual.widgets import Input

from tests import templates
from tests.conftest import FROZEN_NOW, make_fixture_store
from workbench.engine import Engine
from workbench.memory import working
from workbench.neural.artifact import ModelArtifact
from workbench.store import models as m
from workbench.ui.app import WorkbenchApp

SIZE = (120, 40)
NOTIFICATION_TIMEOUT_S = 3600.0
WAIT_PAUSES = 2000  # pilot.pause() rounds before a wait gives up (a bound, not a sleep)


def payload_bytes(value: Any) -> int:
    """The bytes of a value's content, the same on every Python version."""
    if isinstance(value, str):
        return len(value.encode("utf-8"))
    if isinstance(value, bytes | bytearray):
        return len(value)
    if isinstance(value, np.ndarray):
        return value.nbytes
    if isinstance(value, dict):
        return sum(payload_bytes(k) + payload_bytes(v) for k, v in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return sum(payload_bytes(v) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return sum(payload_bytes(getattr(value, f.name)) for f in dataclasses.fields(value))
    return 8


def array_bytes(artifact: ModelArtifact) -> int:
    """A model's size as the bytes of its arrays (no compression, no metadata)."""
    return sum(a.nbytes for a in artifact.to_parts()[1].values())


def freeze_model_sizes() -> None:
    """Stored sizes of every version as `array_bytes` (a compressed size varies by zlib)."""
    for row in m.NeuralModel.select().where(m.NeuralModel.weights.is_null(False)):
        size = array_bytes(ModelArtifact.from_bytes(bytes(row.weights)))
        m.NeuralModel.update(size_bytes=size).where(m.NeuralModel.id == row.id).execute()


_PARSED_CSS: dict[tuple, list[RuleSet]] = {}


@pytest.fixture(autouse=True, scope="session")
def shared_css_parse():
    """Parsed CSS rules shared by every app of this test process.

    Textual's own cache (`Stylesheet._parse_cache`, keyed by source text, location,
    default-ness, tie breaker and scope) lives in one Stylesheet: each new app, and each
    `reparse` when a screen brings CSS, parses every source again. This wraps the same
    private method with the same key plus the CSS variables the parse substitutes (the
    theme), kept for the process. Parsed `RuleSet`s are only read afterwards (Textual
    itself moves them from the throwaway Stylesheet of `reparse` into the app's), so
    sharing them is safe; a source whose text changes gets a new key. Private API: if a
    Textual upgrade renames `_parse_rules`, this falls back to Textual's own parsing.
    """
    original = getattr(Stylesheet, "_parse_rules", None)
    if original is None:  # a Textual without it: parse per app, as production does
        yield
        return

    def parse_rules(
        self: Stylesheet,
        css: str,
        read_from: Any,
        is_default_rules: bool = False,
        tie_breaker: int = 0,
        scope: str = "",
    ) -> list[RuleSet]:
        key = (
            css,
            read_from,
            is_default_rules,
            tie_breaker,
            scope,
            tuple(sorted(self._variables.items())),
        )
        rules = _PARSED_CSS.get(key)
        if rules is None:
            rules = original(self, css, read_from, is_default_rules, tie_breaker, scope)
            if not any(rule.errors for rule in rules):  # bad CSS is reported every time
                _PARSED_CSS[key] = rules
        return rules

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Stylesheet, "_parse_rules", parse_rules)
        yield


@pytest.fixture(autouse=True)
def steady_pictures(monkeypatch):
    monkeypatch.setattr(Input, "_toggle_cursor", lambda self: None)
    monkeypatch.setattr(WorkbenchApp, "NOTIFICATION_TIMEOUT", NOTIFICATION_TIMEOUT_S)
    monkeypatch.setattr(working, "approx_bytes", payload_bytes)
    monkeypatch.setattr(ModelArtifact, "size_bytes", property(array_bytes))


async def wait_until(pilot, condition: Callable[[], bool], what: str) -> None:
    """Let the app run until `condition()` holds (however slow the machine)."""
    for _ in range(WAIT_PAUSES):
        if condition():
            return
        await pilot.pause()
    raise AssertionError(f"gave up waiting for {what}")


async def wait_for_screen(pilot, screen_type: type) -> Any:
    """The pushed screen once it is active and mounted (its widgets can be queried)."""

    def ready() -> bool:
        screen = pilot.app.screen
        return isinstance(screen, screen_type) and screen.is_mounted and screen.is_attached

    await wait_until(pilot, ready, screen_type.__name__)
    await pilot.pause()
    return pilot.app.screen


async def wait_for_command(pilot, text: str) -> None:
    """The command palette's first offer is the command named `text`: its search for what
    was typed has come back (it runs in a worker, per key; a fixed pause lost the race on
    a loaded machine), so `enter` runs that command."""
    await pilot.app.workers.wait_for_complete()

    def offered() -> bool:
        screen = pilot.app.screen
        if not isinstance(screen, CommandPalette):
            return False
        commands = screen.query_one(CommandList)
        if commands.highlighted is None:
            return False
        return text in str(commands.get_option_at_index(commands.highlighted).hit.text)

    await wait_until(pilot, offered, f"the command palette to offer {text!r}")


async def fill(pilot, **values: str) -> None:
    """Type into a dialog's fields once the dialog is up (a key only asks for it)."""

    def dialog_up() -> bool:
        screen = pilot.app.screen
        return (
            isinstance(screen, ModalScreen)
            and screen.is_mounted
            and all(screen.query(f"#{field_id}") for field_id in values)
        )

    await wait_until(pilot, dialog_up, f"a dialog with {', '.join(values)}")
    for field_id, value in values.items():
        pilot.app.screen.query_one(f"#{field_id}", Input).value = value
    await pilot.pause()


def files_digest(root: Path) -> str:
    """A short digest of the files under `root` (names and bytes): part of a prepared
    store's name, so a template is reused only for the same input files."""
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def prepared_store(name: str, prepare: Callable[[Engine, Path], None]) -> Path:
    """The fixture store after `prepare(engine, folder)`, built once per test run (xdist
    workers share it under a file lock, tests/templates.py) for `make_app(store=...)` to
    copy. `name` must say everything `prepare` depends on; `folder` is the template's own
    directory, for input files the store refers to (a task bank). Each test still reads
    its own copy with a fresh engine: only the identical preparation is shared."""

    def build(path: Path) -> None:
        engine = make_fixture_store(path)
        try:
            prepare(engine, path.parent)
        finally:
            engine.close()  # checkpoints the WAL: the file alone is the whole store

    return templates.shared_template(f"ui-{name}.db", build)


@pytest.fixture
def make_app(tmp_path, isolated_env):
    engines = []

    def factory(
        theme: str | None = "workbench-dark",
        watch: bool = False,
        workers: bool = False,
        lazy: bool = True,
        store: Path | None = None,
    ) -> WorkbenchApp:
        """`workers=False`: panes read the store in place, so a picture or an assertion
        sees the same state on any machine (tests/ui/test_pane_loading.py covers the
        worker path, which the app uses). `store`: a `prepared_store` template to copy
        instead of the plain fixture store."""
        if store is None:
            engine = make_fixture_store(tmp_path / "fixture.db")
        else:
            # the same file name as the fixture store's (the header shows it)
            path = tmp_path / "fixture.db"
            if path.exists():  # a second app in one test
                path = tmp_path / f"app-{len(engines)}" / "fixture.db"
                path.parent.mkdir()
            templates.copy_store_file(store, path)
            engine = Engine(path, clock=lambda: FROZEN_NOW)
        engines.append(engine)
        return WorkbenchApp(
            engine,
            watch=watch,
            theme=theme,
            settings_path=isolated_env,
            load_in_workers=workers,
            # panes mount when their tab is first shown, as in the app (a sixth less CSS
            # work per test); `lazy=False` mounts all seven at start for a test that
            # queries or refreshes panes it never shows
            lazy_panes=lazy,
        )

    yield factory
    for engine in engines:
        engine.close()
