"""Offline selector evaluation: the estimators on a seeded simulation with known truth, the
support statements, propensity logging in selected runs, and the CLI."""

from __future__ import annotations

import json

import pytest

from tests.pipeline.test_command_strategies import run_main
from tests.test_cli import assert_one_line_error
from workbench.pipeline import offpolicy, selection
from workbench.store import models as m


def test_dr_intervals_cover_the_true_values_on_a_seeded_simulation():
    found = offpolicy.coverage(range(40), points=300, bootstrap=1000)
    assert found["intervals"] == 40 * 4 * 2
    assert found["dr_coverage"] >= 0.85
    # the reward model earns its keep: DR is closer to the truth than IPS on average
    assert found["dr_mean_abs_error"] < found["ips_mean_abs_error"]


def test_ignoring_the_logged_propensities_breaks_the_estimate():
    rows, targets, truth = offpolicy.simulate(seed=7, points=400)
    honest = offpolicy.estimate(offpolicy.decision_points(rows, {}), targets, bootstrap=200)
    for row in rows:  # pretend every choice was certain
        row["propensity"] = 1.0
    wrong = offpolicy.estimate(offpolicy.decision_points(rows, {}), targets, bootstrap=200)
    err = {
        name: sum(abs(result[t]["ips"]["success"]["estimate"] - truth[t]["success"]) for t in truth)
        / len(truth)
        for name, result in (("honest", honest), ("wrong", wrong))
    }
    assert err["honest"] < 0.15 < err["wrong"]


def full_log(rewards: dict[str, list[float]]) -> list[dict]:
    """A log of runs without a selector: every strategy ran on every task."""
    rows = []
    for name, scores in rewards.items():
        for i, score in enumerate(scores):
            rows.append({"run_id": 1, "iteration": 1, "task": f"t{i}", "strategy": name,
                         "score": score, "status": "passed" if score > 50 else "failed",
                         "selector": None, "propensity": 1.0, "probabilities": None})  # fmt: skip
    return rows


def test_on_a_full_information_log_both_estimators_are_the_plain_means():
    scores = {"a": [90.0, 80, 10, 70, 60, 95, 20, 85, 75, 65], "b": [40.0] * 10}
    points = offpolicy.decision_points(full_log(scores), {1: ["a", "b"]})
    assert len(points) == 10
    result = offpolicy.estimate(points, {"a": {"a": 1.0}, "half": {"a": 0.5, "b": 0.5}})
    a = result["a"]
    assert a["ess"] == 10.0 and a["supported"]
    for est in ("ips", "dr"):
        assert a[est]["score"]["estimate"] == pytest.approx(sum(scores["a"]) / 10)
        assert a[est]["success"]["estimate"] == pytest.approx(0.8)
        assert a[est]["score"]["low"] <= 65 <= a[est]["score"]["high"]
    half = result["half"]["dr"]["score"]["estimate"]
    assert half == pytest.approx((sum(scores["a"]) / 10 + 40) / 2)


def test_the_log_says_when_it_cannot_support_an_estimate():
    points = offpolicy.decision_points(full_log({"a": [90.0] * 12}), {1: ["a"]})
    result = offpolicy.estimate(points, {"b": {"b": 1.0}, "a": {"a": 1.0}}, bootstrap=50)
    assert result["b"]["dr"] is None and "b never tried" in result["b"]["note"]
    assert result["a"]["supported"]
    # a deterministic logger that always picked a: b has no chance anywhere
    rows = [
        {**r, "selector": "production", "propensity": 1.0,
         "probabilities": json.dumps({"a": 1.0, "b": 0.0})}
        for r in full_log({"a": [90.0] * 12})
    ] + [{**full_log({"b": [10.0]})[0], "run_id": 2}]  # fmt: skip
    points = offpolicy.decision_points(rows, {2: ["b"]})
    result = offpolicy.estimate(points, {"b": {"b": 1.0}}, bootstrap=50)
    assert "too little overlap: at 12 of 13 decision points" in result["b"]["note"]
    few = offpolicy.decision_points(full_log({"a": [90.0] * 3}), {1: ["a"]})
    assert (
        "too few decision points (3 < 5)" in offpolicy.estimate(few, {"a": {"a": 1}})["a"]["note"]
    )
    thin = offpolicy.decision_points(full_log({"a": [90.0] * 6}), {1: ["a"]})
    assert "effective sample size 6.0" in offpolicy.estimate(thin, {"a": {"a": 1}})["a"]["note"]


