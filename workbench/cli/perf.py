"""`workbench perf ...`: agent executions, bottlenecks, recommendations, comparisons."""

from __future__ import annotations

import argparse

from workbench.cli.common import command_group, console, open_engine, print_json

NAME = "perf"


def add(commands) -> None:
    command = command_group(commands, "perf", "performance optimizer over agent executions")
    p = command("report", "metrics per agent and category, bottlenecks, recommendations, trends")
    p.add_argument("--agent", metavar="A")
    p.add_argument("--min-priority", type=int, default=1, metavar="1-10")
    p = command("record", "record one agent execution")
    p.add_argument("--agent", required=True, metavar="A")
    p.add_argument("--category", required=True, metavar="C")
    p.add_argument("--duration", type=float, required=True, metavar="SECONDS")
    result = p.add_mutually_exclusive_group(required=True)
    result.add_argument("--success", dest="success", action="store_const", const=True)
    result.add_argument("--failure", dest="success", action="store_const", const=False)
    p.add_argument("--iterations", type=int, default=1, metavar="N")
    p.add_argument("--errors", type=int, default=0, metavar="N")
    p.add_argument("--actions", type=int, default=0, metavar="N")
    p = command("compare", "two agents side by side")
    p.add_argument("first")
    p.add_argument("second")


def run(args: argparse.Namespace) -> int:
    command = args.perf_command
    with open_engine(args) as engine, engine.guard():
        adaptive = engine.adaptive
        if command == "report":
            result = adaptive.perf_report(args.agent, args.min_priority)
        elif command == "record":
            result = adaptive.record_execution(
                args.agent,
                args.category,
                duration_s=args.duration,
                success=args.success,
                iterations=args.iterations,
                errors=args.errors,
                actions=args.actions,
            )
        else:
            result = adaptive.compare_agents(args.first, args.second)
    if args.json:
        print_json(result)
        return 0
    out = console()

    def say(text: str) -> None:
        out.print(text, markup=False, highlight=False)

    if command == "record":
        say(f"recorded execution {result['id']} of {result['agent']} on {result['category']}")
    elif command == "compare":
        first, second = result["agents"]
        for summary in result["overall"]:
            say(
                f"{summary['agent']:<12} {summary['runs']:>4} runs · success "
                f"{summary['success_rate']:.0%} · median {summary['median_s']:.1f} s · "
                f"{summary['errors_per_run']:.2f} errors/run"
            )
        for c in result["categories"]:
            say(
                f"  {c['category']}: faster {c['faster']}, more successful "
                f"{c['more_successful']} ({c[first]['runs']} vs {c[second]['runs']} runs)"
            )
        if not result["categories"]:
            say("  no category in common")
    else:
        _print_report(out, result, say)
    return 0


def _print_report(out, report: dict, say) -> None:
    from rich.table import Table
    from rich.text import Text

    if not report["executions"]:
        say("no data: no agent executions recorded (workbench perf record ...)")
        return
    table = Table(title=f"agent metrics ({report['executions']} executions)")
    for column in ("agent", "category", "runs", "success", "median s", "p90 s", "iter", "err/run"):
        table.add_column(column, justify="left" if column in ("agent", "category") else "right")
    for r in report["metrics"]:
        table.add_row(
            Text(r["agent"]),
            Text(r["category"]),
            str(r["runs"]),
            f"{r['success_rate']:.0%}",
            f"{r['median_s']:.1f}",
            f"{r['p90_s']:.1f}",
            f"{r['mean_iterations']:.1f}",
            f"{r['errors_per_run']:.2f}",
        )
    out.print(table)
    say(f"bottlenecks (pairs with ≥ {report['min_runs']} runs):")
    for b in report["bottlenecks"]:
        say(f"  {b['agent']} on {b['category']}: {'; '.join(b['reasons'])}")
    if not report["bottlenecks"]:
        say("  none")
    say("recommendations:")
    for r in report["recommendations"]:
        say(f"  [{r['priority']:>2}] {r['title']}: {r['expected_improvement']} ({r['based_on']})")
    if not report["recommendations"]:
        say("  none (needs two agents with enough runs on the same category)")
    say("trends (last 5 runs vs earlier):")
    for t in report["trends"]:
        say(f"  {t['agent']} on {t['category']}: {t['direction']} ({t['runs']} runs)")
