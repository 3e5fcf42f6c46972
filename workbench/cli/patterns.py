"""`workbench patterns ...`: classify operations, learn from outcomes, failures, learnings."""

from __future__ import annotations

import argparse

from workbench.cli.common import command_group, fmt, open_engine, print_json, say

NAME = "patterns"


def add(commands) -> None:
    command = command_group(commands, NAME, "cognitive patterns, outcomes, learnings, failures")
    p = command("analyze", "which cognitive pattern an operation needs (model or fallback)")
    p.add_argument("--operation", required=True, metavar="JSON", help='e.g. {"text": "..."}')
    p = command("learn", "record an operation's outcome: pattern memory, learnings, experience")
    p.add_argument("--operation", required=True, metavar="JSON")
    p.add_argument("--outcome", required=True, metavar="JSON", help='e.g. {"success": true}')
    p = command("failures", "anti-patterns: strategy × task kind failures by reason")
    p.add_argument("--min-count", type=int, default=1, metavar="N")
    p = command("train", "train the pattern classifier (held-out split: 1 in 5 by text hash)")
    p.add_argument("--epochs", type=int, default=None, metavar="N")
    p.add_argument(
        "--folds", type=int, default=5, metavar="K",
        help="cross-validation folds on the training split that choose the recipe (default 5)",
    )  # fmt: skip
    command("status", "the classifier and its measured held-out accuracy; pattern distribution")
    p = command("learnings", "learnings by type and level, or the ones relevant to a task")
    p.add_argument("--type", default=None, help="success_pattern, failure_pattern, ...")
    p.add_argument("--level", default="low", help="minimum level: low, medium, high, very_high")
    p.add_argument("--task", default=None, metavar="TEXT", help="relevant learnings for a task")
    p.add_argument("--limit", type=int, default=20, metavar="N")
    p = command("record", "feed the learning engine one interaction")
    p.add_argument(
        "--interaction",
        required=True,
        metavar="JSON",
        help='{"agent", "task", "actions", "results", "success", "time_ms", "iterations", '
        '"errors"}',
    )


def run(args: argparse.Namespace) -> int:
    import json

    command = args.patterns_command
    with open_engine(args) as engine:
        engine.ensure_seeded()
        service = engine.patterns
        with engine.guard():
            if command == "analyze":
                result = service.analyze(args.operation)
            elif command == "learn":
                result = service.learn(args.operation, args.outcome)
            elif command == "failures":
                if args.min_count < 1:
                    raise ValueError("--min-count must be >= 1")
                service.sync()
                result = service.failures(args.min_count)
            elif command == "train":
                if args.epochs is not None and args.epochs < 1:
                    raise ValueError("--epochs must be >= 1")
                result = service.train_classifier(epochs=args.epochs, folds=args.folds)
            elif command == "status":
                result = {**service.classifier_status(), "distribution": service.distribution()}
            elif command == "learnings":
                if args.task is not None:
                    result = service.relevant_learnings(args.task, limit=args.limit)
                else:
                    result = service.learnings(args.type, args.level, args.limit)
            else:
                try:
                    data = json.loads(args.interaction)
                except json.JSONDecodeError as exc:
                    raise ValueError(f"interaction: not valid JSON ({exc.msg})") from None
                result = service.record_interaction(data)
    if args.json:
        print_json(result)
        return 0
    say(format_result(command, result))
    return 0


def calibration_line(cal: dict) -> str:
    """The stored temperature and the held-out ECE it was measured to give."""
    if cal.get("applied") is False:
        return (
            f"calibration: temperature kept at 1 (the fitted {cal['fitted_temperature']:.3f} "
            f"made ECE worse on the {cal['fold_rows']}-row calibration fold: "
            f"{fmt(cal.get('fold_ece_before'))} -> {fmt(cal.get('fold_ece_after'))}); "
            f"held-out ECE {fmt(cal['ece_before'])}"
        )
    return (
        f"calibrated: temperature {cal['temperature']:.3f} (fitted on {cal['fold_rows']} "
        f"training-split rows); held-out ECE {fmt(cal['ece_before'])} before, "
        f"{fmt(cal['ece_after'])} after"
    )


