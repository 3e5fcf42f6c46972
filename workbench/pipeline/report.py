"""Human output of the pipeline CLI: live progress (rich) and the run report.

The report follows the reference's run layout (iterations, per-strategy results, learning
results, recommendations, validation, per-strategy report); every figure is measured.
"""

from __future__ import annotations

import sys

RULE = "━" * 46
THIN = "─" * 40


def run_with_progress(service, kwargs: dict) -> dict:
    """Run with a rich progress bar per iteration on stderr; returns the run report."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    console = Console(file=sys.stderr)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[last]}"),
        console=console,
        transient=True,
    ) as progress:
        bars: dict[int, int] = {}

        def on_event(event: dict) -> None:
            kind = event["type"]
            if kind == "iteration_started":
                label = f"iteration {event['iteration']}"
                if event.get("level"):
                    label += f" ({event['level']})"
                bars[event["iteration"]] = progress.add_task(label, total=event["total"], last="")
            elif kind == "execution" and event["iteration"] in bars:
                mark = "✓" if event["status"] == "passed" else "✗"
                progress.update(
                    bars[event["iteration"]],
                    completed=event["done"],
                    last=f"{mark} {event['task']} · {event['strategy']} {event['score']:.1f}",
                )

        try:
            return service.run(**kwargs, on_event=on_event)
        except KeyboardInterrupt:
            service.cancel()
            raise


def format_run(result: dict) -> str:
    lines = ["🎯 Training Pipeline", RULE]
    executions = result["executions"]
    total_iterations = len(result["iterations"])
    for it in result["iterations"]:
        n = it["iteration"]
        level = f"  [{it['level']}]" if it.get("level") else ""
        lines += ["", f"📍 Iteration {n}/{total_iterations}{level}", THIN]
        current = None
        for e in (e for e in executions if e["iteration"] == n):
            if e["task"] != current:
                current = e["task"]
                lines.append(f"🔄 Task: {current}")
            tests_ok = e["status"] == "passed"
            lines.append(f"   Strategy: {e['strategy']}")
            if e.get("command_ms") is not None:
                code = "—" if e.get("command_exit") is None else e["command_exit"]
                lines.append(f"   💻 Command exit {code} in {e['command_ms']:.0f}ms")
            if e.get("propensity") is not None and e["propensity"] < 1:
                lines.append(f"   🎲 Picked with probability {e['propensity']:.2f}")
            lines.append(
                f"   {'✅' if tests_ok else '⚠️ '} Tests passed "
                f"({e['tests_passed']}/{e['tests_total']})"
                + (f" — {e['status']}: {e['reason']}" if not tests_ok and e["reason"] else "")
            )
            lines.append(f"   {'✅ Lint passed' if e['lint_ok'] else '⚠️  Lint warnings'}")
            lines.append(f"   ⏱️  Execution time: {e['exec_ms']:.0f}ms")
            lines.append(f"   📊 Score: {e['score']:.1f}")
        lines += ["", "🧠 Learning Results:"]
        for name, s in it["by_strategy"].items():
            lines.append(
                f"   {name}: Score {s['score']:.2f}, Success {s['success_rate']:.1%}, "
                f"Time {s['exec_ms']:.0f}ms"
            )
        if it.get("recommendations"):
            lines += ["", "💡 Recommendations:"]
            lines += [f"   • {r}" for r in it["recommendations"]]
    v = result["validation"]
    lines += ["", "✅ Validating improvements..."]
    lines.append(f"   Improved: {len(v['improved'])} metrics")
    lines.append(f"   Declined: {len(v['declined'])} metrics")
    lines.append(f"   Unchanged: {len(v['unchanged'])} metrics")
    lines += [
        "",
        f"{'✅' if result['status'] == 'completed' else '⚠️ '} Training Pipeline "
        f"{result['status']} (run {result['run_id']})",
        f"   Total tasks: {result['total_executions']}",
        f"   Real executions: {result['real_executions']}",
    ]
    changes = [*v["improved"], *v["declined"], *v["unchanged"]]
    if v.get("baseline") and changes:
        names = {"success_rate": "Success Rate", "exec_ms": "Execution Time", "score": "Score"}
        lines += ["", "📈 Improvements:"]
        for c in sorted(changes, key=lambda c: list(names).index(c["metric"])):
            extra = ""
            if c["metric"] == "exec_ms":
                extra = " (faster)" if c["change"] > 0 else " (slower)" if c["change"] < 0 else ""
            lines.append(f"   {names[c['metric']]}: {c['change']:+.1f}%{extra}")
    lines += ["", "📊 Training Pipeline Report", RULE]
    for name, p in result["profiles"].items():
        lines += [
            "",
            f"Strategy: {name}",
            f"  Average Success Rate: {p['success_rate']:.1%}",
            f"  Average Score: {p['avg_score']:.2f}",
            f"  Average Time: {p['avg_exec_ms']:.0f}ms",
            f"  Real Executions: {p['real_executions']}",
        ]
        if p.get("improvement_rate") is not None:
            lines.append(f"  Improvement: {p['improvement_rate']:+.1f}%")
    if result["recommendations"]:
        lines += ["", "💡 Recommendations:"]
        lines += [f"   • {r}" for r in result["recommendations"]]
    return "\n".join(lines)


def format_status(profiles: dict) -> str:
    if not profiles:
        return "no strategy profiles yet: run `workbench pipeline run`"
    lines = ["📊 Strategy profiles", RULE]
    for name, p in profiles.items():
        rate = p["improvement_rate"]
        trend = (
            "—"
            if rate is None
            else f"{rate:+.1f}% ({'improving' if p['improving'] else 'not improving'})"
        )
        lines += [
            "",
            f"Strategy: {name}",
            f"  Success Rate: {p['success_rate']:.1%}",
            f"  Average Score: {p['avg_score']:.2f}",
            f"  Average Time: {p['avg_exec_ms']:.0f}ms",
            f"  Uses: {p['uses']}  Real Executions: {p['real_executions']}",
            f"  Trend: {len(p['trend'])} points, {trend}",
        ]
    return "\n".join(lines)
