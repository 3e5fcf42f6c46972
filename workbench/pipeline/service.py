"""PipelineService: runs (task, strategy) pairs in sandboxes and learns from the results.

Everything streams into the store as it happens: the pipeline_runs row first (status
running), each task_executions row as its sandbox finishes, profiles and trend points after
every iteration, then the summary and the final status (completed / cancelled / failed).
Store writes happen only on the thread that called `run`; workers only run sandboxes.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from pathlib import Path

import peewee

from workbench.pipeline import COMPLEXITIES, isolation, scoring, selection
from workbench.pipeline.executor import Executor, LocalExecutor, SandboxExecutor
from workbench.pipeline.pool import PoolError, WarmPool
from workbench.pipeline.sandbox import (
    ExecutionResult,
    ProcessRegistry,
    run_sandboxed,
    sweep_leftovers,
)
from workbench.pipeline.strategies import DEFAULT_STRATEGIES, StrategyRegistry
from workbench.pipeline.tasks import TaskSpec, load_tasks
from workbench.store import leases
from workbench.store import models as m

CURRICULUM_UP = 0.8
CURRICULUM_DOWN = 0.4
EXECUTION_FIELDS = ("task", "strategy", "tests_passed", "tests_total", "lint_ok",
                    "lint_errors", "exec_ms", "score", "status", "reason",
                    "isolation")  # fmt: skip

Event = dict
OnEvent = Callable[[Event], None]


def next_level(level: str, success_rate: float, up: float, down: float) -> str:
    """Curriculum step: up a level at ≥ up, down a level below down, else stay."""
    i = COMPLEXITIES.index(level)
    if success_rate >= up and i < len(COMPLEXITIES) - 1:
        return COMPLEXITIES[i + 1]
    if success_rate < down and i > 0:
        return COMPLEXITIES[i - 1]
    return level


class PipelineService:
    """The pipeline's API for the CLI and UI (the Engine owns one: `engine.pipeline`)."""

    def __init__(self, db: peewee.Database, clock: Callable = m.utcnow) -> None:
        self.db = db
        self.clock = clock
        self.registry = StrategyRegistry()
        self.processes = ProcessRegistry()
        self._stop = threading.Event()
        self._pool: WarmPool | None = None
        self._isolation: isolation.Isolation | None = None

    # -- control ---------------------------------------------------------------------

    def load_strategy_module(self, path: str | Path) -> list[str]:
        return self.registry.load_module(path)

    def strategies(self) -> list[str]:
        return self.registry.names()

    def cancel(self) -> None:
        """Stop the current run: no new sandboxes, running ones killed (thread-safe)."""
        self._stop.set()
        self.processes.kill_all()

    # -- run -------------------------------------------------------------------------

    def run(
        self,
        complexity: str | None = None,
        curriculum: bool = False,
        iterations: int = 1,
        strategies: Sequence[str] = DEFAULT_STRATEGIES,
        tasks_dir: str | Path | None = None,
        workers: int | None = None,
        on_event: OnEvent | None = None,
        should_stop: Callable[[], bool] | None = None,
        executor: Executor | None = None,
        up: float = CURRICULUM_UP,
        down: float = CURRICULUM_DOWN,
        allow_network: bool = False,
        warm_pool: bool | None = None,
    ) -> dict:
        """Run `iterations` rounds of every (task, strategy); returns the run report.

        Sandboxes are isolated as `isolation.current()` says (recorded on the run and each
        execution); tasks asking for network need `allow_network`. Local runs start
        executions from a warm pool when namespaces are available (`warm_pool=None`: if it
        starts; True: it must; False: cold starts)."""
        strategies = list(dict.fromkeys(strategies))
        if not strategies:
            raise ValueError("no strategies given")
        for name in strategies:
            self.registry.get(name)
        if iterations < 1:
            raise ValueError("iterations must be >= 1")
        if curriculum and complexity is not None:
            raise ValueError("--curriculum chooses the complexity itself: drop --complexity")
        if not 0 <= down <= up <= 1:
            raise ValueError("curriculum thresholds need 0 <= down <= up <= 1")
        all_tasks = load_tasks(tasks_dir, complexity)
        if not all_tasks:
            raise ValueError(f"no {complexity or ''} tasks found".replace("  ", " "))
        for task in all_tasks:
            isolation.check_network(f"task {task.name}", task.network, allow_network)
        workers = workers or os.cpu_count() or 1
        if workers < 1:
            raise ValueError("workers must be >= 1")
        iso = isolation.current()
        if warm_pool and (executor is not None or not iso.namespaced):
            raise ValueError(
                "the warm pool runs local executions in namespaces; here: "
                f"{'a remote executor' if executor is not None else iso.reason}"
            )
        swept = len(sweep_leftovers())
        self._isolation = iso
        pool_note = self._start_pool(workers, iso, executor is None, warm_pool)
        try:
            run, before = self._open_run(
                all_tasks, strategies, complexity, curriculum, iterations, tasks_dir, workers,
                executor, up, down, allow_network, pool_note, swept,
            )  # fmt: skip
        except BaseException:
            self._close_pool()
            raise
        emit = on_event or (lambda event: None)
        self._stop.clear()

        def stopping() -> bool:
            return self._stop.is_set() or bool(should_stop and should_stop())

        emit({"type": "run_started", "run_id": run.id, "iterations": iterations,
              "strategies": strategies, "isolation": iso.level,
              "isolation_reason": iso.reason, "warm_pool": self._pool is not None})  # fmt: skip
        own_executor = executor is None
        pool = LocalExecutor(workers) if executor is None else executor
        level = "easy" if curriculum else complexity
        executions: list[dict] = []
        iteration_reports: list[dict] = []
        status = "completed"
        try:
            for iteration in range(1, iterations + 1):
                if stopping():
                    status = "cancelled"
                    break
                tasks = [t for t in all_tasks if not curriculum or t.complexity == level]
                pairs = [(t, s) for t in tasks for s in strategies]
                # on the row too, so a UI in another process can draw the progress bar
                progress = {"iteration": iteration, "level": level, "total": len(pairs)}
                m.PipelineRun.update(summary=json.dumps({"progress": progress})).where(
                    m.PipelineRun.id == run.id
                ).execute()
                emit({"type": "iteration_started", "run_id": run.id, **progress})
                done = self._run_iteration(run, iteration, level, pairs, pool, stopping, emit)
                executions.extend(done)
                if stopping():
                    status = "cancelled"
                report = self._learn(run, iteration, level, done, strategies)
                iteration_reports.append(report)
                emit({"type": "iteration_finished", "run_id": run.id, **report})
                if status == "cancelled":
                    break
                if curriculum:
                    level = next_level(level, report["success_rate"], up, down)
        except BaseException as exc:
            status = "failed"
            self.cancel()
            self._finish(run, status, {"error": f"{type(exc).__name__}: {exc}"})
            emit({"type": "run_finished", "run_id": run.id, "status": status})
            raise
        finally:
            if own_executor:
                pool.shutdown(wait=True, cancel_futures=True)
            self._close_pool()
        profiles = self.status(strategies)
        after = scoring.overall(profiles)
        baseline = before
        if baseline is None and iteration_reports:
            first = iteration_reports[0]
            baseline = {"success_rate": first["success_rate"], "exec_ms": first["avg_exec_ms"],
                        "score": first["avg_score"]}  # fmt: skip
        validation = scoring.validate(baseline, after or {})
        recs = scoring.recommendations(profiles)
        summary = {
            "total_executions": len(executions),
            "real_executions": sum(1 for e in executions if e["real"]),
            "passed": sum(1 for e in executions if e["status"] == "passed"),
            "iterations": iteration_reports,
            "levels": [r["level"] for r in iteration_reports],
            "validation": validation,
            "recommendations": recs,
        }
        self._finish(run, status, summary)
        emit({"type": "run_finished", "run_id": run.id, "status": status})
        return {
            "run_id": run.id,
            "status": status,
            "executions": [
                {k: e[k] for k in (*EXECUTION_FIELDS, "iteration", "level")} for e in executions
            ],
            "iterations": iteration_reports,
            "profiles": profiles,
            "validation": validation,
            "recommendations": recs,
            "total_executions": summary["total_executions"],
            "real_executions": summary["real_executions"],
        }

    def _start_pool(self, workers: int, iso, local: bool, wanted: bool | None) -> str:
        """Start the warm pool for a local namespaced run; a note when it could not start."""
        self._pool = None
        if not local or not iso.namespaced or wanted is False:
            return ""
        pool = WarmPool(workers, iso)
        try:
            pool.warm()
        except PoolError as exc:
            pool.close()
            if wanted:
                raise ValueError(str(exc)) from None
            return f"{exc}: executions start cold"
        self._pool = pool
        return ""

    def _close_pool(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    def _open_run(self, all_tasks, strategies, complexity, curriculum, iterations, tasks_dir,
                  workers, executor, up, down, allow_network, pool_note, swept):  # fmt: skip
        """Register the tasks and create the running run row with its lease."""
        iso = self._isolation
        self._register_tasks(all_tasks)
        before = scoring.overall(self.profiles(strategies))
        config = {
            "curriculum": curriculum,
            "tasks_dir": str(tasks_dir) if tasks_dir else None,
            "workers": workers,
            "executor": getattr(executor, "description", "local"),
            "thresholds": {"up": up, "down": down} if curriculum else None,
            "isolation": iso.level,
            "isolation_reason": iso.reason,
            "network": allow_network,
            "warm_pool": self._pool is not None,
            "warm_pool_note": pool_note,
            "swept_leftovers": swept,
        }
        with self.db.atomic():
            run = m.PipelineRun.create(
                status="running",
                complexity="curriculum" if curriculum else complexity,
                iterations=iterations,
                strategies=json.dumps(strategies),
                config=json.dumps(config),
                started=self.clock(),
            )
            leases.claim("pipeline_runs", run.id)
        return run, before

    def _register_tasks(self, tasks: list[TaskSpec]) -> None:
        rows = [
            {"name": t.name, "kind": t.kind, "complexity": t.complexity,
             "description": t.description, "path": str(t.path), "created": self.clock()}
            for t in tasks
        ]  # fmt: skip
        with self.db.atomic():
            for start in range(0, len(rows), 200):
                m.Task.insert_many(rows[start : start + 200]).on_conflict_ignore().execute()

    def _execute(self, task: TaskSpec, strategy: str, stopping) -> ExecutionResult:
        """Worker body: transform, sandbox, never raise (a failure is a result)."""
        if stopping():
            return ExecutionResult(task.name, strategy, "cancelled", reason="cancelled")
        source = self._transform(task, strategy)
        if isinstance(source, ExecutionResult):
            return source
        try:
            return run_sandboxed(
                task, strategy, source, should_stop=stopping, registry=self.processes,
                network=task.network, isolation=self._isolation, pool=self._pool,
            )  # fmt: skip
        except Exception as exc:  # the run goes on
            return ExecutionResult(
                task.name, strategy, "error", reason=f"sandbox: {type(exc).__name__}: {exc}"
            )

    def _transform(self, task: TaskSpec, strategy: str) -> str | ExecutionResult:
        try:
            return self.registry.apply(strategy, task.source())
        except (ValueError, OSError) as exc:
            return ExecutionResult(task.name, strategy, "error", reason=f"transform: {exc}")

    def _submit(self, pool: Executor, task: TaskSpec, strategy: str, stopping) -> Future:
        """A sandbox executor gets the transformed source (the service stays here)."""
        if not isinstance(pool, SandboxExecutor):
            return pool.submit(self._execute, task, strategy, stopping)
        source = self._transform(task, strategy)
        if isinstance(source, str):
            return pool.submit_sandboxed(task, strategy, source)
        failed: Future = Future()
        failed.set_result(source)
        return failed

    def _run_iteration(self, run, iteration, level, pairs, pool, stopping, emit) -> list[dict]:
        timeouts = {t.name: t.timeout_s for t, _ in pairs}
        pending: set[Future] = {self._submit(pool, t, s, stopping) for t, s in pairs}
        done_rows: list[dict] = []
        remote_cancelled = False
        while pending:
            finished, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
            if stopping():
                self.processes.kill_all()
                if isinstance(pool, SandboxExecutor) and not remote_cancelled:
                    pool.cancel_running()
                    remote_cancelled = True
            for future in finished:
                result: ExecutionResult = future.result()
                row = result.as_dict()
                row["score"] = scoring.score(
                    result.tests_passed, result.tests_total, result.lint_errors,
                    result.exec_ms, timeouts[result.task], result.status,
                )  # fmt: skip
                row["iteration"], row["level"] = iteration, level
                if result.status != "cancelled":
                    m.TaskExecution.create(
                        run=run, iteration=iteration, level=level, created=self.clock(),
                        log_excerpt=result.log_excerpt,
                        **{k: row[k] for k in EXECUTION_FIELDS},
                    )  # fmt: skip
                    done_rows.append(row)
                emit({"type": "execution", "run_id": run.id, "done": len(done_rows),
                      "total": len(pairs), **{k: row[k] for k in (*EXECUTION_FIELDS,
                      "iteration", "level")}})  # fmt: skip
        return done_rows

    def _learn(self, run, iteration, level, rows, strategies) -> dict:
        """Fold one iteration into the profiles and append trend points."""
        by_strategy = {}
        now = self.clock()
        with self.db.atomic():
            for name in strategies:
                mine = [r for r in rows if r["strategy"] == name]
                if not mine:
                    continue
                perf = scoring.aggregate(mine)
                profile = m.StrategyProfile.get_or_none(m.StrategyProfile.strategy == name)
                old = _profile_dict(profile) if profile else {}
                new = scoring.update_profile(old, perf)
                (
                    m.StrategyProfile.insert(strategy=name, updated=now, **new)
                    .on_conflict(conflict_target=[m.StrategyProfile.strategy],
                                 update={**new, "updated": now})
                    .execute()
                )  # fmt: skip
                m.StrategyTrend.create(
                    strategy=name, run=run, iteration=iteration, level=level,
                    score=perf.avg_score, success_rate=perf.success_rate,
                    exec_ms=perf.avg_exec_ms, at=now,
                )  # fmt: skip
                by_strategy[name] = {
                    "score": round(perf.avg_score, 2),
                    "success_rate": perf.success_rate,
                    "exec_ms": round(perf.avg_exec_ms, 1),
                    "executions": perf.executions,
                }
        total = scoring.aggregate(rows)
        return {
            "iteration": iteration,
            "level": level,
            "executions": total.executions,
            "success_rate": total.success_rate,
            "avg_score": total.avg_score,
            "avg_exec_ms": total.avg_exec_ms,
            "by_strategy": by_strategy,
            "recommendations": scoring.recommendations(self.profiles(strategies)),
        }

    def _finish(self, run, status: str, summary: dict) -> None:
        m.PipelineRun.update(
            status=status, summary=json.dumps(summary, default=str), finished=self.clock()
        ).where(m.PipelineRun.id == run.id).execute()

    # -- questions -------------------------------------------------------------------

    def profiles(self, strategies: Sequence[str] | None = None) -> dict[str, dict]:
        """Raw profile values per strategy (only those in the store)."""
        query = m.StrategyProfile.select()
        if strategies is not None:
            query = query.where(m.StrategyProfile.strategy.in_(list(strategies)))
        return {p.strategy: _profile_dict(p) for p in query}

    def status(self, strategies: Sequence[str] | None = None) -> dict[str, dict]:
        """Profiles with trend, improving flag and improvement rate."""
        out = {}
        for name, p in sorted(self.profiles(strategies).items()):
            trend = [
                {"run_id": t.run_id, "iteration": t.iteration, "level": t.level,
                 "score": t.score, "success_rate": t.success_rate, "exec_ms": t.exec_ms,
                 "at": t.at.isoformat(sep=" ", timespec="seconds")}
                for t in m.StrategyTrend.select()
                .where(m.StrategyTrend.strategy == name)
                .order_by(m.StrategyTrend.at, m.StrategyTrend.id)
            ]  # fmt: skip
            improving, rate = scoring.improvement([t["score"] for t in trend])
            out[name] = {**p, "improving": improving, "improvement_rate": rate, "trend": trend,
                         "posterior": selection.posterior(p["passes"], p["failures"])}  # fmt: skip
        return out

    def select(
        self, priorities: str | None = None, bandit: bool = False, seed: int | None = 0
    ) -> dict:
        """What a selector picks now, and why."""
        profiles = self.profiles()
        if bandit:
            return selection.select_bandit(profiles, list(DEFAULT_STRATEGIES), seed=seed)
        return selection.select_weighted(profiles, priorities)

    def runs(self, limit: int = 50) -> list[dict]:
        query = m.PipelineRun.select().order_by(m.PipelineRun.id.desc()).limit(limit)
        return [_run_dict(r) for r in query]

    def executions(self, run_id: int) -> list[dict]:
        query = (
            m.TaskExecution.select()
            .where(m.TaskExecution.run == run_id)
            .order_by(m.TaskExecution.id)
        )
        return [
            {"id": e.id, "iteration": e.iteration, "level": e.level, "lint_errors": e.lint_errors,
             "log_excerpt": e.log_excerpt, **{k: getattr(e, k) for k in EXECUTION_FIELDS}}
            for e in query
        ]  # fmt: skip

    def compare(self, run_ids: Sequence[int]) -> list[dict]:
        """Side by side: each run's totals and per-strategy performance, from its executions."""
        out = []
        for run_id in run_ids:
            run = m.PipelineRun.get_or_none(m.PipelineRun.id == run_id)
            if run is None:
                raise ValueError(f"unknown pipeline run {run_id}")
            rows = self.executions(run_id)
            strategies = json.loads(run.strategies or "[]")
            total = scoring.aggregate(rows)
            by_strategy = {}
            for name in strategies:
                mine = [r for r in rows if r["strategy"] == name]
                if mine:
                    perf = scoring.aggregate(mine)
                    by_strategy[name] = {"success_rate": perf.success_rate,
                                         "avg_score": perf.avg_score,
                                         "avg_exec_ms": perf.avg_exec_ms,
                                         "executions": perf.executions}  # fmt: skip
            out.append({**_run_dict(run), "executions": total.executions,
                        "success_rate": total.success_rate if rows else None,
                        "avg_score": total.avg_score if rows else None,
                        "avg_exec_ms": total.avg_exec_ms if rows else None,
                        "by_strategy": by_strategy})  # fmt: skip
        return out


def run_progress(run: Mapping, executions: Sequence[Mapping]) -> dict | None:
    """Where a running run is: iteration, executions done of total (None when not running).

    Works for a run started in another process, from what it recorded on its row."""
    if run.get("status") != "running":
        return None
    progress = (run.get("summary") or {}).get("progress") or {}
    iteration = progress.get("iteration") or max((e["iteration"] for e in executions), default=1)
    done = sum(1 for e in executions if e["iteration"] == iteration)
    total = progress.get("total") or 0
    return {"iteration": iteration, "iterations": run.get("iterations") or 1,
            "level": progress.get("level"), "done": done, "total": max(total, done)}  # fmt: skip


def _profile_dict(p: m.StrategyProfile) -> dict:
    return {
        "success_rate": p.success_rate,
        "avg_score": p.avg_score,
        "avg_exec_ms": p.avg_exec_ms,
        "uses": p.uses,
        "real_executions": p.real_executions,
        "passes": p.passes,
        "failures": p.failures,
    }


def _run_dict(r: m.PipelineRun) -> dict:
    return {
        "id": r.id,
        "status": r.status,
        "complexity": r.complexity,
        "iterations": r.iterations,
        "strategies": json.loads(r.strategies or "[]"),
        "config": json.loads(r.config or "{}"),
        "summary": json.loads(r.summary or "{}"),
        "started": r.started,
        "finished": r.finished,
    }
