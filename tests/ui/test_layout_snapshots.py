"""Every pane and dialog at 80x24 (and a few at 200x60), over the same fixture stores and
set-ups as their 120x40 snapshots in the panes' own test modules (issue 17)."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable

from tests.ui.conftest import fill, wait_for_screen
from tests.ui.test_agents_pane import keys_then_settle, sessions_app
from tests.ui.test_hub_pane import open_hub, with_history
from tests.ui.test_layout import settle
from tests.ui.test_memory_pane import freeze_latency, pane, sample_app, searched
from tests.ui.test_model_evaluations import _setup, evaluated_app
from tests.ui.test_models_pane import (
    SQL_INPUT,
    open_models,
    snapshot_setup,
    submit,
    trained_app,
)
from tests.ui.test_runs_trends import ran_app, show_trends, tasks, two_runs_app  # noqa: F401
from workbench.ui.screens.confirm import ConfirmScreen
from workbench.ui.screens.evaluations import CompareEvaluationsScreen, EvaluateDialog
from workbench.ui.screens.model_dialogs import (
    ExportDialog,
    ImportDialog,
    PredictDialog,
    ReportScreen,
    TrainCatalogDialog,
    TrainDialog,
)

SMALL = (80, 24)
LARGE = (200, 60)


def keys(*pressed: str):
    """Press keys once the app has started, then wait for its workers."""

    async def run_before(pilot) -> None:
        await pilot.pause()
        await pilot.press(*pressed)
        await settle(pilot)

    return run_before


# -- panes ---------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [SMALL, LARGE], ids=["80x24", "200x60"])
def test_runs_list(snap_compare, make_app, tasks, size):  # noqa: F811
    """Below 110 columns the runs list has the width; 200 columns show the run beside it."""
    assert snap_compare(ran_app(make_app, tasks), terminal_size=size, run_before=keys())


def test_runs_drilled_into_a_run_at_80x24(snap_compare, make_app, tasks):  # noqa: F811
    assert snap_compare(ran_app(make_app, tasks), terminal_size=SMALL, run_before=keys("enter"))


def test_trends_at_80x24(snap_compare, make_app, tasks):  # noqa: F811
    assert snap_compare(ran_app(make_app, tasks), terminal_size=SMALL, run_before=show_trends)


def test_patterns_at_80x24(snap_compare, make_app):
    """Below 36 rows the charts hide behind `\\` (the tables show first)."""
    assert snap_compare(make_app(), terminal_size=SMALL, run_before=keys("3"))


async def test_patterns_charts_swap_in_at_80x24(make_app):
    """`\\` swaps the charts in for the tables below 36 rows. Checked on the widgets, not
    a snapshot: plotext's x-axis labels at this width differ from run to run."""
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("3")
        await settle(pilot)
        charts, tables = app.query_one("#patterns-charts"), app.query_one("#patterns-tables")
        assert tables.display and not charts.display
        await pilot.press("backslash")
        await settle(pilot)
        assert charts.display and not tables.display
        assert charts.region.height > 0 and tables.region.height == 0
        await pilot.press("backslash")
        await settle(pilot)
        assert tables.display and not charts.display


@pytest.mark.parametrize(
    ("size", "pressed"),
    [(SMALL, ()), (SMALL, ("backslash",)), (LARGE, ())],
    ids=["80x24", "80x24-model", "200x60"],
)
def test_models_trained(snap_compare, make_app, size, pressed):
    """Below 110 columns the catalog and the selected model take turns on `\\`."""
    app = trained_app(make_app, versions=(8, 12))
    assert snap_compare(app, terminal_size=size, run_before=snapshot_setup(*pressed))


@pytest.mark.parametrize("side", [False, True], ids=["search", "side-panel"])
def test_memory_at_80x24(snap_compare, make_app, side):
    """The working set and the facts hide behind `\\` below 110 columns."""
    app = sample_app(make_app)

    async def run_before(pilot) -> None:
        await pilot.pause()
        await pilot.press("5")
        freeze_latency(app)
        pane(app).search("retry a locked sqlite write")
        await searched(pilot)
        if side:
            await pilot.press("backslash")
            await pilot.pause()

    assert snap_compare(app, terminal_size=SMALL, run_before=run_before)


