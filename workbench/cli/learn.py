"""`workbench learn ...`: the continuous-learning loop (status, curriculum, trigger)."""

from __future__ import annotations

import argparse
import os
import signal
import threading

from workbench.cli.common import (
    CliError,
    choices_arg,
    command_group,
    fmt,
    open_engine,
    plain,
    print_json,
    say,
)

NAME = "learn"
MODELS = ("adaptive-coordinator", "raft-manager")


def _trigger_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--threshold", type=int, default=None, metavar="N", help="default 50")
    p.add_argument("--window", default=None, metavar="HH:MM-HH:MM", help="UTC training window")
    p.add_argument("--cooldown", type=float, default=None, metavar="S", help="default 3600")
    p.add_argument("--mode", **choices_arg(("incremental", "fresh", "ensemble")), default=None)
    p.add_argument("--epochs", type=int, default=None, metavar="N")
    p.add_argument("--min-accuracy", type=float, default=None, metavar="F", help="gate, 0.5")


def add(commands) -> None:
    command = command_group(commands, NAME, "continuous learning: buffer, curriculum, trigger")
    command("status", "experience buffer, last runs, what the next trigger needs")
    p = command("curriculum", "correct needs-improvement entries with the stronger teacher")
    p.add_argument("--model", **choices_arg(MODELS), default=MODELS[0])
    p.add_argument("--force", action="store_true", help="ignore minimum entries and cooldown")
    p.add_argument("--limit", type=int, default=None, metavar="N", help="batch limit")
    p = command("rollback", "serve the version the current champion replaced")
    p.add_argument("--model", **choices_arg(MODELS), default=MODELS[0])
    p = command("trigger", "train on the buffer if due, gate on held-out data, deploy or keep")
    p.add_argument("--model", **choices_arg(MODELS), default=MODELS[0])
    p.add_argument("--force", action="store_true", help="ignore threshold, window and cooldown")
    _trigger_flags(p)
    p = command(
        "watch",
        "a service: follow the store and run the trigger whenever it is due (stop: SIGTERM)",
    )
    p.add_argument(
        "--models", default=",".join(MODELS), metavar="A,B", help=f"of {', '.join(MODELS)}"
    )
    p.add_argument("--check-interval", type=float, default=60.0, metavar="S",
                   help="check at least this often without changes (default 60)")  # fmt: skip
    p.add_argument("--heartbeat", type=float, default=5.0, metavar="S", help="default 5")
    _trigger_flags(p)


def _apply_flags(cfg, args: argparse.Namespace) -> None:
    for name, value in (("threshold", args.threshold), ("window", args.window),
                        ("cooldown_s", args.cooldown), ("mode", args.mode),
                        ("epochs", args.epochs),
                        ("min_accuracy", args.min_accuracy)):  # fmt: skip
        if value is not None:
            setattr(cfg, name, value)
    cfg.check()


def watch(args: argparse.Namespace) -> int:
    """`learn watch`: claim the store, check when due, exit 0 on SIGTERM/SIGINT."""
    models = [name.strip() for name in args.models.split(",") if name.strip()]
    unknown = [name for name in models if name not in MODELS]
    if unknown or not models:
        raise CliError(f"--models: choose from {', '.join(MODELS)} (got {args.models!r})")
    stop = threading.Event()

    def on_result(model: str, result: dict) -> None:
        if result.get("status") not in ("skipped", "not run") and not args.json:
            print(plain(_run_line(result)), flush=True)

    with open_engine(args) as engine:
        engine.ensure_seeded()
        service = engine.patterns
        with engine.guard():
            _apply_flags(service.loop.config, args)
            watcher = service.watcher(
                models, args.check_interval, args.heartbeat, on_result=on_result
            )
            watcher.claim()
        previous = {}
        for sig in (signal.SIGTERM, signal.SIGINT):
            previous[sig] = signal.signal(sig, lambda *_: stop.set())
        try:
            if not args.json:
                print(
                    f"learn watch: watching {engine.store_label} for {', '.join(models)} "
                    f"(pid {os.getpid()}; checks on changes and every "
                    f"{args.check_interval:g} s; SIGTERM stops)",
                    flush=True,
                )
            with engine.guard():
                summary = watcher.run(stop)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
    if args.json:
        print_json(summary)
    else:
        print(f"learn watch: stopped after {summary['checks']} check(s), "
              f"{summary['trainings']} training(s)")  # fmt: skip
    return 0


def run(args: argparse.Namespace) -> int:
    command = args.learn_command
    if command == "watch":
        return watch(args)
    with open_engine(args) as engine:
        engine.ensure_seeded()
        service = engine.patterns
        cfg = service.loop.config
        with engine.guard():
            if command == "status":
                result = service.learn_status()
            elif command == "rollback":
                result = service.rollback(args.model)
            elif command == "curriculum":
                if args.limit is not None and args.limit < 1:
                    raise ValueError("--limit must be >= 1")
                result = service.curriculum(args.model, force=args.force, limit=args.limit)
            else:
                _apply_flags(cfg, args)
                result = service.trigger(args.model, force=args.force)
    if args.json:
        print_json(result)
        return 0
    say(format_result(command, result))
    return 0


def format_result(command: str, result: dict) -> str:
    if result.get("status") == "skipped":
        return f"{result['model']}: not now — " + "; ".join(result["reasons"])
    if command == "status":
        lines = []
        for model, b in result["buffer"].items():
            nxt = result["next_trigger"][model]
            champ = result["champions"][model]
            lines.append(
                f"{model}: {b['total']} entries (gold {b['gold']}, needs improvement "
                f"{b['needs_improvement']}, neutral {b['neutral']}, corrected {b['corrected']},"
                f" trained {b['trained']}); champion "
                + (f"v{champ['version']} ({fmt(champ['val_accuracy'])})" if champ else "none")
            )
            lines.append(
                "  next trigger: " + ("ready" if nxt["ready"] else "; ".join(nxt["reasons"]))
            )
        for r in result["training_runs"][:5]:
            lines.append(_run_line(r))
        w = result.get("watcher")
        if w and w["alive"]:
            lines.append(f"learn watch: pid {w['pid']} on {w['host']}, watching since "
                         f"{w['started']}, next check {w['next_check']}")  # fmt: skip
        else:
            lines.append("learn watch: not running (start it with `workbench learn watch`)")
        return "\n".join(lines)
    if command == "curriculum":
        return (
            f"curriculum run {result['id']} ({result['teacher']}, held-out "
            f"{fmt(result['teacher_held_out_accuracy'])}): corrected {result['corrected']} of "
            f"{result['entries']} entries"
        )
    return _run_line(result)


def _run_line(r: dict) -> str:
    if r["status"] == "rolled_back":
        return f"run {r['id']} {r['model']}: rolled back v{r['previous_version']} → v{r['version']}"
    gates = ", ".join(
        f"{g['name']} {g['value']:.3f} {g['op']} {g['threshold']:g} "
        + ("ok" if g["passed"] else "FAIL")
        for g in r["gates"]
    )
    head = f"run {r['id']} {r['model']} {r['status']}: deployed {str(r['deployed']).lower()}"
    if r.get("candidate_version"):
        head += f" (candidate v{r['candidate_version']}, previous v{r['previous_version']})"
    if r.get("error"):
        head += f" — {r['error']}"
    return head + (f"\n  gates: {gates}" if gates else "")
