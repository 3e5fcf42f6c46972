"""Ensembles from the Models pane: mark versions (space or m), E predicts with the ensemble
of them through the engine call `workbench neural ensemble` makes; versions that cannot be
averaged give a one-line notice."""

from __future__ import annotations

import json

import pytest
from textual.widgets import DataTable, Label

from tests.ui.conftest import SIZE, fill, wait_for_screen
from tests.ui.test_models_pane import (
    DATA,
    MODEL,
    SPEC,
    SQL_INPUT,
    freeze_registry,
    open_models,
    submit,
    trained_app,
)
from workbench.store import models as m
from workbench.ui.screens.ensemble_report import EnsembleReportScreen
from workbench.ui.screens.model_dialogs import PredictDialog

SMALL = (80, 24)


def warnings(app) -> list[str]:
    return [n.message for n in app._notifications if n.severity == "warning"]


def errors(app) -> list[str]:
    return [n.message for n in app._notifications if n.severity == "error"]


def renamed_field_data(tmp_path):
    """The sample data with its `code` field called `snippet`: another input spec."""
    doc = json.loads(DATA.read_text())
    for part in doc.values():
        for row in part:
            row["snippet"] = row.pop("code")
    path = tmp_path / "snippets.json"
    path.write_text(json.dumps(doc))
    return path


async def mark_rows(pilot, pane, rows: list[int], key: str = "space") -> None:
    """Mark the versions on these rows of the versions table."""
    table = pane.query_one("#model-versions", DataTable)
    table.focus()
    for row in rows:
        table.move_cursor(row=row)
        await pilot.pause()
        await pilot.press(key)
        await pilot.pause()


async def test_ensemble_of_marked_versions_shows_each_member_and_the_ensemble(make_app):
    app = trained_app(make_app, versions=(4, 10, 6))
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_models(pilot)
        await mark_rows(pilot, pane, [0, 2], key="space")
        await mark_rows(pilot, pane, [1], key="m")  # m marks too
        assert sorted(pane.marked) == [1, 2, 3] and not warnings(app)
        title = str(pane.query_one("#versions-title", Label).render())
        assert "marked v1, v2, v3" in title
        cells = [
            str(pane.query_one("#model-versions", DataTable).get_row_at(i)[0]) for i in range(3)
        ]
        assert cells == ["● v1", "● v2", "● v3"]
        await pilot.press("E")
        dialog = await wait_for_screen(pilot, PredictDialog)
        assert f"ensemble of {MODEL} v1, v2, v3" in dialog.intro()
        await fill(pilot, input=SQL_INPUT)
        await submit(pilot)
        screen = await wait_for_screen(pilot, EnsembleReportScreen)
        refs = [f"{MODEL}@{v}" for v in (1, 2, 3)]
        assert screen.references == refs
        # the same engine call the CLI makes, on the same input, gives the same answers
        assert screen.results == app.engine.neural.ensemble(refs, SQL_INPUT)
        result = screen.results[0]
        text = screen.markdown
        for member in result["members"]:
            assert f"| {member['model']} | {member['prediction']} | " in text
            assert f"{member['confidence']:.3f}" in text
        assert f"| **ensemble** | **{result['prediction']}** | {result['confidence']:.3f} |" in text
        agree = round(result["agreement"] * 3)
        assert f"{agree} of 3 members agree" in text
        await pilot.press("escape")
        await pilot.pause()
        # unmarking with the same key; one marked version is no ensemble
        await mark_rows(pilot, pane, [0, 1])
        assert pane.marked == [3]
        await pilot.press("E")
        await pilot.pause()
        assert any("mark two or more versions" in w for w in warnings(app))
        assert not isinstance(app.screen, PredictDialog)


