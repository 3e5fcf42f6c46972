"""The Models pane's evaluations: a version's stored figures (confusion matrix with the
diagonal highlighted, per class, reliability chart) and two marked versions side by side."""

from __future__ import annotations

from textual.widgets import DataTable, Input, Label

from tests.conftest import FROZEN_NOW
from tests.ui.conftest import SIZE
from tests.ui.test_models_pane import DATA, MODEL, fill, open_models, submit, trained_app
from workbench.store import models as m
from workbench.ui.screens.evaluations import (
    DIAGONAL,
    CompareEvaluationsScreen,
    EvaluateDialog,
    EvaluationsScreen,
)


def evaluated_app(make_app):
    """Two versions of the sample classifier, both evaluated on the same file."""
    app = trained_app(make_app, versions=(4, 10))
    for version in (1, 2):
        app.engine.neural.evaluate(f"{MODEL}@{version}", DATA)
    m.Evaluation.update(created=FROZEN_NOW).execute()
    return app


async def mark_both(pilot, pane) -> None:
    await pilot.press("tab")  # the versions table
    pane.query_one("#model-versions", DataTable).move_cursor(row=0)
    await pilot.pause()
    await pilot.press("space", "down", "space")
    await pilot.pause()


async def test_evaluations_screen_shows_the_stored_figures(make_app):
    app = evaluated_app(make_app)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_models(pilot)
        await pilot.press("v")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, EvaluationsScreen)
        stored = app.engine.neural.evaluations(f"{MODEL}@2")[0]
        confusion = screen.query_one("#eval-confusion", DataTable)
        cm = stored["metrics"]["confusion"]
        for i, row in enumerate(cm):
            cells = confusion.get_row_at(i)[1:]
            assert [int(str(c)) for c in cells] == row
            styles = [c.style for c in cells]
            assert styles[i] == DIAGONAL and all(s == "" for j, s in enumerate(styles) if j != i)
        classes = screen.query_one("#eval-classes", DataTable)
        supports = [int(str(classes.get_row_at(i)[-1])) for i in range(classes.row_count)]
        assert supports == [c["support"] for c in stored["metrics"]["per_class"]]
        head = str(screen.query_one("#eval-headline", Label).render())
        assert f"accuracy {stored['metrics']['accuracy']:.3f} on {stored['evaluated']} rows" in head
        assert pane.version == 2


async def test_marking_two_versions_and_pressing_c_compares_them(make_app):
    app = evaluated_app(make_app)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_models(pilot)
        await pilot.press("c")  # nothing marked yet: a hint, no screen
        await pilot.pause()
        assert not isinstance(app.screen, CompareEvaluationsScreen)
        await mark_both(pilot, pane)
        assert pane.marked == [1, 2]
        versions = pane.query_one("#model-versions", DataTable)
        assert str(versions.get_row_at(0)[0]).startswith("●")
        await pilot.press("c")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, CompareEvaluationsScreen)
        a = app.engine.neural.evaluations(f"{MODEL}@1")[0]["metrics"]
        b = app.engine.neural.evaluations(f"{MODEL}@2")[0]["metrics"]
        summary = screen.query_one("#compare-summary", DataTable)
        rows = {
            str(summary.get_row_at(i)[0]): summary.get_row_at(i) for i in range(summary.row_count)
        }
        assert str(rows["accuracy"][1]) == f"{a['accuracy']:.3f}"
        assert str(rows["accuracy"][2]) == f"{b['accuracy']:.3f}"
        assert str(rows["accuracy"][3]) == f"{b['accuracy'] - a['accuracy']:+.3f}"
        # one model: the title names it, the columns name the versions (fits 80 columns)
        headers = [str(c.label) for c in summary.columns.values()]
        assert headers == ["figure", "v1", "v2", "difference"]
        title = str(screen.query_one(".title", Label).render())
        assert title == f"{MODEL} v1 vs {MODEL} v2"
        per = screen.query_one("#compare-classes", DataTable)
        assert per.row_count == len(a["per_class"])


async def test_evaluate_dialog_checks_the_file_and_stores_an_evaluation(make_app, tmp_path):
    app = trained_app(make_app)
    async with app.run_test(size=SIZE) as pilot:
        await open_models(pilot)
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, EvaluateDialog)
        await fill(pilot, data=str(tmp_path / "missing.csv"))
        await pilot.press("enter")
        await pilot.pause()
        assert "no such file" in str(app.screen.query_one("#dialog-error", Label).render())
        assert m.Evaluation.select().count() == 0
        await fill(pilot, data=str(DATA))
        await submit(pilot)
        assert isinstance(app.screen, EvaluationsScreen)
        assert m.Evaluation.select().count() == 1


def _setup(keys: tuple[str, ...] = (), mark: bool = False):
    async def run_before(pilot) -> None:
        pane = await open_models(pilot)
        if mark:
            await mark_both(pilot, pane)
        await pilot.press(*keys)
        await pilot.pause()
        for field in pilot.app.screen.query(Input):
            field.cursor_blink = False
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()

    return run_before


def test_snapshot_evaluations_screen(snap_compare, make_app):
    app = evaluated_app(make_app)
    assert snap_compare(app, terminal_size=SIZE, run_before=_setup(("v",)))


def test_snapshot_compare_evaluations(snap_compare, make_app):
    app = evaluated_app(make_app)
    assert snap_compare(app, terminal_size=SIZE, run_before=_setup(("c",), mark=True))
