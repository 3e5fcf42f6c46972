"""The Models pane over the real neural engine: catalog list, detail, live chart, dialogs.

Everything runs the real NeuralService (catalog, training, predict, quantize, export,
import, roll back) over the frozen fixture store and the sample data, with few epochs.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import threading
import time
from functools import partialmethod
from pathlib import Path

from textual.widgets import DataTable, Label, Sparkline, Static

from tests.conftest import FROZEN_NOW
from tests.ui.conftest import (
    SIZE,
    fill,
    freeze_model_sizes,
    prepared_store,
    wait_for_command,
    wait_for_screen,
    wait_until,
)
from workbench.neural import registry, selection
from workbench.neural.selection import Candidate
from workbench.neural.service import NeuralService
from workbench.store import models as m
from workbench.ui.models import ModelsPane
from workbench.ui.screens.model_dialogs import (
    ExportDialog,
    ImportDialog,
    PredictDialog,
    ReportScreen,
    TrainCatalogDialog,
    TrainDialog,
)

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "sample_data" / "neural" / "code-review.model.json"
DATA = ROOT / "sample_data" / "neural" / "code_review.json"
MODEL = "code-review-classifier"
SQL_INPUT = '{"code": "db.query(\\"SELECT * FROM t WHERE id=\\" + id)", "context": "api"}'


def freeze_registry() -> None:
    """Registry timestamps come from the wall clock and stored sizes from the zlib build;
    pictures need fixed ones."""
    m.TrainingRun.update(started=FROZEN_NOW, finished=FROZEN_NOW).execute()
    m.NeuralModel.update(created=FROZEN_NOW, updated=FROZEN_NOW).execute()
    m.ModelAlias.update(updated=FROZEN_NOW).execute()
    m.TrainingHistory.update(at=FROZEN_NOW).execute()
    freeze_model_sizes()


def trained_app(make_app, versions=(8,)):
    """The fixture store with a version of the sample model per entry of `versions` (its
    epochs), trained once per test run (`prepared_store`) and copied into this test."""

    def prepare(engine, _folder) -> None:
        for epochs in versions:
            engine.neural.train(SPEC, DATA, epochs=epochs)
        freeze_registry()

    key = "-".join(map(str, versions))
    inputs = hashlib.sha256(SPEC.read_bytes() + DATA.read_bytes()).hexdigest()[:12]
    return make_app(store=prepared_store(f"trained-{key}-{inputs}", prepare))


def pane_of(app) -> ModelsPane:
    return app.query_one(ModelsPane)


async def open_models(pilot, select: str | None = MODEL) -> ModelsPane:
    await pilot.press("4")
    pane = pane_of(pilot.app)
    if select is not None:
        pane.select_model(select)
    await pilot.pause()
    return pane


def rows(pane: ModelsPane, table_id: str) -> list[list[str]]:
    table = pane.query_one(table_id, DataTable)
    return [[str(c).strip() for c in table.get_row_at(i)] for i in range(table.row_count)]


def val_rows(reference: str) -> int:
    """Rows behind a version's val_accuracy, read from its training run's stored metrics."""
    run = m.TrainingRun.get_by_id(registry.resolve(reference).training_run_id)
    return json.loads(run.metrics)["n_val"]


def champion(name: str) -> int:
    return next(v["version"] for v in registry.versions(name) if "champion" in v["aliases"])


async def submit(pilot) -> None:
    await pilot.press("enter")
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def error_notes(app) -> list[str]:
    return [n.message for n in app._notifications if n.severity == "error"]


# -- behaviour ---------------------------------------------------------------------------


async def test_list_by_category_and_selection_shows_detail(make_app):
    app = trained_app(make_app, versions=(4, 6))
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_models(pilot)
        catalog = app.engine.neural.catalog()
        listed = [(r[0].strip(), r[1]) for r in rows(pane, "#model-table")]
        headers = [name for name, acc in listed if " · " in name]
        assert headers == [
            "coordination · 8", "consensus · 6", "performance · 5", "sparc · 4",
            "specialized · 4", "your models · 1",
        ]  # fmt: skip
        shown = dict(listed)
        assert all(shown[e["name"]] == "untrained" for e in catalog)
        acc = registry.resolve(MODEL).val_accuracy
        assert listed[-1] == (MODEL, f"{acc:.3f} n={val_rows(MODEL)}")
        info = str(pane.query_one("#model-info", Static).render())
        assert MODEL in info and "hidden 64 relu → hidden 32 relu" in info
        assert [r[0] for r in rows(pane, "#model-versions")] == ["v1", "v2"]
        caption = str(pane.query_one("#chart-title", Label).render())
        assert f"{MODEL} v2 · 6 epochs" in caption
        # choosing v1 in the versions table redraws the chart for v1
        await pilot.press("tab", "up")
        await pilot.pause()
        assert pane.version == 1
        assert "v1 · 4 epochs" in str(pane.query_one("#chart-title", Label).render())
        # a catalog entry shows its purpose and source
        pane.select_model("hierarchical-coordinator")
        await pilot.pause()
        info = str(pane.query_one("#model-info", Static).render())
        assert "Tree-based delegation" in info and "knowledge_items (3 rows)" in info
        assert "not trainable" in info and "share more knowledge items" in info


async def test_train_dialog_trains_a_new_model_and_the_chart_follows(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_models(pilot, select=None)
        await pilot.press("n")
        await wait_for_screen(pilot, TrainDialog)
        await fill(pilot, spec=str(SPEC), data=str(DATA), epochs="5", name="reviewer")
        await submit(pilot)
        assert not isinstance(app.screen, TrainDialog)
        assert pane.selected == "reviewer"
        assert [r[:2] for r in rows(pane, "#model-versions")] == [["v1", "trained"]]
        assert "reviewer v1 · 5 epochs" in str(pane.query_one("#chart-title", Label).render())
        assert len(registry.history(registry.resolve("reviewer").id)) == 5
        assert "trained reviewer v1" in str(pane.query_one("#train-status", Label).render())


async def test_train_catalog_model_with_epochs(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_models(pilot, select="hierarchical-coordinator")
        await pilot.press("t")
        await pilot.pause()
        assert not isinstance(app.screen, TrainCatalogDialog)
        assert any("share more knowledge items" in n for n in error_notes(app))
        pane.select_model("specification")
        await pilot.pause()
        await pilot.press("t")
        await wait_for_screen(pilot, TrainCatalogDialog)
        await fill(pilot, epochs="3")
        await submit(pilot)
        listed = dict((r[0].strip(), r[1]) for r in rows(pane, "#model-table"))
        val = registry.resolve("specification").val_accuracy
        assert listed["specification"] == f"{val:.3f} n={val_rows('specification')}"
        assert "3 epochs" in str(pane.query_one("#chart-title", Label).render())
        assert [r[0] for r in rows(pane, "#model-versions")] == ["v1"]


async def test_train_all_trains_every_trainable_catalog_model(make_app, monkeypatch):
    """What this checks is the pane: every trainable model trains, each its own measured
    run, shown with its rows. The recipes' CV runs on a one-candidate grid over 2 folds here
    (through train_catalog's own folds/grid parameters; tests/neural/test_textfeatures.py
    covers the selection): the full grid made this one test 40-150 s."""
    small_cv = partialmethod(NeuralService.train_catalog, folds=2, grid=selection.GRID[:1])
    monkeypatch.setattr(NeuralService, "train_catalog", small_cv)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_models(pilot, select=None)
        ready = [n for n, e in pane.catalog_entries.items() if e.get("trainable")]
        title = str(pane.query_one("#models-title", Label).render())
        assert f"T trains {len(ready)}" in title
        await pilot.press("T")
        await pilot.app.workers.wait_for_complete()
        await wait_until(pilot, lambda: pane.training is None, "the trainings to end")
        listed = dict((r[0].strip(), r[1]) for r in rows(pane, "#model-table"))
        for name in ready:  # each its own run, measured, shown with its rows
            val = registry.resolve(name).val_accuracy
            assert listed[name] == f"{val:.3f} n={val_rows(name)}", name
        assert "T trains" not in str(pane.query_one("#models-title", Label).render())


async def test_predict_and_quantize_show_their_reports(make_app):
    app = trained_app(make_app, versions=(20,))
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_models(pilot)
        await pilot.press("p")
        await wait_for_screen(pilot, PredictDialog)
        await fill(pilot, input=SQL_INPUT)
        await submit(pilot)
        await wait_for_screen(pilot, ReportScreen)
        text = app.screen.markdown
        assert f"Prediction · {MODEL}@1" in text
        assert "confidence" in text and "nearest example" in text
        await pilot.press("escape")
        await pilot.press("z")
        await app.workers.wait_for_complete()
        await pilot.pause()
        await wait_for_screen(pilot, ReportScreen)
        report = app.screen.markdown
        assert "v1 → v2" in report and "stored training examples" in report
        await pilot.press("escape")
        assert [r[1] for r in rows(pane, "#model-versions")] == ["trained", "quantized"]


async def test_export_then_import_round_trip(make_app, tmp_path):
    app = trained_app(make_app, versions=(10,))
    out = tmp_path / "reviewer.clf"
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_models(pilot)
        await pilot.press("e")
        await wait_for_screen(pilot, ExportDialog)
        await fill(pilot, path=str(out))
        await submit(pilot)
        assert out.is_file()
        await pilot.press("i")
        await wait_for_screen(pilot, ImportDialog)
        await fill(pilot, path=str(out), name="reviewer-copy")
        await submit(pilot)
        assert pane.selected == "reviewer-copy"
        assert [r[:2] for r in rows(pane, "#model-versions")] == [["v1", "imported"]]
    neural = app.engine.neural
    assert neural.predict("reviewer-copy", SQL_INPUT) == neural.predict(MODEL, SQL_INPUT)


async def test_rollback_moves_champion_to_selected_version(make_app):
    app = trained_app(make_app, versions=(4, 6))
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_models(pilot)
        before = champion(MODEL)
        target = 1 if before == 2 else 2
        versions = pane.query_one("#model-versions", DataTable)
        versions.focus()
        versions.move_cursor(row=target - 1)
        await pilot.pause()
        await pilot.press("b")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert champion(MODEL) == target
        aliases = {r[0]: r[2] for r in rows(pane, "#model-versions")}
        assert aliases[f"v{target}"] == "champion"
        # the metric across versions: one sparkline point per measured version
        spark = pane.query_one("#versions-spark", Sparkline)
        assert list(spark.data) == [v["val_accuracy"] for v in registry.versions(MODEL)]
        assert spark.display


async def test_bad_inputs_show_errors_and_change_nothing(make_app, tmp_path):
    app = trained_app(make_app)
    async with app.run_test(size=SIZE) as pilot:
        await open_models(pilot)
        count = m.NeuralModel.select().count()
        # missing data file: inline error, the dialog stays
        await pilot.press("n")
        await fill(pilot, spec=str(SPEC), data=str(tmp_path / "missing.json"))
        await pilot.press("enter")
        await pilot.pause()
        await wait_for_screen(pilot, TrainDialog)
        error = str(app.screen.query_one("#dialog-error", Label).render())
        assert "training data: no such file" in error
        await fill(pilot, data=str(DATA), epochs="many")
        await pilot.press("enter")
        await pilot.pause()
        assert "epochs: not a whole number" in str(
            app.screen.query_one("#dialog-error", Label).render()
        )
        await pilot.press("escape")
        # a data file the engine refuses: an error notification
        bad = tmp_path / "bad.json"
        bad.write_text('{"trainingData": [{"code": "x"}]}')
        await pilot.press("n")
        await fill(pilot, spec=str(SPEC), data=str(bad), name="bad-model")
        await submit(pilot)
        # malformed JSON to predict, and a file that is not a .clf to import
        await pilot.press("p")
        await fill(pilot, input="{not json")
        await submit(pilot)
        assert not isinstance(app.screen, ReportScreen)
        await pilot.press("i")
        await fill(pilot, path=str(DATA))
        await submit(pilot)
        assert len(error_notes(app)) == 3, error_notes(app)
        final = m.NeuralModel.status.in_(("trained", "imported"))
        assert m.NeuralModel.select().where(final).count() == 1
        assert "reviewer" not in pane_of(app).own_models
        assert count <= m.NeuralModel.select().count() <= count + 1  # a failed version is kept


async def test_cancel_stops_a_running_training(make_app, monkeypatch):
    original = NeuralService.train
    pressed = threading.Event()

    def slow_train(self, *args, on_epoch=None, **kwargs):
        def slow(rec):
            on_epoch(rec)
            # hold training after its first epoch until the test has pressed `x`,
            # so the cancel always lands mid-training however loaded the machine is
            pressed.wait(timeout=30)

        return original(self, *args, on_epoch=slow, **kwargs)

    monkeypatch.setattr(NeuralService, "train", slow_train)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_models(pilot, select=None)
        await pilot.press("n")
        await fill(pilot, spec=str(SPEC), data=str(DATA), epochs="200")
        await pilot.press("enter")
        for _ in range(100):
            await pilot.pause(0.05)
            if "epoch" in str(pane.query_one("#train-status", Label).render()):
                break
        await pilot.press("x")
        pressed.set()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert pane.training is None
        assert "cancelled" in str(pane.query_one("#train-status", Label).render())
        assert registry.versions(MODEL)[-1]["status"] == "cancelled"


async def test_chart_follows_training_in_another_process(make_app):
    app = make_app(watch=True)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_models(pilot, select=None)
        proc = subprocess.Popen(
            [sys.executable, "-m", "workbench", "neural", "train", "--db",
             str(app.engine.db_path), "--model", str(SPEC), "--data", str(DATA),
             "--epochs", "12", "--json"],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 30
            caption = ""
            while time.monotonic() < deadline:
                await pilot.pause(0.1)
                if MODEL in pane.own_models and pane.selected != MODEL:
                    pane.select_model(MODEL)
                caption = str(pane.query_one("#chart-title", Label).render())
                if f"{MODEL} v1 · 12 epochs" in caption:
                    break
            assert f"{MODEL} v1 · 12 epochs" in caption
            assert proc.wait(timeout=30) == 0, proc.stderr.read()
            expected = ["v1", "trained", "champion"]

            def first_version() -> list[str]:
                table = rows(pane, "#model-versions")
                return table[0][:3] if table else []

            # the process's last commits reach the pane through the change feed, after it exits
            await wait_until(pilot, lambda: first_version() == expected, "v1 as champion")
            assert rows(pane, "#model-versions")[0][:3] == expected
        finally:
            if proc.poll() is None:
                proc.kill()


async def test_command_palette_and_help_offer_model_actions(make_app):
    app = trained_app(make_app)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+p")
        await pilot.press(*"Models: Import")
        await wait_for_command(pilot, "Models: Import")
        await pilot.press("enter")
        await pilot.pause()
        await wait_for_screen(pilot, ImportDialog)
        await pilot.press("escape", "question_mark")
        assert "| `z` | quantize" in app.screen.markdown


# -- snapshots ---------------------------------------------------------------------------


def snapshot_setup(
    *keys: str, select: str | None = MODEL, screen: type | None = None, **values: str
):
    """Open the pane, press `keys`, wait for `screen` (a dialog or report), fill fields."""

    async def run_before(pilot) -> None:
        await open_models(pilot, select=select)
        await pilot.press(*keys)
        await pilot.app.workers.wait_for_complete()
        if screen is not None:
            await wait_for_screen(pilot, screen)
        if values:
            await fill(pilot, **values)
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()

    return run_before


def test_snapshot_models_pane_trained(snap_compare, make_app):
    app = trained_app(make_app, versions=(8, 12))
    assert snap_compare(app, terminal_size=SIZE, run_before=snapshot_setup())


def text_recipe_app(make_app):
    """`specification` trained on its CV-chosen text recipe (a small grid: quick)."""
    app = make_app()
    grid = (Candidate(None, 0.1), Candidate(16, 0.01))
    app.engine.neural.train_catalog("specification", epochs=10, folds=3, grid=grid)
    freeze_registry()
    return app


async def test_detail_shows_the_cv_recipe_stored_with_the_version(make_app):
    app = text_recipe_app(make_app)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_models(pilot, select="specification")
        info = str(pane.query_one("#model-info", Static).render())
        sel = registry.run_metric(registry.resolve("specification@1"), "selection")
        assert f"recipe {sel['model']} on {'+'.join(sel['features'])}" in info
        assert f"3-fold CV {sel['cv_accuracy']:.3f}" in info
        assert "cv features all" in info and "cv models linear l2=0.1" in info


def test_snapshot_models_pane_text_recipe(snap_compare, make_app):
    app = text_recipe_app(make_app)
    assert snap_compare(app, terminal_size=SIZE, run_before=snapshot_setup(select="specification"))


def test_snapshot_models_pane_catalog_entry(snap_compare, make_app):
    app = trained_app(make_app)
    assert snap_compare(app, terminal_size=SIZE, run_before=snapshot_setup(select="specification"))


def test_snapshot_train_dialog_error(snap_compare, make_app):
    app = trained_app(make_app)
    setup = snapshot_setup("n", screen=TrainDialog, data="missing.json")

    async def run_before(pilot) -> None:
        await setup(pilot)
        await pilot.press("enter")
        error = pilot.app.screen.query_one("#dialog-error", Label)
        await wait_until(pilot, lambda: str(error.render()).strip(), "the inline error")

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_snapshot_train_catalog_dialog(snap_compare, make_app):
    app = trained_app(make_app)
    run_before = snapshot_setup("t", select="specification", screen=TrainCatalogDialog, epochs="30")
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_snapshot_predict_dialog(snap_compare, make_app):
    app = trained_app(make_app)
    assert snap_compare(
        app,
        terminal_size=SIZE,
        run_before=snapshot_setup("p", screen=PredictDialog, input=SQL_INPUT),
    )


def test_snapshot_prediction_report(snap_compare, make_app):
    app = trained_app(make_app, versions=(20,))
    setup = snapshot_setup("p", screen=PredictDialog, input=SQL_INPUT)

    async def run_before(pilot) -> None:
        await setup(pilot)
        await submit(pilot)
        await wait_for_screen(pilot, ReportScreen)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_snapshot_quantize_report(snap_compare, make_app):
    app = trained_app(make_app)
    assert snap_compare(
        app, terminal_size=SIZE, run_before=snapshot_setup("z", screen=ReportScreen)
    )


def test_snapshot_export_dialog(snap_compare, make_app):
    app = trained_app(make_app)
    assert snap_compare(
        app, terminal_size=SIZE, run_before=snapshot_setup("e", screen=ExportDialog)
    )


def test_snapshot_import_dialog(snap_compare, make_app):
    app = trained_app(make_app)
    run_before = snapshot_setup(
        "i", screen=ImportDialog, path="exports/reviewer.clf", name="reviewer-copy"
    )
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
