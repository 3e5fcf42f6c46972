"""Every figure on screen is what it says: each test derives a shown value independently
from the store's rows (SQL or plain Python over the tables) and compares it with what the
pane or the CLI renders, so a formatting or scale slip (a percent shown ×100, a 0–1
threshold against 0–100 scores, a default shown as a measure) fails a test."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from textual.widgets import DataTable, Label, Static

from tests.conftest import FROZEN_NOW
from tests.test_cli import run_cli
from tests.ui.conftest import SIZE
from workbench.patterns import classifier, continuous
from workbench.store import models as m
from workbench.ui.hub import HubPane
from workbench.ui.memory import MemoryPane
from workbench.ui.patterns import answer_figure
from workbench.ui.runs import RunsPane
from workbench.ui.trends import TrendsPane

TREND_SCORES = [40.0, 42.0, 44.0, 41.0, 43.0, 45.0, 47.0, 46.0, 48.0]


def cells(root, table_id: str) -> list[list[str]]:
    table = root.query_one(table_id, DataTable)
    return [[str(c).strip() for c in table.get_row_at(i)] for i in range(table.row_count)]


def add_trend(strategy: str = "balanced") -> None:
    m.StrategyProfile.create(strategy=strategy, success_rate=0.5, avg_score=45.0, uses=9)
    for i, score in enumerate(TREND_SCORES):
        m.StrategyTrend.create(strategy=strategy, iteration=i, score=score, success_rate=0.5,
                               exec_ms=100.0, at=FROZEN_NOW + dt.timedelta(minutes=i))  # fmt: skip


def improvement_from_rows(db, strategy: str) -> float:
    sql = "SELECT score FROM strategy_trend WHERE strategy = ? ORDER BY at, id"
    scores = [r[0] for r in db.execute_sql(sql, (strategy,))]
    recent, older = scores[-5:], scores[:-5]
    base = sum(older) / len(older)
    return (sum(recent) / len(recent) - base) / base * 100


async def test_trends_improvement_rate_is_the_percent_from_the_trend_rows(make_app):
    app = make_app()
    add_trend()
    expected = improvement_from_rows(app.engine.db, "balanced")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await pilot.pause()
        trends = app.query_one(TrendsPane)
        row = next(r for r in cells(trends, "#profiles") if r[0] == "balanced")
        assert row[7] == f"{expected:+.1f}%"  # +9.3%, not +930.0%
    assert 1 < abs(expected) < 100


def test_cli_pipeline_status_improvement_is_the_same_percent(fixture_engine):
    add_trend()
    expected = improvement_from_rows(fixture_engine.db, "balanced")
    db = str(fixture_engine.db_path)
    fixture_engine.close()
    out = run_cli("pipeline", "status", "--db", db)
    assert out.returncode == 0, out.stderr
    assert f"{expected:+.1f}%" in out.stdout


async def test_runs_execution_cells_say_tests_passed_over_total(make_app):
    app = make_app()
    run = m.PipelineRun.create(status="completed", iterations=1, started=FROZEN_NOW,
                               finished=FROZEN_NOW)  # fmt: skip
    for task, status, passed, total in (("a", "failed", 3, 7), ("b", "passed", 4, 4)):
        m.TaskExecution.create(run=run, iteration=1, task=task, strategy="balanced",
                               status=status, tests_passed=passed, tests_total=total,
                               score=50.0, created=FROZEN_NOW)  # fmt: skip
    db = app.engine.db
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("1")
        pane = app.query_one(RunsPane)
        pane.select_run(run.id)
        await pilot.pause()
        shown = {r[0]: r[2] for r in cells(pane, "#executions")}
        for task, status, passed, total in db.execute_sql(
            "SELECT task, status, tests_passed, tests_total FROM task_executions WHERE run_id = ?",
            (run.id,),
        ):
            word = "pass" if status == "passed" else status
            assert shown[task] == f"{word} {passed}/{total} tests passed"
        n_passed, n = db.execute_sql(
            "SELECT SUM(status = 'passed'), COUNT(*) FROM task_executions WHERE run_id = ?",
            (run.id,),
        ).fetchone()
        title = str(pane.query_one("#executions-title", Label).render())
        assert f"{n_passed}/{n} passed" in title


async def test_memory_facts_show_default_and_sample_marks_and_a_measured_mean(make_app):
    app = make_app()
    app.engine.memory.store("semantic", "A fact stored with no confidence at all")
    app.engine.memory.store("semantic", "A fact with one", meta={"confidence": 0.9})
    db = app.engine.db
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("5")
        await pilot.pause()
        pane = app.query_one(MemoryPane)
        rows = {r[3]: r for r in cells(pane, "#facts-table")}
        for statement, conf, given, source in db.execute_sql(
            "SELECT statement, confidence, confidence_given, source FROM semantic_memory"
        ):
            shown = next(r for s, r in rows.items() if statement.startswith(s.rstrip("…")))
            assert shown[0] == (f"{conf:.2f}" if given else "default")
            assert shown[2] == ("sample" if source in ("seed", "sample_data") else "")
        mean = db.execute_sql(
            "SELECT AVG(confidence) FROM semantic_memory WHERE confidence_given"
        ).fetchone()[0]
        card = str(pane.query_one("#card-semantic", Static).render())
        assert f"mean confidence {mean:.2f}" in card


async def test_hub_advice_says_how_much_rests_on_sample_data(make_app):
    app = make_app()
    app.engine.seed()  # the bundled sample agent history
    db = app.engine.db
    sample = db.execute_sql(
        "SELECT COUNT(*) FROM agent_executions WHERE source = 'sample_data'"
    ).fetchone()[0]
    total = db.execute_sql("SELECT COUNT(*) FROM agent_executions").fetchone()[0]
    sample_outcomes = db.execute_sql(
        "SELECT COUNT(*) FROM adaptive_outcomes o JOIN adaptive_decisions d "
        'ON o.decision_id = d.id WHERE d.analysis LIKE \'%"source": "sample_data"%\''
    ).fetchone()[0]
    assert sample > 0 and sample_outcomes > 0
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("6")
        await pilot.pause()
        text = str(app.query_one(HubPane).query_one("#hub-advice", Static).render())
        assert f"{total} executions ({sample} from sample data)" in text
        assert f"({sample_outcomes} from sample data)" in text


def test_keyword_fallback_shows_its_keyword_share_computed_by_hand():
    text = "Brainstorm alternatives and explore options for the cache"
    low = text.lower()
    words = set(re.findall(r"[a-z0-9-]+", low))
    hits = {p: sum(1 for k in keys if (k in low if " " in k else k in words))
            for p, keys in classifier.KEYWORDS.items()}  # fmt: skip
    best = max(hits.values())
    result = classifier.keyword_classify(text)
    assert answer_figure(result) == f"keyword share {best / sum(hits.values()):.2f}"
    assert result["confidence"] is None


@pytest.mark.parametrize(("score", "quality"), [(95.0, "gold"), (80.0, "gold"), (50.0, "neutral")])
def test_gold_is_judged_on_the_0_to_100_score_scale(score, quality):
    # execution scores are 100 × (0.70 pass + 0.15 lint + 0.15 time): 50 is mediocre
    assert continuous.execution_quality("passed", True, score) == quality
