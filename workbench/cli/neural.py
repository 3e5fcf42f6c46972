"""`workbench neural ...`: train, version and use neural models."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from workbench.cli.common import (
    CliError,
    choices_arg,
    command_group,
    console,
    fmt,
    open_engine,
    print_json,
)

NAME = "neural"


def add(commands) -> None:
    command = command_group(commands, "neural", "train, version and use neural models")

    p = command("train", "train a model from an architecture JSON and a data file")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--model", metavar="ARCH.json", help="architecture + training")
    source.add_argument(
        "--catalog",
        metavar="NAME|A,B|all",
        help="catalog model(s) trained on their recipe's data; several (or all trainable) "
        "train in parallel, each in its own process",
    )
    p.add_argument(
        "--workers", type=int, metavar="N", help="parallel trainings for --catalog (default 2)"
    )
    p.add_argument(
        "--executor",
        metavar="local|dask-local[:N]|dask://HOST:PORT",
        help="where parallel catalog trainings run (default: local processes)",
    )
    p.add_argument("--data", metavar="FILE", help="JSON, CSV or NPZ data (with --model)")
    p.add_argument("--epochs", type=int, help="override the spec's epoch count")
    p.add_argument("--learning-rate", type=float, metavar="LR", help="override the spec's")
    p.add_argument("--batch-size", type=int, metavar="N", help="override the spec's")
    p.add_argument("--patience", type=int, metavar="N", help="early stopping: epochs without gain")
    p.add_argument("--min-delta", type=float, metavar="D", help="early stopping: smallest gain")
    p.add_argument("--validation-split", type=float, metavar="F", help="held-out share, [0, 1)")
    p.add_argument("--name", help="registry name (default: the spec's name)")
    p.add_argument("--backend", **choices_arg(("wasm", "numpy")), help="kernel backend")
    p.add_argument("--resume", action="store_true", help="continue an interrupted training")
    p.add_argument("--init-from", metavar="NAME[@VERSION]", help="start from a trained model")
    p.add_argument("--freeze", type=int, default=0, metavar="K", help="freeze the first K layers")
    p.add_argument("--label", default="label", metavar="COL", help="label column or key")
    p.add_argument("--description", default="", help="version description")
    p.add_argument("--tags", default="", help="comma-separated tags")
    p.add_argument(
        "--embedder", metavar="SPEC",
        help="with --catalog NAME of a text model: model2vec:PATH offers its sentence vectors "
        "as one more feature block, kept only if CV shows it helps (embeddings extra); "
        "default: $WORKBENCH_EMBEDDER, else the settings file",
    )  # fmt: skip

    p = command("cleanup", "delete old versions (keeps newest, aliased, resumable) and checkpoints")
    p.add_argument("--keep", type=int, default=3, metavar="N", help="newest versions kept (3)")
    p.add_argument("--checkpoints", action="store_true",
                   help="also checkpoints of finished versions and orphaned folders")  # fmt: skip
    p.add_argument("--dry-run", action="store_true", help="report the plan, change nothing")
    p.add_argument("--model", metavar="NAME", help="only this model")

    p = command("predict", "predict with a model version")
    p.add_argument("--model", required=True, metavar="NAME[@VERSION]")
    p.add_argument("--input", required=True, metavar="JSON_OR_FILE",
                   help="JSON, a .json/.csv/.npz file, or any text file (text models)")  # fmt: skip
    p.add_argument("--lines", action="store_true", help="raw text: one record per line")
    p.add_argument("--field", metavar="NAME", help="raw text: the text field (default: first)")

    p = command("ensemble", "average the predictions of several models")
    p.add_argument("--models", required=True, metavar="A,B,C")
    p.add_argument("--input", required=True, metavar="JSON_OR_FILE")
    p.add_argument(
        "--label",
        metavar="COL",
        help="the input is labelled: measure the ensemble on it (accuracy, per class, ECE)",
    )

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

    p = command("evaluate", "measure a model version on a labelled file (stored per data hash)")
    p.add_argument("reference", metavar="NAME[@VERSION|@ALIAS]")
    p.add_argument("--data", required=True, metavar="FILE", help="JSON, CSV or NPZ rows")
    p.add_argument("--label", metavar="COL", help="label column (default: the model's own)")

    p = command("federate", "FedAvg across stores: each trains on its own data, weights averaged")
    p.add_argument("--stores", required=True, metavar="A,B,C", help="workbench store files")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--model", metavar="ARCH.json", help="architecture + training")
    source.add_argument(
        "--catalog", metavar="NAME", help="a catalog model: each store's rows for its recipe"
    )
    p.add_argument(
        "--data", metavar="A.csv,B.csv,C.csv", help="with --model: each store's own data file"
    )
    p.add_argument("--rounds", type=int, default=5, metavar="R", help="averaging rounds")
    p.add_argument("--local-epochs", type=int, default=1, metavar="E", help="epochs per round")
    p.add_argument("--name", help="registry name (default: the spec's name)")
    p.add_argument("--backend", **choices_arg(("wasm", "numpy")), help="kernel backend")
    p.add_argument("--label", default="label", metavar="COL", help="label column or key")


def run(args: argparse.Namespace) -> int:
    if args.neural_command == "federate":
        return _federate(args)
    if args.neural_command == "evaluate":
        return _evaluate(args)
    with open_engine(args) as engine:
        service = engine.neural
        command = args.neural_command
        with engine.guard():
            if command == "train" and getattr(args, "embedder", None):
                _check_embedder_use(args)
            if command == "train" and _several_catalog_models(args):
                result = _train_catalog_parallel(engine, args)
            elif command == "train":
                if args.workers or args.executor:
                    raise CliError("--workers/--executor apply to --catalog training only")
                result = _train_with_progress(service, args, engine.embedder_spec)
            elif command == "predict":
                result = service.predict(args.model, args.input, lines=args.lines, field=args.field)
            elif command == "ensemble":
                refs = [r for r in args.models.split(",") if r]
                if args.label:
                    result = service.evaluate_ensemble(refs, args.input, args.label)
                    if not args.json:
                        from workbench.cli.evaluate_view import print_evaluation

                        print_evaluation(console(), result)
                        return 0
                else:
                    result = service.ensemble(refs, args.input)
            elif command == "list":
                result = service.models()
            elif command == "catalog":
                result = [
                    {k: v for k, v in entry.items() if k != "spec"} for entry in service.catalog()
                ]
            elif command == "cleanup":
                result = service.cleanup(
                    args.keep, checkpoints=args.checkpoints, dry_run=args.dry_run, name=args.model
                )
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
        print_json(result)
    elif isinstance(result, list) and args.neural_command == "train":
        _print_result(result, "train-many")
    else:
        _print_result(result, args.neural_command)
    if isinstance(result, list) and any(r.get("status") == "failed" for r in result):
        return 1  # some trainings failed: each says why in its row
    return 0


def _federate(args: argparse.Namespace) -> int:
    """Stores are opened one at a time, each only to read its own data and to register."""
    import contextlib

    from workbench import config
    from workbench.engine import Engine
    from workbench.neural import catalog as cat
    from workbench.neural import federated

    if getattr(args, "db", None) is not None:
        raise CliError("federate works on --stores A,B,C, not --db")
    stores = [s.strip() for s in args.stores.split(",") if s.strip()]
    data = [d.strip() for d in args.data.split(",") if d.strip()] if args.data else None
    if args.catalog and data:
        raise CliError("--catalog reads each store's own rows: drop --data")
    if args.model and not data:
        raise CliError("--model needs --data A,B,C: one data file per store")

    @contextlib.contextmanager
    def open_store(path):
        with Engine(path) as engine, engine.guard():
            yield engine

    def on_round(report: dict) -> None:
        if not args.json:
            stores_acc = "  ".join(f"{c['global_val_accuracy']:.3f}" for c in report["clients"])
            print(
                f"round {report['round']:>3}  held-out accuracy {report['val_accuracy']:.3f}"
                f"  per store {stores_acc}",
                file=sys.stderr,
            )

    result = federated.run_federated(
        stores,
        cat.get(args.catalog).spec if args.catalog else args.model,
        open_store,
        rounds=args.rounds,
        local_epochs=args.local_epochs,
        data=data,
        catalog=args.catalog,
        backend=args.backend or config.kernel_backend(),
        label_column=args.label,
        name=args.name,
        on_round=on_round,
    )
    if args.json:
        print_json(result)
        return 0
    out = console()
    from rich.table import Table

    table = Table(title=f"FedAvg: {result['name']}, {result['rounds']} rounds")
    table.add_column("round", justify="right")
    table.add_column("held-out acc (all)", justify="right")
    for store in result["stores"]:
        name = Path(store["store"]).name
        table.add_column(f"{name} ({store['n_train']} + {store['n_held_out']} held out)")
    for report in result["history"]:
        table.add_row(
            str(report["round"]),
            f"{report['val_accuracy']:.4f}",
            *(f"{c['global_val_accuracy']:.4f}" for c in report["clients"]),
        )
    out.print(table)
    for reg in result["registered"]:
        out.print(f"registered {reg['name']}@{reg['version']} in {reg['store']}")
    return 0


def _check_embedder_use(args: argparse.Namespace) -> None:
    """--embedder only feeds one catalog text model's CV (one line otherwise)."""
    from workbench.neural import catalog as cat

    if not args.catalog or _several_catalog_models(args):
        raise CliError("--embedder applies to one text model: --catalog NAME")
    if not cat.is_text_model(cat.get(args.catalog)):
        raise CliError(f"--embedder: catalog model {args.catalog} does not read text")