@pytest.mark.parametrize(
    ("size", "side"),
    [(SMALL, False), (SMALL, True), (LARGE, False)],
    ids=["80x24", "80x24-side-panel", "200x60"],
)
def test_hub_with_history(snap_compare, make_app, size, side):
    app = with_history(make_app())

    async def run_before(pilot) -> None:
        await pilot.pause()
        await open_hub(pilot)
        if side:
            await pilot.press("backslash")
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=run_before)


def test_agents_with_sessions_at_200x60(snap_compare, make_app):
    app = sessions_app(make_app, applied=True)
    assert snap_compare(app, run_before=keys_then_settle("7"), terminal_size=LARGE)


def test_below_the_minimum_size(snap_compare, make_app):
    assert snap_compare(make_app(), terminal_size=(72, 20), run_before=keys())


# -- dialogs at 80x24 ------------------------------------------------------------------------


def test_launch_dialog(snap_compare, make_app, tasks):  # noqa: F811
    async def run_before(pilot) -> None:
        await pilot.press("t")
        await fill(pilot, iterations="3", strategies="balanced,conservative")

    assert snap_compare(ran_app(make_app, tasks), terminal_size=SMALL, run_before=run_before)


def test_compare_runs(snap_compare, make_app, tasks):  # noqa: F811
    app = two_runs_app(make_app, tasks)
    assert snap_compare(app, terminal_size=SMALL, press=["space", "down", "space", "c"])


def test_help(snap_compare, make_app):
    assert snap_compare(make_app(), terminal_size=SMALL, press=["6", "question_mark"])


def test_share_dialog(snap_compare, make_app):
    async def run_before(pilot) -> None:
        await pilot.pause()
        await pilot.press("6")
        await pilot.pause()
        await pilot.press("n")
        await fill(pilot, **{"share-title": "Close cursors"})

    assert snap_compare(make_app(), terminal_size=SMALL, run_before=run_before)


MODEL_DIALOGS = {
    "train": snapshot_setup("n", screen=TrainDialog, data="missing.json"),
    "train-catalog": snapshot_setup(
        "t", select="specification", screen=TrainCatalogDialog, epochs="30"
    ),
    "predict": snapshot_setup("p", screen=PredictDialog, input=SQL_INPUT),
    "quantize-report": snapshot_setup("z", screen=ReportScreen),
    "export": snapshot_setup("e", screen=ExportDialog),
    "import": snapshot_setup(
        "i", screen=ImportDialog, path="exports/reviewer.clf", name="reviewer-copy"
    ),
    "evaluate": snapshot_setup("a", screen=EvaluateDialog),
}


@pytest.mark.parametrize("name", list(MODEL_DIALOGS))
def test_model_dialog(snap_compare, make_app, name):
    app = trained_app(make_app)
    assert snap_compare(app, terminal_size=SMALL, run_before=MODEL_DIALOGS[name])


def test_prediction_report(snap_compare, make_app):
    app = trained_app(make_app, versions=(20,))
    setup = snapshot_setup("p", screen=PredictDialog, input=SQL_INPUT)

    async def run_before(pilot) -> None:
        await setup(pilot)
        await submit(pilot)
        await wait_for_screen(pilot, ReportScreen)

    assert snap_compare(app, terminal_size=SMALL, run_before=run_before)


def test_evaluations(snap_compare, make_app):
    assert snap_compare(evaluated_app(make_app), terminal_size=SMALL, run_before=_setup(("v",)))


def test_compare_evaluations(snap_compare, make_app):
    """Below 110 columns the versions are behind `\\`: mark two there, then compare."""

    async def run_before(pilot) -> None:
        pane = await open_models(pilot)
        await pilot.press("backslash")
        await pilot.pause()
        versions = pane.query_one("#model-versions", DataTable)
        versions.focus()
        versions.move_cursor(row=0)
        await pilot.pause()
        await pilot.press("space", "down", "space", "c")
        await pilot.app.workers.wait_for_complete()
        await wait_for_screen(pilot, CompareEvaluationsScreen)

    assert snap_compare(evaluated_app(make_app), terminal_size=SMALL, run_before=run_before)


def test_purge_confirmation(snap_compare, make_app):
    async def run_before(pilot) -> None:
        await keys_then_settle("7")(pilot)
        await pilot.press("D")
        await wait_for_screen(pilot, ConfirmScreen)

    assert snap_compare(sessions_app(make_app), terminal_size=SMALL, run_before=run_before)