def selection_lines(sel: dict) -> list[str]:
    """The recipe cross-validation chose and the table it chose from."""
    lines = [
        f"recipe: {sel['model']} on {'+'.join(sel['features'])} (chosen by {sel['folds']}-fold "
        f"CV on {sel['rows']} training-split rows: {fmt(sel['cv_accuracy'])})"
        + (f", chosen for v{sel['from_version']}" if sel.get("from_version") else "")
    ]
    for r in sel.get("table", []):
        lines.append(
            f"  cv {r['stage']:<8} {r['model']:<16} {r['features']:<42} "
            f"{fmt(r['cv_accuracy'])} ± {fmt(r['cv_std'])}"
        )
    return lines


def format_result(command: str, result) -> str:
    if command in ("analyze", "learn"):
        lines = [
            f"pattern: {result['pattern'] or '— (no keyword matched)'}  "
            f"source: {result['source']}"
            + (f"  confidence: {result['confidence']:.3f}" if result.get("confidence") else "")
            + (
                f"  keyword share: {result['keyword_share']:.3f} (share of keyword hits, "
                "not a probability)"
                if result.get("keyword_share") is not None
                else ""
            )
        ]
        if result.get("model_accuracy") is not None or result.get("model_version"):
            lines.append(
                f"served by {result['source']}: model {fmt(result.get('model_accuracy'))}, "
                f"keyword fallback {fmt(result.get('fallback_accuracy'))} on "
                f"{result.get('held_out')} held-out operations"
            )
        if command == "learn":
            mem = result["memory"]
            lines.append(
                f"memory: used {mem['usage_count']}× ({mem['successes']} ok, {mem['failures']} "
                f"failed), confidence {mem['confidence']:.3f}"
            )
            for learned in result["learnings"]:
                lines.append(f"  learned [{learned['type']}, {learned['level']}] "
                             f"{learned['description']}")  # fmt: skip
        for s in result["similar"]:
            lines.append(f"  similar {s['similarity']:.2f}  {s['type']:<10} {s['operation'][:70]}")
        lines += [f"  → {r}" for r in result["recommendations"]]
        return "\n".join(lines)
    if command == "failures":
        lines = [f"{result['failures']} failures in {result['executions']} executions: "
                 + ", ".join(f"{k} {v}" for k, v in result["by_reason"].items())]  # fmt: skip
        for a in result["anti_patterns"]:
            lines.append(
                f"  {a['strategy']:<13} × {a['task_kind']:<15} {a['reason']:<9} "
                f"{a['count']:>4}/{a['executions']:<4} ({a['rate']:.0%})  {', '.join(a['tasks'])}"
            )
        return "\n".join(lines)
    if command == "train":
        line = (
            f"{result['name']} v{result['version']} {result['status']}: held-out accuracy "
            f"{fmt(result['val_accuracy'])} on {result['held_out_rows']} operations "
            f"({result['train_rows']} trained on, {result['epochs_run']} epochs)"
        )
        cal = result.get("calibration")
        sel = result.get("selection")
        lines = [line] + (selection_lines(sel) if sel else [])
        return "\n".join(lines + ([calibration_line(cal)] if cal else []))
    if command == "status":
        fb = result["fallback"]
        head = (
            f"{result['model']}: untrained — the keyword fallback answers "
            f"(its held-out accuracy {fmt(fb['accuracy'])} on {fb['held_out']})"
            if result["version"] is None
            else f"{result['model']} v{result['version']}: held-out accuracy "
            f"{fmt(result['serving']['model_accuracy'])} ({result['evaluated_on']}); keyword "
            f"fallback {fmt(fb['accuracy'])}; serving: {result['serving']['source']} "
            "(the better of the two on the same held-out rows)"
        )
        lines = [head]
        if result.get("selection"):
            lines += selection_lines(result["selection"])
        if result.get("calibration"):
            lines.append(calibration_line(result["calibration"]))
        for p, d in result["distribution"].items():
            rate = "—" if d["success_rate"] is None else f"{d['success_rate']:.0%}"
            lines.append(f"  {p:<11} labelled {d['labelled']:>4}  learned {d['operations']:>4}  "
                         f"outcomes {d['outcomes']:>4}  success {rate}")  # fmt: skip
        return "\n".join(lines)
    rows = result
    if not rows:
        return "no learnings"
    return "\n".join(
        f"[{r['type']}, {r['level']}, {r['occurrences']}×, conf {r['confidence']:.2f}] "
        f"{r['description']}"
        for r in rows
    )