async def test_incompatible_versions_give_a_one_line_notice_not_a_crash(make_app, tmp_path):
    app = trained_app(make_app, versions=(4,))
    app.engine.neural.train(SPEC, renamed_field_data(tmp_path), epochs=3, name=MODEL)
    freeze_registry()
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_models(pilot)
        await mark_rows(pilot, pane, [0, 1])
        assert sorted(pane.marked) == [1, 2]  # still marked: c can compare them
        notice = [w for w in warnings(app) if w.startswith("not an ensemble")]
        assert len(notice) == 1 and "\n" not in notice[0]
        assert f"{MODEL}@2 reads fields" in notice[0] and "snippet" in notice[0]
        await pilot.press("E")
        await pilot.pause()
        assert not isinstance(app.screen, PredictDialog)
        assert len([w for w in warnings(app) if w.startswith("not an ensemble")]) == 2
        assert not errors(app)


async def test_a_version_without_weights_is_a_notice(make_app):
    app = trained_app(make_app, versions=(4, 5))
    m.NeuralModel.update(weights=None, status="failed").where(m.NeuralModel.version == 2).execute()
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_models(pilot)
        await mark_rows(pilot, pane, [0, 1])
        assert any(w.startswith("not an ensemble") for w in warnings(app))
        assert not errors(app)
        assert pane.is_mounted


@pytest.mark.parametrize(
    ("typed", "where"),
    [
        ("", "dialog"),  # the dialog says what is missing, stays open
        ("no/such/file.json", "dialog"),
        ('{"code": ', "engine"),  # not JSON: the engine's one-line error
        ("[1, 2]", "engine"),  # not records
    ],
)
async def test_bad_ensemble_input(make_app, typed, where):
    app = trained_app(make_app, versions=(4, 10))
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_models(pilot)
        await mark_rows(pilot, pane, [0, 1])
        await pilot.press("E")
        await wait_for_screen(pilot, PredictDialog)
        await fill(pilot, input=typed)
        await submit(pilot)
        if where == "dialog":
            assert isinstance(app.screen, PredictDialog)
            assert str(app.screen.query_one("#dialog-error", Label).render())
        else:
            assert not isinstance(app.screen, (PredictDialog, EnsembleReportScreen))
            assert len(errors(app)) == 1 and "\n" not in errors(app)[0]
        assert pane.marked == [1, 2]


async def test_help_and_footer_name_the_keys(make_app):
    app = trained_app(make_app, versions=(4,))
    async with app.run_test(size=SIZE) as pilot:
        await open_models(pilot)
        keys = {b.binding.key for b in app.screen.active_bindings.values()}
        assert {"space", "m", "E", "c"} <= keys
        shown = {b.binding.key for b in app.screen.active_bindings.values() if b.binding.show}
        assert {"space", "E"} <= shown
        await pilot.press("question_mark")
        await pilot.pause()
        text = app.screen.markdown
        assert "`space` / `m`" in text and "| `E` | predict with the ensemble" in text


def _ensemble_report(pilot_setup_marks=(0, 1)):
    async def run(pilot):
        pane = await open_models(pilot)
        await mark_rows(pilot, pane, list(pilot_setup_marks))
        await pilot.press("E")
        await wait_for_screen(pilot, PredictDialog)
        await fill(pilot, input=SQL_INPUT)
        await submit(pilot)
        await wait_for_screen(pilot, EnsembleReportScreen)

    return run


@pytest.mark.parametrize("size", [SIZE, SMALL], ids=["120x40", "80x24"])
def test_ensemble_report_snapshot(snap_compare, make_app, size):
    app = trained_app(make_app, versions=(4, 10))
    assert snap_compare(app, run_before=_ensemble_report(), terminal_size=size)


@pytest.mark.parametrize("size", [SIZE, SMALL], ids=["120x40", "80x24"])
def test_incompatible_mark_snapshot(snap_compare, make_app, tmp_path, size):
    """The marks in the versions table and the one-line notice."""
    app = trained_app(make_app, versions=(4,))
    app.engine.neural.train(SPEC, renamed_field_data(tmp_path), epochs=3, name=MODEL)
    freeze_registry()

    async def run(pilot):
        pane = await open_models(pilot)
        await mark_rows(pilot, pane, [0, 1])

    assert snap_compare(app, run_before=run, terminal_size=size)