def _several_catalog_models(args: argparse.Namespace) -> bool:
    catalog = args.catalog or ""
    return bool(catalog) and (
        catalog.strip() == "all" or "," in catalog or bool(args.workers or args.executor)
    )


def _train_catalog_parallel(engine, args: argparse.Namespace) -> list[dict]:
    """Several catalog models at once, one overall bar and one bar per model."""
    if args.data or args.name or args.resume or args.init_from or args.freeze:
        raise CliError("--catalog trains from the recipes' own data: drop --data/--name/...")
    kwargs = dict(workers=args.workers or 2, executor=args.executor, epochs=args.epochs,
                  backend=args.backend)  # fmt: skip
    if args.json:
        return engine.train_catalog_models(args.catalog, **kwargs)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from workbench.neural import catalog

    since = engine.clock()
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("{task.fields[state]}"), console=console(),
    ) as progress:  # fmt: skip
        overall = progress.add_task("[bold]catalog[/bold]", total=None, state="")
        bars: dict[str, int] = {}

        def on_poll() -> None:
            names = list(bars)
            for name, state in engine.neural.training_progress(names, since).items():
                progress.update(bars[name], completed=state["epochs_done"], state=state["status"])

        def on_done(result: dict) -> None:
            progress.advance(overall)
            shown = result.get("status", "?")
            if result.get("val_accuracy") is not None:
                shown += f" · held-out {result['val_accuracy']:.3f}"
            progress.update(bars[result["name"]], state=shown)

        names = _catalog_names(engine, args.catalog)
        progress.update(overall, total=len(names))
        for name in names:
            planned = args.epochs or (catalog.get(name).spec.get("training") or {}).get("epochs")
            bars[name] = progress.add_task(f"  {name}", total=planned, state="waiting")
        return engine.train_catalog_models(names, **kwargs, on_done=on_done, on_poll=on_poll)


