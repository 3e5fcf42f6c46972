"""PipelineService: runs (task, strategy) pairs in sandboxes and learns from the results.

Everything streams into the store as it happens: the pipeline_runs row first (status
running), each task_executions row as its sandbox finishes, profiles and trend points after
every iteration, then the summary and the final status (completed / cancelled / failed).
Store writes happen only on the thread that called `run`; workers only run sandboxes.
"""

from __future__ import annotations

import json
import os
import random
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from pathlib import Path

import peewee

from workbench.pipeline import COMPLEXITIES, isolation, scoring, selection
from workbench.pipeline.commands import (
    STRATEGIES_FILE,
    CommandStrategy,
    load_strategies_file,
    make_step,
    parse_strategy_cmd,
)
from workbench.pipeline.executor import Executor, LocalExecutor, SandboxExecutor
from workbench.pipeline.pool import PoolError, WarmPool
from workbench.pipeline.sandbox import (
    ExecutionResult,
    ProcessRegistry,
    run_sandboxed,
    sweep_leftovers,
)
from workbench.pipeline.strategies import DEFAULT_STRATEGIES, StrategyRegistry
from workbench.pipeline.tasks import TaskSpec, load_task, load_tasks
from workbench.store import leases
from workbench.store import models as m

CURRICULUM_UP = 0.8
CURRICULUM_DOWN = 0.4
EXECUTION_FIELDS = ("task", "strategy", "tests_passed", "tests_total", "lint_ok",
                    "lint_errors", "exec_ms", "score", "status", "reason",
                    "isolation")  # fmt: skip

