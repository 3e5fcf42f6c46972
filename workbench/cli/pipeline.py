"""`workbench pipeline ...`: run tasks x strategies in sandboxes, learn, select."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from workbench.cli.common import choices_arg, command_group, open_engine, print_json, say

NAME = "pipeline"


def add(commands) -> None:
    command = command_group(commands, "pipeline", "run tasks × strategies, learn, select")

    p = command("run", "execute every (task, strategy) in sandboxes and learn from the results")
    p.add_argument("--complexity", **choices_arg(("easy", "medium", "hard")))
    p.add_argument("--curriculum", action="store_true", help="start easy, move with success")
    p.add_argument("--iterations", type=int, default=1, metavar="N")
    p.add_argument("--strategies", default="conservative,balanced,aggressive", metavar="A,B,C")
    p.add_argument("--tasks", metavar="DIR", help="task folder (default: sample_data/tasks)")
    p.add_argument("--workers", type=int, default=None, metavar="N", help="default: core count")
    p.add_argument("--strategy-module", metavar="PATH", help="a .py file defining STRATEGIES")
    p.add_argument(
        "--strategy-cmd",
        action="append",
        default=[],
        metavar="NAME='COMMAND ...'",
        help="a command strategy (repeatable): runs in the task's sandbox copy before its "
        "tests, with WB_PROMPT, WB_TASK_ID and WB_FILES; name it in --strategies",
    )
    p.add_argument(
        "--strategies-file",
        metavar="PATH",
        help="command strategies in TOML (default: ./strategies.toml when present)",
    )
    p.add_argument(
        "--select",
        choices=("production", "prototyping", "balanced", "bandit"),
        help="run only the strategy this selector picks for each task, and log its "
        "probability (for evaluate-selectors)",
    )
    p.add_argument("--seed", type=int, default=None, help="seed of --select's draws")
    p.add_argument(
        "--executor",
        default="local",
        metavar="local|dask-local[:N]|dask://HOST:PORT",
        help="where sandboxes run: a thread pool here (default), a local Dask cluster of N "
        "worker processes, or a Dask scheduler (needs workbench[scale])",
    )
    p.add_argument(
        "--allow-network",
        action="store_true",
        help='let tasks that ask for network (task.json "network": true) have it',
    )
    p.add_argument(
        "--cold",
        action="store_true",
        help="start every execution as a new interpreter instead of from the warm pool",
    )
    command("status", "strategy profiles with trend and improvement")
    p = command("select", "which strategy to use now, and why")
    p.add_argument(
        "--priorities",
        default="balanced",
        metavar="PRESET|R,S,Q",
        help="production, prototyping, balanced, or weights R,S,Q",
    )
    p.add_argument("--bandit", action="store_true", help="Thompson sampling instead")
    p.add_argument("--seed", type=int, default=None, help="bandit RNG seed (default: random)")
    p = command(
        "evaluate-selectors",
        "estimate offline, from the logged executions, how each selector would have done",
    )
    p.add_argument("--bootstrap", type=int, default=1000, metavar="B", help="resamples")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed")


def _note_isolation() -> None:
    """Say so on stderr when sandboxes run without namespaces (never a silent downgrade)."""
    from workbench.pipeline import isolation

    iso = isolation.current()  # a WORKBENCH_ISOLATION that cannot work: one-line error
    if not iso.namespaced:
        print(f"workbench: note: sandbox isolation is limits only: {iso.reason} "
              "(see workbench doctor)", file=sys.stderr)  # fmt: skip


def run(args: argparse.Namespace) -> int:
    with open_engine(args) as engine:
        service = engine.pipeline
        command = args.pipeline_command
        with engine.guard():
            if command == "run":
                if args.strategy_module:
                    service.load_strategy_module(args.strategy_module)
                if args.strategies_file:
                    service.load_strategies_file(args.strategies_file)
                else:
                    service.load_project_strategies(Path.cwd())
                for spec in args.strategy_cmd:
                    service.add_command_strategy(spec)
                strategies = [s.strip() for s in args.strategies.split(",") if s.strip()]
                kwargs = dict(
                    complexity=args.complexity,
                    curriculum=args.curriculum,
                    iterations=args.iterations,
                    strategies=strategies,
                    tasks_dir=args.tasks,
                    workers=args.workers,
                    allow_network=args.allow_network,
                    warm_pool=False if args.cold else None,
                    select=args.select,
                    seed=args.seed,
                )
                executor = None
                if args.executor != "local":
                    from workbench.pipeline.dask_executor import make_executor

                    executor = kwargs["executor"] = make_executor(args.executor, args.workers)
                try:
                    if args.json:
                        result = service.run(**kwargs)
                    else:
                        from workbench.pipeline import report

                        result = report.run_with_progress(service, kwargs)
                finally:
                    if executor is not None:
                        executor.shutdown(wait=True, cancel_futures=True)
                _note_isolation()
            elif command == "status":
                result = service.status()
            elif command == "evaluate-selectors":
                result = service.evaluate_selectors(bootstrap=args.bootstrap, seed=args.seed)
            else:
                result = service.select(args.priorities, bandit=args.bandit, seed=args.seed)
    if args.json:
        print_json(result)
        return 0
    from workbench.pipeline import report

    if command == "run":
        say(report.format_run(result))
    elif command == "status":
        say(report.format_status(result))
    elif command == "evaluate-selectors":
        from workbench.pipeline.offpolicy import format_evaluation

        say(format_evaluation(result))
    else:
        say(
            f"{result['strategy']}  (score {result['score']:.3f}, picked with probability "
            f"{result['propensity']:.2f})\n  {result['reason']}"
        )
    return 0
