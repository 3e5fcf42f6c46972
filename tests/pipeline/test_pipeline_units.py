"""Pipeline pieces without subprocesses: tasks, transforms, scoring, selection."""

from __future__ import annotations

import ast
import json

import pytest

from workbench.pipeline import scoring, selection
from workbench.pipeline.service import next_level
from workbench.pipeline.strategies import StrategyRegistry, aggressive, balanced, conservative
from workbench.pipeline.tasks import load_task, load_tasks

SAMPLE = '''
"""Module."""


def scale(values: list, factor: float, label: str | None = None, *, tag: Widget = None):
    """Doc."""
    if factor == 0:
        raise ValueError("factor must not be zero")
    if not values:
        raise ValueError("empty")
    total = [v * factor for v in values]
    if len(total) > 3:
        raise ValueError("not a guard: after other code")
    return total


class Box:
    def put(self, item: Widget, count: int = 1) -> None:
        if count < 0:
            raise ValueError("negative")
'''


def run(source: str, name: str, *args, **kwargs):
    namespace: dict = {"Widget": object}
    exec(compile(source, "<t>", "exec"), namespace)
    return namespace[name](*args, **kwargs)


def test_balanced_leaves_source_identical():
    assert balanced(SAMPLE) == SAMPLE


def test_conservative_adds_type_and_none_checks_after_docstring():
    out = conservative(SAMPLE)
    tree = ast.parse(out)
    scale = tree.body[1]
    assert isinstance(scale.body[0], ast.Expr)  # docstring kept first
    assert "isinstance(values, list)" in out
    assert "isinstance(factor, (float, int))" in out
    assert "label is not None and (not isinstance(label, str))" in out
    assert "tag" not in out.split("def put")[0].split('"""Doc."""')[1].split("if factor")[0]
    assert "item is None" in out  # unknown annotation: None check
    assert run(out, "scale", [1, 2], 2) == [2, 4]
    assert run(out, "scale", [1], 2.5, "x") == [2.5]
    with pytest.raises(TypeError, match="factor"):
        run(out, "scale", [1], "2")
    with pytest.raises(TypeError, match="label"):
        run(out, "scale", [1], 2, 3)


def test_aggressive_strips_only_leading_guards():
    out = aggressive(SAMPLE)
    assert "factor must not be zero" not in out
    assert '"empty"' not in out and "'empty'" not in out
    assert "not a guard" in out
    assert run(out, "scale", [], 2) == []
    tree = ast.parse(out)
    put = tree.body[2].body[0]
    assert isinstance(put.body[0], ast.Pass)  # emptied body stays valid


def test_registry_user_module_and_errors(tmp_path):
    module = tmp_path / "mine.py"
    module.write_text("STRATEGIES = {'shout': lambda src: src.upper()}\n")
    registry = StrategyRegistry(entry_points=False)
    assert registry.load_module(module) == ["shout"]
    assert registry.apply("shout", "x = 1") == "X = 1"
    with pytest.raises(ValueError, match="existing .py"):
        registry.load_module(tmp_path / "nope.py")
    bad = tmp_path / "bad.py"
    bad.write_text("STRATEGIES = 3\n")
    with pytest.raises(ValueError, match="STRATEGIES"):
        registry.load_module(bad)
    with pytest.raises(ValueError, match="unknown strategy"):
        registry.get("nope")


def test_task_defaults_and_malformed(tmp_path):
    task = tmp_path / "t1"
    task.mkdir()
    (task / "task.json").write_text("{}")
    (task / "impl.py").write_text("X = 1\n")
    (task / "test_impl.py").write_text("def test_x():\n    pass\n")
    spec = load_task(task)
    assert (spec.name, spec.kind, spec.complexity, spec.module) == ("t1", "function", "medium",
                                                                    "impl.py")  # fmt: skip
    assert spec.tests == ("test_impl.py",) and spec.timeout_s == 10
    (task / "task.json").write_text("{not json")
    with pytest.raises(ValueError, match=r"t1/task\.json"):
        load_task(task)
    (task / "task.json").write_text(json.dumps({"complexity": "extreme"}))
    with pytest.raises(ValueError, match="complexity must be one of"):
        load_task(task)
    (task / "task.json").write_text(json.dumps({"module": "../evil.py"}))
    with pytest.raises(ValueError, match="not a file"):
        load_task(task)


def test_bundled_tasks_load():
    tasks = load_tasks()
    assert len(tasks) >= 9
    assert {t.complexity for t in tasks} == {"easy", "medium", "hard"}
    assert all(t.complexity == "easy" for t in load_tasks(complexity="easy"))


def test_score_formula():
    assert scoring.score(10, 10, 0, 0, 10) == 100.0
    # 70 * 0.5 + 15 * 1/(1+1) + 15 * (1 - 2000/10000)
    assert scoring.score(5, 10, 1, 2000, 10) == pytest.approx(35 + 7.5 + 12.0)
    assert scoring.score(3, 3, 0, 1000, 1, status="timeout") == 0.0
    assert scoring.score(0, 0, 0, 10, 1) == 0.0