def _catalog_names(engine, text: str) -> list[str]:
    if text.strip() == "all":
        return [e["name"] for e in engine.neural.catalog() if e["trainable"]]
    return [n.strip() for n in text.split(",") if n.strip()]


def _evaluate(args: argparse.Namespace) -> int:
    """`neural evaluate`: measure, store, then print what was stored."""
    from workbench.cli.evaluate_view import print_evaluation

    with open_engine(args) as engine, engine.guard():
        result = engine.neural.evaluate(args.reference, args.data, args.label)
    if args.json:
        print_json(result)
    else:
        print_evaluation(console(), result)
    return 0


def _train_with_progress(service, args: argparse.Namespace, embedder: str | None = None) -> dict:
    tags = [t for t in args.tags.split(",") if t]
    overrides = {
        "epochs": args.epochs,
        "learning_rate": args.learning_rate,
        "batch_size": args.batch_size,
        "patience": args.patience,
        "min_delta": args.min_delta,
        "validation_split": args.validation_split,
    }
    kwargs = dict(
        overrides=overrides,
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
        kwargs = {"epochs": args.epochs, "backend": args.backend, "overrides": overrides}
        kwargs["embedder"] = embedder
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
    "versions": ["version", "status", "aliases", "accuracy", "train_rows", "val_accuracy",
                 "val_rows", "size_bytes", "created"],
    "list": ["name", "versions", "latest", "latest_status", "champion", "val_accuracy",
             "val_rows"],
    "catalog": ["category", "name", "source", "source_rows", "trainable", "version",
                "val_accuracy", "val_rows"],
    "predict": ["prediction", "confidence", "input"],
    "train-many": ["name", "status", "version", "val_accuracy", "epochs_run", "error"],
    "ensemble": ["prediction", "confidence", "agreement"],
}  # fmt: skip


