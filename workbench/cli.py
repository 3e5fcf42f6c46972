"""The headless CLI. `workbench` alone opens the UI; subcommands run the same Engine.

Errors a user can fix (bad --db, locked store, bad input) print one line on stderr and
exit with status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from workbench import __version__
from workbench.store.errors import StoreError

EXIT_USAGE = 2


class CliError(Exception):
    """A user-facing failure: printed as one line, exit status 2."""


def _add_db(parser: argparse.ArgumentParser, top: bool = False) -> None:
    parser.add_argument(
        "--db",
        metavar="PATH",
        default=None if top else argparse.SUPPRESS,
        help="store location (default: $WORKBENCH_DB, else .workbench/workbench.db)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="workbench",
        description="A workbench for self-improving agent systems. Without a command, "
        "opens the terminal UI.",
    )
    parser.add_argument("--version", action="version", version=f"workbench {__version__}")
    _add_db(parser, top=True)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    init = commands.add_parser("init", help="create the store and seed it from sample_data/")
    _add_db(init)
    init.add_argument("--json", action="store_true", help="machine-readable output")

    store = commands.add_parser("store", help="inspect the store")
    store_cmds = store.add_subparsers(dest="store_command", metavar="SUBCOMMAND", required=True)
    stats = store_cmds.add_parser("stats", help="row counts per table")
    _add_db(stats)
    stats.add_argument("--json", action="store_true", help="machine-readable output")
    _add_neural(commands)
    _add_pipeline(commands)

    bench = commands.add_parser("bench", help="measure kernels against their peers")
    bench_cmds = bench.add_subparsers(dest="bench_command", metavar="SUBCOMMAND", required=True)
    kernels = bench_cmds.add_parser(
        "kernels", help="WASM SIMD kernels vs numpy (numpy run as users run it)"
    )
    kernels.add_argument("--quick", action="store_true", help="smaller sizes, a few seconds")
    kernels.add_argument("--json", action="store_true", help="machine-readable output")
    return parser


def _command_group(commands, group: str, help_text: str):
    """A subcommand group whose commands each take --db and --json."""
    parser = commands.add_parser(group, help=help_text)
    sub = parser.add_subparsers(dest=f"{group}_command", metavar="SUBCOMMAND", required=True)

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text)
        _add_db(p)
        p.add_argument("--json", action="store_true", help="machine-readable output")
        return p

    return command


def _add_neural(commands) -> None:
    command = _command_group(commands, "neural", "train, version and use neural models")

    p = command("train", "train a model from an architecture JSON and a data file")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--model", metavar="ARCH.json", help="architecture + training")
    source.add_argument(
        "--catalog", metavar="NAME", help="a catalog model, trained on its recipe's data"
    )
    p.add_argument("--data", metavar="FILE", help="JSON, CSV or NPZ data (with --model)")
    p.add_argument("--epochs", type=int, help="override the spec's epoch count")
    p.add_argument("--name", help="registry name (default: the spec's name)")
    p.add_argument("--backend", choices=("wasm", "numpy"), help="kernel backend")
    p.add_argument("--resume", action="store_true", help="continue an interrupted training")
    p.add_argument("--init-from", metavar="NAME[@VERSION]", help="start from a trained model")
    p.add_argument("--freeze", type=int, default=0, metavar="K", help="freeze the first K layers")
    p.add_argument("--label", default="label", metavar="COL", help="label column or key")
    p.add_argument("--description", default="", help="version description")
    p.add_argument("--tags", default="", help="comma-separated tags")

    p = command("predict", "predict with a model version")
    p.add_argument("--model", required=True, metavar="NAME[@VERSION]")
    p.add_argument("--input", required=True, metavar="JSON_OR_FILE")

    p = command("ensemble", "average the predictions of several models")
    p.add_argument("--models", required=True, metavar="A,B,C")
    p.add_argument("--input", required=True, metavar="JSON_OR_FILE")

    command("list", "models in the store with their champion")
    command("catalog", "the 27 catalog models: recipe, data available, measured accuracy")
    p = command("versions", "every version of a model")
    p.add_argument("name")
    p = command("rollback", "move NAME@champion to another version")
    p.add_argument("name")
    p.add_argument("--version", type=int, required=True)
    p = command("delete", "delete NAME@VERSION, or every version of NAME")
    p.add_argument("reference", metavar="NAME[@VERSION]")
    p = command("export", "write a model version to a .clf file")
    p.add_argument("reference", metavar="NAME[@VERSION]")
    p.add_argument("--output", required=True, metavar="F.clf")
    p = command("import", "validate a .clf file and add it as a new version")
    p.add_argument("file", metavar="F.clf")
    p.add_argument("--name", help="registry name (default: the file's model name)")
    p = command("quantize", "int8 weights as a new version, with measured accuracy change")
    p.add_argument("reference", metavar="NAME[@VERSION]")
    p.add_argument("--bits", type=int, default=8)
    p.add_argument("--data", metavar="FILE", help="held-out data to measure accuracy on")


def cmd_neural(args: argparse.Namespace) -> int:
    with _engine(args) as engine:
        service = engine.neural
        command = args.neural_command
        with engine.guard():
            if command == "train":
                result = _train_with_progress(service, args)
            elif command == "predict":
                result = service.predict(args.model, args.input)
            elif command == "ensemble":
                refs = [r for r in args.models.split(",") if r]
                result = service.ensemble(refs, args.input)
            elif command == "list":
                result = service.models()
            elif command == "catalog":
                result = [
                    {k: v for k, v in entry.items() if k != "spec"} for entry in service.catalog()
                ]
            elif command == "versions":
                result = service.versions(args.name)
            elif command == "rollback":
                result = service.rollback(args.name, args.version)
            elif command == "delete":
                result = service.delete(args.reference)
            elif command == "export":
                result = service.export(args.reference, args.output)
            elif command == "import":
                result = service.import_(args.file, args.name)
            else:  # quantize
                result = service.quantize(args.reference, args.bits, args.data)
    if args.json:
        print(json.dumps(result, indent=2, sort_keys=True, default=str))
    else:
        _print_result(result, args.neural_command)
    return 0


def _train_with_progress(service, args: argparse.Namespace) -> dict:
    tags = [t for t in args.tags.split(",") if t]
    kwargs = dict(
        name=args.name,
        epochs=args.epochs,
        backend=args.backend,
        resume=args.resume,
        init_from=args.init_from,
        freeze_layers=args.freeze,
        label_column=args.label,
        description=args.description,
        tags=tags,
    )
    if args.catalog:
        if args.data or args.name or args.resume or args.init_from or args.freeze:
            raise CliError("--catalog trains from the recipe's own data: drop --data/--name/...")
        kwargs = {"epochs": args.epochs, "backend": args.backend}
        run = lambda **extra: service.train_catalog(args.catalog, **kwargs, **extra)  # noqa: E731
    else:
        if not args.data:
            raise CliError("--model needs --data FILE")
        run = lambda **extra: service.train(args.model, args.data, **kwargs, **extra)  # noqa: E731
    if args.json:
        return run()
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("[bold]training[/bold]"),
        BarColumn(),
        TextColumn("epoch {task.completed}"),
        TextColumn("{task.fields[metrics]}"),
        TimeElapsedColumn(),
        transient=True,
    ) as progress:
        task = progress.add_task("train", total=args.epochs, metrics="")

        def on_epoch(rec) -> None:
            shown = f"loss {rec.loss:.4f}"
            if rec.val_accuracy is not None:
                shown += f"  val_acc {rec.val_accuracy:.3f}"
            progress.update(task, completed=rec.epoch, metrics=shown)

        return run(on_epoch=on_epoch)


TABLE_COLUMNS = {
    "versions": ["version", "status", "aliases", "accuracy", "val_accuracy", "size_bytes",
                 "created"],
    "list": ["name", "versions", "latest", "latest_status", "champion", "val_accuracy"],
    "catalog": ["category", "name", "source", "source_rows", "trainable", "version",
                "val_accuracy"],
    "predict": ["prediction", "confidence", "input"],
    "ensemble": ["prediction", "confidence", "agreement"],
}  # fmt: skip


def _print_result(result: object, command: str) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=None if sys.stdout.isatty() else 160)
    columns = TABLE_COLUMNS.get(command)
    if columns is None:
        for key, value in result.items():  # type: ignore[union-attr]
            console.print(f"[bold]{key}[/bold]: {_fmt(value)}")
        return
    rows = result if isinstance(result, list) else [result]
    if not rows:
        console.print("nothing to show")
        return
    table = Table()
    for key in columns:
        table.add_column(key, overflow="fold")
    for row in rows:
        table.add_row(
            *(
                "untrained"
                if key == "val_accuracy" and row.get(key) is None
                else _fmt(row.get(key))
                for key in columns
            )
        )
    console.print(table)
    for index, row in enumerate(rows, start=1):
        prefix = f"{index}: " if len(rows) > 1 else ""
        for near in row.get("reasoning") or []:
            console.print(
                f"  {prefix}near [italic]{near['text']}[/italic] → {near['label']} "
                f"(similarity {near['similarity']:.2f})"
            )
        for line in row.get("recommendations") or []:
            console.print(f"  {prefix}[bold]recommendation:[/bold] {line}")


def _fmt(value: object) -> str:
    if isinstance(value, list):
        return ", ".join(map(str, value))
    if isinstance(value, float):
        return f"{value:.4f}"
    if value is None:
        return "—"
    return str(value)


def _add_pipeline(commands) -> None:
    command = _command_group(commands, "pipeline", "run tasks × strategies, learn, select")

    p = command("run", "execute every (task, strategy) in sandboxes and learn from the results")
    p.add_argument("--complexity", choices=("easy", "medium", "hard"))
    p.add_argument("--curriculum", action="store_true", help="start easy, move with success")
    p.add_argument("--iterations", type=int, default=1, metavar="N")
    p.add_argument("--strategies", default="conservative,balanced,aggressive", metavar="A,B,C")
    p.add_argument("--tasks", metavar="DIR", help="task folder (default: sample_data/tasks)")
    p.add_argument("--workers", type=int, default=None, metavar="N", help="default: core count")
    p.add_argument("--strategy-module", metavar="PATH", help="a .py file defining STRATEGIES")
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


def cmd_pipeline(args: argparse.Namespace) -> int:
    with _engine(args) as engine:
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
                if args.json:
                    result = service.run(**kwargs)
                else:
                    from workbench.pipeline import report

                    result = report.run_with_progress(service, kwargs)
            elif command == "status":
                result = service.status()
            else:
                result = service.select(args.priorities, bandit=args.bandit, seed=args.seed)
    if args.json:
        print(json.dumps(result, indent=2, sort_keys=True, default=str))
        return 0
    from workbench.pipeline import report

    if command == "run":
        print(report.format_run(result))
    elif command == "status":
        print(report.format_status(result))
    else:
        print(f"{result['strategy']}  (score {result['score']:.3f})\n  {result['reason']}")
    return 0


def cmd_bench_kernels(args: argparse.Namespace) -> int:
    from workbench.kernels import bench

    report = bench.run(quick=args.quick)
    print(
        json.dumps(report, indent=2, sort_keys=True) if args.json else bench.format_report(report)
    )
    return 0


def _engine(args: argparse.Namespace):
    from workbench.engine import Engine

    return Engine(args.db)


def cmd_init(args: argparse.Namespace) -> int:
    with _engine(args) as engine:
        added = engine.seed()
        result = {
            "db": str(engine.db_path),
            "schema_version": engine.schema_version,
            "created": engine.created,
            "added": added,
        }
    if args.json:
        print(json.dumps(result, indent=2, sort_keys=True))
        return 0
    state = "created" if result["created"] else "opened"
    print(f"{state} store {result['db']} (schema v{result['schema_version']})")
    if added:
        for table, n in sorted(added.items()):
            print(f"  seeded {n:>5}  {table}")
    else:
        print("  nothing to seed: the store already has all sample data")
    return 0


def cmd_store_stats(args: argparse.Namespace) -> int:
    with _engine(args) as engine:
        counts = engine.stats()
        result = {
            "db": str(engine.db_path),
            "schema_version": engine.schema_version,
            "tables": counts,
        }
    if args.json:
        print(json.dumps(result, indent=2, sort_keys=True))
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{result['db']}  (schema v{result['schema_version']})")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, n in counts.items():
        table.add_row(name, str(n))
    Console(width=None if sys.stdout.isatty() else 160).print(table)
    return 0


def run_ui(args: argparse.Namespace) -> int:
    if not sys.stdin.isatty():
        raise CliError("the UI needs an interactive terminal; run a subcommand (see --help)")
    from workbench.engine import Engine
    from workbench.ui.app import WorkbenchApp

    engine = Engine(args.db)
    try:
        engine.ensure_seeded()
        WorkbenchApp(engine).run()
    finally:
        engine.close()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "init":
            return cmd_init(args)
        if args.command == "store":
            return cmd_store_stats(args)
        if args.command == "neural":
            return cmd_neural(args)
        if args.command == "pipeline":
            return cmd_pipeline(args)
        if args.command == "bench":
            return cmd_bench_kernels(args)
        return run_ui(args)
    except (StoreError, CliError, ValueError, OSError) as exc:
        print(f"workbench: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