COMMAND_FIELDS = ("command_exit", "command_ms", "command_diff", "command_network")
SELECTION_FIELDS = ("selector", "propensity", "probabilities")
NOTHING_LOGGED = "no executions logged yet: run `workbench pipeline run` first"

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
        self.commands: dict[str, CommandStrategy] = {}
        self._stop = threading.Event()
        self._pool: WarmPool | None = None
        self._isolation: isolation.Isolation | None = None

    # -- control ---------------------------------------------------------------------

    def load_strategy_module(self, path: str | Path) -> list[str]:
        return self.registry.load_module(path)

    def add_command_strategy(self, strategy: CommandStrategy | str) -> str:
        """Register a command strategy (or a `NAME=COMMAND ...` spec); returns its name."""
        if isinstance(strategy, str):
            strategy = parse_strategy_cmd(strategy)
        if strategy.name in self.registry.names():
            raise ValueError(f"strategy name {strategy.name!r} is taken by a transform strategy")
        self.commands[strategy.name] = strategy
        return strategy.name

    def load_strategies_file(self, path: str | Path) -> list[str]:
        """Register every command strategy of a strategies.toml (all or none)."""
        loaded = load_strategies_file(path)
        taken = [s.name for s in loaded if s.name in self.registry.names()]
        if taken:
            raise ValueError(f"{path}: strategy name {taken[0]!r} is taken by a transform")
        return [self.add_command_strategy(s) for s in loaded]

    def load_project_strategies(self, project_dir: str | Path) -> list[str]:
        """The project's strategies.toml, when there is one."""
        path = Path(project_dir) / STRATEGIES_FILE
        return self.load_strategies_file(path) if path.is_file() else []

    def strategies(self) -> list[str]:
        builtin = self.registry.names()
        return [*builtin, *(n for n in self.commands if n not in builtin)]

    def _check_strategy(self, name: str) -> None:
        if name not in self.commands:
            self.registry.get(name)

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
        select: str | None = None,
        seed: int | None = None,
    ) -> dict:
        """Run `iterations` rounds of every (task, strategy); returns the run report.

        Sandboxes are isolated as `isolation.current()` says (recorded on the run and each
        execution); tasks asking for network need `allow_network`. Local runs start
        executions from a warm pool when namespaces are available (`warm_pool=None`: if it
        starts; True: it must; False: cold starts).

        With `select` (production, prototyping, balanced or bandit) each task runs only the
        strategy that selector picks from the current profiles, and the execution records
        the probability of that pick (see `selection.selector_policy`)."""
        strategies = list(dict.fromkeys(strategies))
        if not strategies:
            raise ValueError("no strategies given")
        for name in strategies:
            self._check_strategy(name)
        commands = [self.commands[n] for n in strategies if n in self.commands]
        for command in commands:
            make_step(command)  # a pass_env variable that is not set fails now, not per task
        if commands and isinstance(executor, SandboxExecutor):
            raise ValueError("command strategies run on the local executor only (for now)")
        if select is not None and select not in selection.SELECTORS:
            raise ValueError(f"select: one of {', '.join(selection.SELECTORS)}")
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
        if select is not None:
            seed = random.randrange(2**31) if seed is None else seed
            if select != "bandit":
                # a deterministic selector needs a profile to choose from: fail before the run
                selection.selector_policy(select, self.profiles(strategies), strategies)
        extra_config: dict = {}
        if commands:
            extra_config["commands"] = {c.name: c.describe() for c in commands}
        if select is not None:
            extra_config["select"] = {"selector": select, "seed": seed}
        swept = len(sweep_leftovers())
        self._isolation = iso
        pool_note = self._start_pool(workers, iso, executor is None, warm_pool)
        try:
            run, before = self._open_run(
                all_tasks, strategies, complexity, curriculum, iterations, tasks_dir, workers,
                executor, up, down, allow_network, pool_note, swept, extra_config,
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
                if select is None:
                    pairs = [(t, s) for t in tasks for s in strategies]
                    choices = {}
                else:
                    pairs, choices = self._select_pairs(select, tasks, strategies, seed, iteration)
                # on the row too, so a UI in another process can draw the progress bar
                progress = {"iteration": iteration, "level": level, "total": len(pairs)}
                m.PipelineRun.update(summary=json.dumps({"progress": progress})).where(
                    m.PipelineRun.id == run.id
                ).execute()
                emit({"type": "iteration_started", "run_id": run.id, **progress})
                done = self._run_iteration(
                    run, iteration, level, pairs, pool, stopping, emit, choices
                )
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
                {
                    k: e[k]
                    for k in (
                        *EXECUTION_FIELDS,
                        "iteration",
                        "level",
                        "propensity",
                        *COMMAND_FIELDS,
                    )
                }
                for e in executions
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
                  workers, executor, up, down, allow_network, pool_note, swept,
                  extra_config):  # fmt: skip
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
            **extra_config,
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
             "description": t.description, "path": str(t.task_dir), "created": self.clock()}
            for t in tasks
        ]  # fmt: skip
        with self.db.atomic():
            for start in range(0, len(rows), 200):
                m.Task.insert_many(rows[start : start + 200]).on_conflict_ignore().execute()

    def _select_pairs(self, select, tasks, strategies, seed, iteration):
        """One (task, strategy) per task, drawn from the selector's distribution."""
        policy = selection.selector_policy(select, self.profiles(strategies), strategies)
        rng = random.Random(f"{seed}:{iteration}")
        names = sorted(policy)
        pairs, choices = [], {}
        for task in tasks:
            chosen = rng.choices(names, weights=[policy[n] for n in names])[0]
            pairs.append((task, chosen))
            choices[task.name] = {"selector": select, "propensity": policy[chosen],
                                  "probabilities": json.dumps(policy, sort_keys=True)}  # fmt: skip
        return pairs, choices

    def _execute(self, task: TaskSpec, strategy: str, stopping) -> ExecutionResult:
        """Worker body: transform, sandbox, never raise (a failure is a result)."""
        if stopping():
            return ExecutionResult(task.name, strategy, "cancelled", reason="cancelled")
        source = self._transform(task, strategy)
        if isinstance(source, ExecutionResult):
            return source
        try:
            command = self.commands.get(strategy)
            return run_sandboxed(
                task, strategy, source, should_stop=stopping, registry=self.processes,
                network=task.network, isolation=self._isolation, pool=self._pool,
                command=make_step(command) if command is not None else None,
            )  # fmt: skip
        except Exception as exc:  # the run goes on
            return ExecutionResult(
                task.name, strategy, "error", reason=f"sandbox: {type(exc).__name__}: {exc}"
            )

    def _transform(self, task: TaskSpec, strategy: str) -> str | ExecutionResult:
        try:
            if strategy in self.commands:  # the command edits the files itself
                return task.source()
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

    def _run_iteration(
        self, run, iteration, level, pairs, pool, stopping, emit, choices=None
    ) -> list[dict]:
        choices = choices or {}
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
                choice = choices.get(result.task, {})
                row["propensity"] = choice.get("propensity", 1.0)
                if result.status != "cancelled":
                    m.TaskExecution.create(
                        run=run, iteration=iteration, level=level, created=self.clock(),
                        log_excerpt=result.log_excerpt,
                        **{k: row[k] for k in (*EXECUTION_FIELDS, *COMMAND_FIELDS)},
                        **choice,
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
            names = sorted(set(DEFAULT_STRATEGIES) | set(profiles))
            pick = selection.select_bandit(profiles, names, seed=seed)
            policy = selection.thompson_probabilities(profiles, names)
        else:
            pick = selection.select_weighted(profiles, priorities)
            policy = {n: float(n == pick["strategy"]) for n in pick["candidates"]}
        # the probability with which this selector picks what it picked (offline evaluation)
        return {**pick, "propensity": policy[pick["strategy"]], "probabilities": policy}

    # -- tasks -----------------------------------------------------------------------

    def add_repo_task(self, repo: str | Path, dest_root: str | Path, **kwargs) -> dict:
        """Make a task from a repository (validated before anything is written) and add it
        to the store's task bank."""
        from workbench.pipeline import repo_tasks

        name = kwargs.get("name") or Path(repo).expanduser().resolve().name
        known = m.Task.get_or_none(m.Task.name == name)
        if known is not None:
            raise ValueError(f"a task named {name!r} is already known ({known.path})")
        made = repo_tasks.add_repo(repo, dest_root=dest_root, **kwargs)
        self._register_tasks([load_task(made["path"])])
        return made

    def task_list(self) -> list[dict]:
        """The store's task bank (bundled tasks, tasks of past runs, repository tasks)."""
        out = []
        for t in m.Task.select().order_by(m.Task.name):
            meta_file = Path(t.path) / "task.json"
            source = "missing"
            if meta_file.is_file():
                try:
                    meta = json.loads(meta_file.read_text(encoding="utf-8"))
                    source = "repo" if isinstance(meta, dict) and meta.get("root") else "bank"
                except (OSError, ValueError):
                    source = "unreadable"
            out.append({"name": t.name, "kind": t.kind, "complexity": t.complexity,
                        "source": source, "path": t.path,
                        "description": t.description})  # fmt: skip
        return out

    def find_task(self, name_or_path: str | Path) -> TaskSpec:
        """A task by directory or by its name in the store's task bank."""
        path = Path(name_or_path).expanduser()
        if (path / "task.json").is_file():
            return load_task(path)
        row = m.Task.get_or_none(m.Task.name == str(name_or_path))
        if row is None:
            raise ValueError(f"no task {str(name_or_path)!r} (a task directory or a known name)")
        return load_task(row.path)

    def task_detail(self, name_or_path: str | Path) -> dict:
        task = self.find_task(name_or_path)
        meta = json.loads((task.task_dir / "task.json").read_text(encoding="utf-8"))
        return {"name": task.name, "kind": task.kind, "complexity": task.complexity,
                "description": task.description, "path": str(task.task_dir),
                "prompt": task.instructions, "module": task.module, "files": list(task.editable),
                "tests": list(task.tests), "timeout_s": task.timeout_s,
                "source": meta.get("source"),
                "hollowed": (task.task_dir / "reference").is_dir()}  # fmt: skip

    def validate_task(self, name_or_path: str | Path) -> dict:
        from workbench.pipeline import repo_tasks

        return repo_tasks.validate(self.find_task(name_or_path).task_dir)

    def evaluate_selectors(self, bootstrap: int = 1000, seed: int = 0) -> dict:
        """Offline IPS/DR estimates of each selector and fixed strategy (see offpolicy.py)."""
        from workbench.pipeline import offpolicy

        E = m.TaskExecution
        if not E.select().where(E.status != "cancelled").exists():
            # nothing logged: say so without the work (the UI asks on its own thread)
            return {"decision_points": 0, "executions": 0, "strategies": [],
                    "bootstrap": bootstrap, "interval": offpolicy.INTERVAL, "targets": {},
                    "statement": NOTHING_LOGGED}  # fmt: skip
        rows = list(
            E.select(E.run, E.iteration, E.task, E.strategy, E.score, E.status, E.selector,
                     E.propensity, E.probabilities)
            .where(E.status != "cancelled")
            .order_by(E.id)
            .dicts()
        )  # fmt: skip
        for row in rows:
            row["run_id"] = row.pop("run")
        run_strategies = {
            r.id: json.loads(r.strategies or "[]")
            for r in m.PipelineRun.select(m.PipelineRun.id, m.PipelineRun.strategies)
        }
        points = offpolicy.decision_points(rows, run_strategies)
        logged = sorted({r["strategy"] for r in rows})
        profiles = self.profiles()
        targets: dict[str, dict[str, float]] = {}
        picks: dict[str, str | None] = {}
        problems: dict[str, str] = {}
        for name in selection.SELECTORS:
            try:
                policy = selection.selector_policy(name, profiles, logged)
            except ValueError as exc:
                problems[name] = str(exc)
                continue
            targets[name] = policy
            picks[name] = max(policy, key=lambda a: (policy[a], a))
        for name in logged:
            targets[f"always {name}"] = {name: 1.0}
            picks[f"always {name}"] = name
        estimates = offpolicy.estimate(points, targets, bootstrap=bootstrap, seed=seed)
        for name, problem in problems.items():
            estimates[name] = {
                "policy": {}, "decision_points": len(points), "ess": 0.0,
                "supported": False, "note": problem, "reason": "no profile",
                "ips": None, "dr": None,
            }  # fmt: skip
        order = [*selection.SELECTORS, *(f"always {n}" for n in logged)]
        result_targets = {n: {**estimates[n], "pick": picks.get(n)} for n in order}
        statement = None
        if not any(t["supported"] for t in result_targets.values()):
            statement = "the log cannot support any estimate yet (see the notes)"
        return {
            "decision_points": len(points),
            "executions": len(rows),
            "strategies": logged,
            "bootstrap": bootstrap,
            "interval": offpolicy.INTERVAL,
            "targets": result_targets,
            "statement": statement,
        }

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
             "log_excerpt": e.log_excerpt, **{k: getattr(e, k) for k in EXECUTION_FIELDS},
             **{k: getattr(e, k) for k in (*COMMAND_FIELDS, *SELECTION_FIELDS)}}
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
