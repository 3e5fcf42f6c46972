"""`workbench pipeline ...`: run tasks x strategies in sandboxes, learn, select."""

from __future__ import annotations

import argparse

from workbench.cli.common import command_group, open_engine, print_json, say

NAME = "pipeline"


def add(commands) -> None:
    command = command_group(commands, "pipeline", "run tasks × strategies, learn, select")

    p = command("run", "execute every (task, strategy) in sandboxes and learn from the results")
    p.add_argument("--complexity", choices=("easy", "medium", "hard"))
    p.add_argument("--curriculum", action="store_true", help="start easy, move with success")
    p.add_argument("--iterations", type=int, default=1, metavar="N")
    p.add_argument("--strategies", default="conservative,balanced,aggressive", metavar="A,B,C")
    p.add_argument("--tasks", metavar="DIR", help="task folder (default: sample_data/tasks)")
    p.add_argument("--workers", type=int, default=None, metavar="N", help="default: core count")
    p.add_argument("--strategy-module", metavar="PATH", help="a .py file defining STRATEGIES")
    p.add_argument(
        "--executor",
        default="local",
        metavar="local|dask-local[:N]|dask://HOST:PORT",
        help="where sandboxes run: a thread pool here (default), a local Dask cluster of N "
        "worker processes, or a Dask scheduler (needs workbench[scale])",
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


def run(args: argparse.Namespace) -> int:
    with open_engine(args) as engine:
        service = engine.pipeline
        command = args.pipeline_command
        with engine.guard():
            if command == "run":
                if args.strategy_module:
                    service.load_strategy_module(args.strategy_module)
                strategies = [s.strip() for s in args.strategies.split(",") if s.strip()]
                kwargs = dict(
                    complexity=args.complexity,
                    curriculum=args.curriculum,
                    iterations=args.iterations,
                    strategies=strategies,
                    tasks_dir=args.tasks,
                    workers=args.workers,
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
            elif command == "status":
                result = service.status()
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
    else:
        say(f"{result['strategy']}  (score {result['score']:.3f})\n  {result['reason']}")
    return 0