def _print_cleanup(r: dict) -> None:
    verb = "would delete" if r["dry_run"] else "deleted"
    print(f"{verb} {len(r['deleted_versions'])} version(s), "
          f"{len(r['checkpoint_dirs'])} checkpoint folder(s); frees "
          f"{r['freed_store_bytes']:,} B in the store and {r['freed_checkpoint_bytes']:,} B "
          f"on disk")  # fmt: skip
    for e in r["deleted_versions"]:
        print(f"  {verb} {e['name']} v{e['version']} ({e['status']})")
    for e in r["kept_versions"]:
        print(f"  kept {e['name']} v{e['version']}: {e['kept_because']}")
    for d in r["checkpoint_dirs"]:
        print(f"  {'would remove' if r['dry_run'] else 'removed'} {d}")


def _print_result(result: object, command: str) -> None:
    from rich.table import Table
    from rich.text import Text

    if command == "cleanup":
        _print_cleanup(result)  # type: ignore[arg-type]
        return
    out = console()
    columns = TABLE_COLUMNS.get(command)
    if columns is None:
        for key, value in result.items():  # type: ignore[union-attr]
            out.print(Text.assemble((str(key), "bold"), f": {fmt(value)}"))
        return
    rows = result if isinstance(result, list) else [result]
    if not rows:
        out.print("nothing to show")
        return
    table = Table()
    for key in columns:
        table.add_column(key, overflow="fold")
    for row in rows:
        table.add_row(
            *(
                "untrained" if key == "val_accuracy" and row.get(key) is None else fmt(row.get(key))
                for key in columns
            )
        )
    out.print(table)
    for index, row in enumerate(rows, start=1):
        prefix = f"{index}: " if len(rows) > 1 else ""
        for near in row.get("reasoning") or []:
            out.print(
                Text.assemble(
                    f"  {prefix}near ",
                    (str(near["text"]), "italic"),
                    f" → {near['label']} (similarity {near['similarity']:.2f})",
                )
            )
        for line in row.get("recommendations") or []:
            out.print(Text.assemble(f"  {prefix}", ("recommendation:", "bold"), f" {line}"))
