"""`workbench strategy ...`: analyze a task, choose an execution strategy, record outcomes."""

from __future__ import annotations

import argparse

from workbench.cli.common import command_group, console, open_engine, print_json

NAME = "strategy"


def add(commands) -> None:
    command = command_group(commands, "strategy", "adaptive execution strategy from outcomes")
    p = command("analyze", "complexity, agents, duration estimate and the strategy to use")
    p.add_argument("text", help="the task description")
    p.add_argument(
        "--no-record", action="store_true", help="do not record the decision (no outcome id)"
    )
    p = command("outcome", "record how a decided strategy went")
    p.add_argument("id", help="the decision id printed by `strategy analyze`")
    result = p.add_mutually_exclusive_group(required=True)
    result.add_argument("--success", dest="success", action="store_const", const=True)
    result.add_argument("--failure", dest="success", action="store_const", const=False)
    p.add_argument("--duration", type=float, required=True, metavar="SECONDS")
    p.add_argument("--iterations", type=int, default=1, metavar="N")
    p.add_argument("--errors", type=int, default=0, metavar="N")
    p.add_argument("--worked", action="append", default=[], metavar="TEXT")
    p.add_argument("--improve", action="append", default=[], metavar="TEXT")
    command("status", "what each complexity would get now, with the evidence")


def run(args: argparse.Namespace) -> int:
    command = args.strategy_command
    with open_engine(args) as engine, engine.guard():
        adaptive = engine.adaptive
        if command == "analyze":
            if args.no_record:
                result = {"id": None, **adaptive.analyze(args.text)}
            else:
                result = adaptive.decide(args.text)
        elif command == "outcome":
            result = adaptive.record_outcome(
                args.id,
                success=args.success,
                duration_s=args.duration,
                iterations=args.iterations,
                errors=args.errors,
                what_worked=args.worked,
                improvements=args.improve,
            )
        else:
            result = {"statistics": adaptive.statistics(), "table": adaptive.strategy_table()}
    if args.json:
        print_json(result)
        return 0
    out = console()
    if command == "analyze":
        a, c = result["analysis"], result["choice"]
        est = a["estimated_duration_s"]
        lines = [
            f"complexity   {a['complexity']} (description {a['description_level']}, "
            f"history {a['history_level'] or 'no data'})",
            f"areas        {', '.join(a['areas']) or '—'}",
            f"agents       {', '.join(a['suggested_agents'])}",
            "duration     "
            + ("no data" if est is None else f"{est:.1f} s ({a['duration_basis']})"),
            f"strategy     {c['strategy']} · confidence {c['confidence']:.0%} · "
            f"sequence {' → '.join(c['agent_sequence'])}",
            f"why          {c['reason']}",
        ]
        if result["id"]:
            lines.append(f"decision     {result['id']} (record how it went: strategy outcome ID)")
        for line in lines:
            out.print(line, markup=False, highlight=False)
    elif command == "outcome":
        record = result["strategy_record"]
        out.print(
            f"recorded {'success' if result['success'] else 'failure'} for {result['strategy']} "
            f"at {result['complexity']}: now {record['successes']} successes, "
            f"{record['failures']} failures",
            markup=False,
        )
    else:
        from rich.table import Table

        stats = result["statistics"]
        rate = stats["success_rate"]
        out.print(
            f"{stats['decisions']} decisions · {stats['outcomes']} outcomes · success "
            f"{'—' if rate is None else f'{rate:.0%}'}",
            markup=False,
        )
        table = Table(title="strategy per complexity (Beta posterior mean s/f)")
        table.add_column("complexity")
        table.add_column("choice")
        table.add_column("confidence", justify="right")
        for p in result["table"][0]["posteriors"]:
            table.add_column(p["strategy"], justify="right")
        for row in result["table"]:
            cells = [row["complexity"], row["strategy"], f"{row['confidence']:.0%}"]
            cells += [
                f"{p['mean']:.2f} {p['successes']}/{p['failures']}" for p in row["posteriors"]
            ]
            table.add_row(*cells)
        out.print(table)
    return 0