def test_ema_profile_learning_rates():
    real = scoring.Performance(1.0, 80.0, 100.0, 2, 2, 2, 0)
    first = scoring.update_profile({}, real)
    assert first["success_rate"] == 1.0 and first["uses"] == 2  # first observation as is
    worse = scoring.Performance(0.5, 40.0, 300.0, 2, 1, 1, 1)
    second = scoring.update_profile(first, worse)
    assert second["success_rate"] == pytest.approx(1.0 * 0.6 + 0.5 * 0.4)
    assert second["avg_score"] == pytest.approx(80 * 0.6 + 40 * 0.4)
    assert second["avg_exec_ms"] == pytest.approx(100 * 0.6 + 300 * 0.4)
    assert (second["passes"], second["failures"], second["real_executions"]) == (3, 1, 3)
    synthetic = scoring.Performance(0.0, 0.0, 50.0, 1, 0, 0, 1)
    third = scoring.update_profile(second, synthetic)
    assert third["avg_score"] == pytest.approx(second["avg_score"] * 0.9)


def test_improvement_rate_last_five_vs_older():
    assert scoring.improvement([1, 2, 3, 4, 5]) == (False, None)
    improving, rate = scoring.improvement([50, 50, 60, 60, 60, 60, 60])
    assert improving is True and rate == pytest.approx(20.0)
    improving, rate = scoring.improvement([80, 60, 60, 60, 60, 60])
    assert improving is False and rate == pytest.approx(-25.0)


def test_validation_bands():
    before = {"success_rate": 0.8, "exec_ms": 1000.0, "score": 80.0}
    after = {"success_rate": 0.9, "exec_ms": 1040.0, "score": 70.0}
    v = scoring.validate(before, after)
    assert [e["metric"] for e in v["improved"]] == ["success_rate"]
    assert [e["metric"] for e in v["declined"]] == ["score"]
    assert [e["metric"] for e in v["unchanged"]] == ["exec_ms"]  # 4% slower: inside the band
    faster = scoring.validate(before, {**before, "exec_ms": 800.0})
    assert faster["improved"][0] == {"metric": "exec_ms", "before": 1000.0, "after": 800.0,
                                     "change": 20.0}  # fmt: skip
    assert scoring.validate(None, after)["baseline"] is False


PROFILES = {
    "conservative": {"success_rate": 1.0, "avg_score": 90.0, "avg_exec_ms": 400.0, "uses": 4,
                     "passes": 4, "failures": 0},
    "balanced": {"success_rate": 0.8, "avg_score": 95.0, "avg_exec_ms": 200.0, "uses": 4,
                 "passes": 3, "failures": 1},
    "aggressive": {"success_rate": 0.2, "avg_score": 60.0, "avg_exec_ms": 100.0, "uses": 4,
                   "passes": 1, "failures": 3},
}  # fmt: skip


def test_weighted_selection_presets_and_custom():
    prod = selection.select_weighted(PROFILES, "production")
    assert prod["strategy"] == "conservative"
    # 0.7*1.0 + 0.1*(100/400) + 0.2*0.9
    assert prod["score"] == pytest.approx(0.7 + 0.025 + 0.18)
    assert "reliability" in prod["reason"] and "next" in prod["reason"]
    assert selection.select_weighted(PROFILES, "prototyping")["strategy"] == "aggressive"
    assert selection.select_weighted(PROFILES, "0,0,1")["strategy"] == "balanced"
    assert selection.parse_priorities("2,1,1") == (0.5, 0.25, 0.25)
    for bad in ("fast", "1,2", "-1,1,1", "0,0,0"):
        with pytest.raises(ValueError):
            selection.parse_priorities(bad)
    with pytest.raises(ValueError, match="no strategy profiles"):
        selection.select_weighted({}, "balanced")


def test_bandit_is_seeded_and_favours_evidence():
    one = selection.select_bandit(PROFILES, seed=7)
    assert one == selection.select_bandit(PROFILES, seed=7)
    assert "Beta(" in one["reason"]
    picks = [selection.select_bandit(PROFILES, seed=s)["strategy"] for s in range(200)]
    assert picks.count("aggressive") < picks.count("conservative")
    post = selection.posterior(4, 0)
    assert post["mean"] == pytest.approx(5 / 6) and post["low"] < post["mean"] < post["high"]
    fresh = selection.select_bandit({}, ["a", "b"], seed=1)
    assert fresh["strategy"] in ("a", "b")


def test_curriculum_steps():
    assert next_level("easy", 0.8, 0.8, 0.4) == "medium"
    assert next_level("hard", 1.0, 0.8, 0.4) == "hard"
    assert next_level("medium", 0.39, 0.8, 0.4) == "easy"
    assert next_level("easy", 0.0, 0.8, 0.4) == "easy"
    assert next_level("medium", 0.5, 0.8, 0.4) == "medium"
