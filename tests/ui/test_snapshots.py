"""Snapshots of the shell, every pane and the help screen over the fixture store."""

from __future__ import annotations

import pytest

from tests.ui.conftest import SIZE

THEMES = ["workbench-dark", "workbench-light", "workbench-high-contrast"]


@pytest.mark.parametrize("theme", THEMES)
def test_shell_in_each_theme(snap_compare, make_app, theme):
    assert snap_compare(make_app(theme=theme), terminal_size=SIZE)


@pytest.mark.parametrize("key", ["2", "3", "4", "5", "6"])
def test_each_pane(snap_compare, make_app, key):
    assert snap_compare(make_app(), press=[key], terminal_size=SIZE)


def test_help_screen(snap_compare, make_app):
    assert snap_compare(make_app(), press=["6", "question_mark"], terminal_size=SIZE)