def test_thompson_probabilities_are_the_posterior_chance_of_being_best():
    flat = selection.thompson_probabilities({}, ["a", "b"])
    assert flat == selection.thompson_probabilities({}, ["b", "a"])  # fixed seed
    assert flat["a"] == pytest.approx(0.5, abs=0.01)
    # Beta(2, 1) against Beta(1, 1): P(X > Y) = ∫ 2x · x dx = 2/3
    probs = selection.thompson_probabilities({"a": {"passes": 1, "failures": 0}}, ["a", "b"])
    assert probs["a"] == pytest.approx(2 / 3, abs=0.01)
    assert sum(probs.values()) == pytest.approx(1.0)
    lopsided = selection.thompson_probabilities({"a": {"passes": 500}, "b": {"failures": 500}},
                                                ["a", "b"])  # fmt: skip
    assert lopsided["b"] > 0  # never exactly 0: a logged choice can always be weighted
    with pytest.raises(ValueError, match="needs a profile"):
        selection.selector_policy("production", {}, ["a"])


GUARDED = """def add(a, b):
    if a < 0:
        raise ValueError("non-negative only")
    return a + b
"""
TESTS = """import pytest

from solution import add


def test_add():
    assert add(2, 3) == 5


def test_guard():
    with pytest.raises(ValueError):
        add(-1, 2)
"""


@pytest.fixture
def tasks(tmp_path):
    """Six tasks: three correct (balanced passes), three buggy; aggressive always fails."""
    root = tmp_path / "tasks"
    for i, solution in enumerate([GUARDED.replace("a + b", "a - b"), GUARDED] * 3):
        d = root / f"t{i}"
        d.mkdir(parents=True)
        d.joinpath("task.json").write_text(json.dumps({"name": f"t{i}", "complexity": "easy"}))
        d.joinpath("solution.py").write_text(solution)
        d.joinpath("test_solution.py").write_text(TESTS)
    return root


def test_selected_runs_log_their_propensities_and_feed_the_evaluation(engine, tasks):
    pipeline = engine.pipeline
    empty = pipeline.evaluate_selectors(bootstrap=50)
    assert empty["decision_points"] == 0 and "no executions logged" in empty["statement"]
    with pytest.raises(ValueError, match="needs a profile"):
        pipeline.run(strategies=["balanced", "aggressive"], tasks_dir=tasks, select="production")
    assert not pipeline.runs()  # refused before anything was written
    pipeline.run(strategies=["balanced", "aggressive"], tasks_dir=tasks, workers=2)
    bandit = pipeline.run(
        strategies=["balanced", "aggressive"], tasks_dir=tasks, select="bandit", seed=5,
        workers=2,
    )  # fmt: skip
    rows = list(m.TaskExecution.select().where(m.TaskExecution.run == bandit["run_id"]))
    assert len(rows) == 6  # one strategy per task
    for row in rows:
        probabilities = json.loads(row.probabilities)
        assert row.selector == "bandit"
        assert row.propensity == probabilities[row.strategy] and 0 < row.propensity < 1
    prod = pipeline.run(strategies=["balanced", "aggressive"], tasks_dir=tasks,
                        select="production", workers=2)  # fmt: skip
    assert {(e["strategy"], e["propensity"]) for e in prod["executions"]} == {("balanced", 1.0)}
    found = pipeline.evaluate_selectors(bootstrap=200)
    assert found["decision_points"] == 6 + 6 + 6 and found["executions"] == 12 + 6 + 6
    targets = found["targets"]
    assert list(targets)[:4] == ["production", "prototyping", "balanced", "bandit"]
    assert targets["always balanced"]["supported"] and targets["production"]["pick"] == "balanced"
    dr = targets["always balanced"]["dr"]["success"]
    assert dr["low"] <= dr["estimate"] <= dr["high"]
    assert 0.3 < dr["estimate"] < 0.7  # half of the tasks are buggy
    # the production run never could have picked aggressive: no estimate, and why
    assert "too little overlap: at 6 of 18" in targets["always aggressive"]["note"]
    pick = pipeline.select(bandit=True, seed=0)
    assert pick["propensity"] == pick["probabilities"][pick["strategy"]]


def test_cli_evaluate_selectors(tmp_path, tasks, capsys):
    db = str(tmp_path / "s.db")
    run = ("pipeline", "run", "--db", db, "--tasks", str(tasks), "--strategies",
           "balanced,aggressive", "--json")  # fmt: skip
    assert run_main(capsys, *run).returncode == 0
    text = run_main(capsys, "pipeline", "evaluate-selectors", "--db", db, "--bootstrap", "100")
    assert "always aggressive" in text.stdout and "ESS" in text.stdout
    assert "effective sample size 6.0" in text.stdout  # 6 tasks: too few to estimate
    assert run_main(capsys, *run).returncode == 0
    out = run_main(
        capsys, "pipeline", "evaluate-selectors", "--db", db, "--bootstrap", "100", "--json"
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["targets"]["always balanced"]["dr"]["success"]["estimate"] == 0.5
    bad = run_main(capsys, "pipeline", "evaluate-selectors", "--db", db, "--bootstrap", "3")
    assert_one_line_error(bad, "bootstrap needs at least 10 resamples")
    bad = run_main(
        capsys, "pipeline", "run", "--db", db, "--tasks", str(tasks), "--select", "oracle"
    )
    assert bad.returncode == 2 and "invalid choice: 'oracle'" in bad.stderr
