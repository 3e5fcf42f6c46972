"""Neural operations over the store: train into the registry, predict, export, import,
quantize, roll back. The CLI and the Models pane both call this (through the Engine).

Training writes a `training_history` row per epoch as it goes, so any UI following the
store charts it live, also when the training runs in another process.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from workbench.neural import evaluations as evaluation_store
from workbench.neural import registry, selection
from workbench.neural.artifact import ModelArtifact
from workbench.neural.clf import export_clf, import_clf
from workbench.neural.data import Dataset, data_hash, load_dataset, read_inputs
from workbench.neural.evaluate import (
    evaluate,
    evaluate_ensemble,
    evaluate_file,
    read_file,
    rows_from_records,
)
from workbench.neural.predict import ModelCache, ensemble, ensemble_mismatch, predict
from workbench.neural.quantize import quantize_artifact
from workbench.neural.spec import ModelSpec, parse_spec, with_overrides
from workbench.neural.textfeatures import TextFeatures, embedder_ref
from workbench.neural.train import EpochRecord, train
from workbench.store import leases
from workbench.store import models as m

RESUMABLE = ("training", "interrupted", "cancelled")


class NeuralService:
    def __init__(self, checkpoint_root: Path, backend: str = "wasm", cache_size: int = 16):
        self.checkpoint_root = checkpoint_root
        self.backend = backend
        self.cache = ModelCache(cache_size)

    # -- training --------------------------------------------------------------------

    def train(
        self,
        model: str | Path | Mapping,
        data: str | Path,
        *,
        name: str | None = None,
        epochs: int | None = None,
        backend: str | None = None,
        resume: bool = False,
        init_from: str | None = None,
        freeze_layers: int = 0,
        label_column: str = "label",
        description: str = "",
        tags: Sequence[str] = (),
        on_epoch: Callable[[EpochRecord], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
        on_start: Callable[[dict[str, Any]], None] | None = None,
        overrides: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Train a model from a spec and a data file into a new registry version.

        `overrides` replace training hyper-parameters (learning_rate, batch_size, epochs,
        patience, min_delta, validation_split); they are recorded in the run's config.
        `on_start` hears the run id and version as soon as they are reserved, so a caller
        that trains in the background (the MCP server) can answer before training ends.
        """
        spec = parse_spec(dict(model) if isinstance(model, Mapping) else model)
        given = {k: v for k, v in (overrides or {}).items() if v is not None}
        if given and resume:
            raise ValueError(
                "--resume continues the interrupted run with its own settings: drop "
                + ", ".join("--" + k.replace("_", "-") for k in sorted(given))
            )
        spec = with_overrides(spec, given)
        if "epochs" in given:
            if epochs is not None and epochs != given["epochs"]:
                raise ValueError("epochs given twice with different values")
            epochs = given["epochs"]
        name = registry.check_name(name or spec_name(spec))
        backend = backend or self.backend
        dataset = load_dataset(data, spec, label_column=label_column)
        digest = data_hash(data)
        pretrained = self.load(init_from) if init_from else None
        if freeze_layers and pretrained is None:
            raise ValueError("--freeze needs --init-from: only transferred layers can be frozen")
        if resume:
            row = self._resumable(name)
        else:
            row, _run = registry.start_version(
                name,
                architecture=spec.to_dict(),
                category=str(spec.to_dict().get("category") or "custom"),
                description=description or str(spec.to_dict().get("description") or ""),
                tags=tags,
                run_config={
                    "spec": spec.to_dict(),
                    "data": str(data),
                    "label_column": label_column,
                    "backend": backend,
                    "epochs": epochs,
                    "overrides": given,
                    "init_from": init_from,
                    "freeze_layers": freeze_layers,
                },
                data_hash=digest,
            )
        checkpoints = self.checkpoint_dir(name, row.version)
        if on_start is not None:
            on_start({"run_id": row.training_run_id, "name": name, "version": row.version})

        def record(rec: EpochRecord) -> None:
            m.TrainingHistory.delete().where(
                (m.TrainingHistory.model == row.id) & (m.TrainingHistory.epoch >= rec.epoch)
            ).execute()
            registry.record_epoch(row, rec)
            if on_epoch is not None:
                on_epoch(rec)

        try:
            result = train(
                spec,
                dataset,
                backend=backend,
                on_epoch=record,
                checkpoint_dir=checkpoints,
                resume=resume,
                init_from=pretrained,
                freeze_layers=freeze_layers,
                should_stop=should_stop,
                epochs=epochs,
            )
        except BaseException as exc:
            registry.abandon_version(row, "failed", f"{type(exc).__name__}: {exc}")
            raise
        if result.cancelled:
            registry.abandon_version(row, "cancelled", f"cancelled after epoch {result.epochs_run}")
            return self._summary(row, result, status="cancelled")
        artifact = result.artifact
        artifact.spec["name"] = name
        metrics = {
            **artifact.metrics,
            "epochs_run": result.epochs_run,
            "best_epoch": result.best_epoch,
            "stopped_early": result.stopped_early,
            "training_time_s": result.training_time_s,
            "backend": backend,
        }
        registry.finish_version(row, weights=artifact.to_bytes(), metrics=metrics)
        shutil.rmtree(checkpoints, ignore_errors=True)
        return self._summary(row, result, status="trained")

    def _resumable(self, name: str) -> m.NeuralModel:
        row = (
            m.NeuralModel.select()
            .where((m.NeuralModel.name == name) & (m.NeuralModel.status.in_(RESUMABLE)))
            .order_by(m.NeuralModel.version.desc())
            .first()
        )
        if row is None or not self.checkpoint_dir(name, row.version).is_dir():
            raise registry.RegistryError(
                f"nothing to resume for {name!r}: no interrupted training with checkpoints"
            )
        row.status = "training"
        row.save()
        if row.training_run_id:
            m.TrainingRun.update(status="running").where(
                m.TrainingRun.id == row.training_run_id
            ).execute()
            leases.claim("training_runs", row.training_run_id)
        return row

    def run_status(self, run_id: int) -> dict[str, Any]:
        """A training run as its watchers need it: status, epochs so far, latest metrics."""
        return registry.run_status(run_id)

    def training_progress(self, names: Sequence[str], since: Any) -> dict[str, dict[str, Any]]:
        """Per model name: the newest version started at or after `since`, its status and
        epochs recorded so far (what a parallel training's progress bars show)."""
        out: dict[str, dict[str, Any]] = {}
        for name in names:
            row = (
                m.NeuralModel.select()
                .where((m.NeuralModel.name == name) & (m.NeuralModel.created >= since))
                .order_by(m.NeuralModel.version.desc())
                .first()
            )
            if row is None:
                out[name] = {"status": "waiting", "epochs_done": 0, "version": None}
                continue
            done = m.TrainingHistory.select().where(m.TrainingHistory.model == row.id).count()
            out[name] = {"status": row.status, "epochs_done": done, "version": row.version}
        return out

    def checkpoint_dir(self, name: str, version: int) -> Path:
        return self.checkpoint_root / name / f"v{version}"

    @staticmethod
    def _summary(row: m.NeuralModel, result: Any, status: str) -> dict[str, Any]:
        return {
            "model_id": row.id,
            "name": row.name,
            "version": row.version,
            "status": status,
            "accuracy": result.accuracy,
            "val_accuracy": result.val_accuracy,
            "loss": result.loss,
            "val_loss": result.val_loss,
            "epochs_run": result.epochs_run,
            "stopped_early": result.stopped_early,
            "resumed_from": result.resumed_from,
            "training_time_s": round(result.training_time_s, 4),
            "backend": result.backend,
        }

    # -- loading and predicting ------------------------------------------------------

    def load(self, reference: str) -> ModelArtifact:
        row = registry.resolve(reference)
        key = (row.name, row.version)

        def loader() -> ModelArtifact:
            _row, blob = registry.load_weights(f"{row.name}@{row.version}")
            return ModelArtifact.from_bytes(blob)

        return self.cache.get(key, loader)

    def predict(
        self, reference: str, inputs: Any, *, lines: bool = False, field: str | None = None
    ) -> list[dict[str, Any]]:
        """Predictions for JSON/CSV/NPZ inputs, or for a raw text file (any other suffix)
        given to a text model: the whole file is one record, or each non-empty line with
        `lines`, placed in the model's text field (`field`, default its first)."""
        artifact = self.load(reference)
        if lines or field is not None or raw_text_file(inputs):
            records = text_records(artifact.feature_spec, inputs, lines=lines, field=field)
        else:
            records = read_inputs(inputs)
        return [p.to_dict() for p in predict(artifact, records, backend=self.backend)]

    def ensemble(self, references: Sequence[str], inputs: Any) -> list[dict[str, Any]]:
        if len(references) < 2:
            raise ValueError("an ensemble needs at least two models")
        artifacts = [self.load(r) for r in references]
        results = ensemble(
            artifacts, read_inputs(inputs), backend=self.backend, names=list(references)
        )
        return [r.to_dict() for r in results]

    def ensemble_problem(self, references: Sequence[str]) -> str | None:
        """Why these versions cannot be averaged into one ensemble (different classes or
        input), in one line, or None when they can; an unknown version is a RegistryError."""
        artifacts = [self.load(r) for r in references]
        return ensemble_mismatch(artifacts, list(references))

    # -- evaluation ------------------------------------------------------------------

    def evaluate(
        self, reference: str, data: str | Path, label: str | None = None
    ) -> dict[str, Any]:
        """Measure a version on a data file (encoded as `predict` encodes it) and store
        the result against the version and the file's hash; nothing is written when the
        file cannot be evaluated. The MCP tool and the CLI both call this."""
        row = registry.resolve(reference)
        artifact = self.load(f"{row.name}@{row.version}")
        result = evaluate_file(artifact, data, label_column=label, backend=self.backend)
        digest = data_hash(data)
        record = evaluation_store.save(
            row, result, data_hash=digest, data_name=str(data), backend=self.backend
        )
        return evaluation_store.to_dict(record)

    def evaluate_records(
        self,
        reference: str,
        records: Sequence[Mapping[str, Any]],
        label: str = "label",
        *,
        predictions: bool = False,
    ) -> dict[str, Any]:
        """The evaluation function on in-memory labelled records (quality gates, the
        pattern classifier); not stored: the caller records what it decided from it."""
        artifact = self.load(reference)
        rows = rows_from_records([dict(r) for r in records], label, source=reference)
        return evaluate(
            artifact, rows, label_column=label, backend=self.backend, predictions=predictions
        )

    def evaluate_ensemble(
        self,
        references: Sequence[str],
        data: str | Path | Sequence[Mapping[str, Any]],
        label: str | None = None,
    ) -> dict[str, Any]:
        """An ensemble's accuracy (and every classification figure) on labelled rows:
        a file, or records. The label column defaults to the first model's."""
        artifacts = [self.load(r) for r in references]
        col = label or artifacts[0].feature_spec.label_column
        if isinstance(data, str | Path):
            rows = read_file(data, col)
        else:
            rows = rows_from_records([dict(r) for r in data], col, source="records")
        out = evaluate_ensemble(artifacts, rows, label_column=col, backend=self.backend)
        return {"models": list(references), **out}

    def evaluations(self, reference: str | None = None, model_id: int | None = None) -> list:
        """Stored evaluations of one version (by reference or row id), newest first."""
        if model_id is None:
            if reference is None:
                raise ValueError("evaluations: name a model version")
            model_id = registry.resolve(reference).id
        return evaluation_store.for_model(model_id)

    def compare_evaluations(
        self, a: str | int, b: str | int, data_hash: str | None = None
    ) -> dict[str, Any]:
        """Two versions' stored evaluations on the same data file, with the differences."""
        ids = [x if isinstance(x, int) else registry.resolve(x).id for x in (a, b)]
        return evaluation_store.compare(ids[0], ids[1], data_hash)

    # -- registry operations ---------------------------------------------------------

    def versions(self, name: str) -> list[dict[str, Any]]:
        return registry.versions(name)

    def rollback(self, name: str, version: int) -> dict[str, Any]:
        target = registry.rollback(name, version)
        return {"name": name, "champion": target.version}

    def delete(self, reference: str) -> dict[str, Any]:
        removed = registry.delete(reference)
        name = registry.ModelRef.parse(reference).name
        self.cache.invalidate(name)
        return {"name": name, "deleted_versions": removed}

    def cleanup(
        self,
        keep: int = 3,
        *,
        checkpoints: bool = False,
        dry_run: bool = False,
        name: str | None = None,
    ) -> dict[str, Any]:
        """Delete old versions: per model keep the newest `keep`, every version an alias
        points at (champion, ...) and any still training or resumable (interrupted).
        A deleted version's checkpoints go with it; with `checkpoints`, also those of
        finished versions (they only serve --resume) and folders of no version at all.
        `dry_run` reports the same plan and changes nothing."""
        if isinstance(keep, bool) or not isinstance(keep, int) or keep < 1:
            raise ValueError("--keep must be a whole number >= 1")
        names = (
            [registry.check_name(name)]
            if name
            else sorted(r[0] for r in m.NeuralModel.select(m.NeuralModel.name).distinct().tuples())
        )
        if name and not m.NeuralModel.select().where(m.NeuralModel.name == name).exists():
            raise ValueError(f"unknown model {name!r}")
        deleted: list[dict[str, Any]] = []
        kept: list[dict[str, Any]] = []
        dirs: list[Path] = []
        for model in names:
            versions = registry.versions(model)
            newest = {v["version"] for v in versions[-keep:]}
            for v in versions:
                why = (
                    "newest" if v["version"] in newest
                    else f"alias {', '.join(v['aliases'])}" if v["aliases"]
                    else "resumable" if v["status"] in ("training", "interrupted")
                    else None
                )  # fmt: skip
                entry = {"name": model, "version": v["version"], "status": v["status"],
                         "size_bytes": v["size_bytes"] or 0}  # fmt: skip
                if why is None:
                    deleted.append(entry)
                    dirs.append(self.checkpoint_dir(model, v["version"]))
                else:
                    kept.append({**entry, "kept_because": why})
                    if checkpoints and v["status"] not in ("training", "interrupted"):
                        dirs.append(self.checkpoint_dir(model, v["version"]))
        if checkpoints and self.checkpoint_root.is_dir():
            known = {(k["name"], k["version"]) for k in kept}
            for model_dir in sorted(self.checkpoint_root.iterdir()):
                if not model_dir.is_dir() or model_dir.name == "catalog-data":
                    continue
                if name and model_dir.name != name:
                    continue
                for vdir in sorted(model_dir.glob("v*")):
                    number = vdir.name[1:]
                    if number.isdigit() and (model_dir.name, int(number)) not in known:
                        dirs.append(vdir)
        dirs = sorted({d for d in dirs if d.is_dir()})
        freed_files = sum(f.stat().st_size for d in dirs for f in d.rglob("*") if f.is_file())
        if not dry_run:
            with m.database_proxy.atomic():
                for e in deleted:
                    registry.delete(f"{e['name']}@{e['version']}")
            for model in {e["name"] for e in deleted}:
                self.cache.invalidate(model)
            for d in dirs:
                shutil.rmtree(d, ignore_errors=False)
        return {
            "dry_run": dry_run,
            "keep": keep,
            "deleted_versions": deleted,
            "kept_versions": kept,
            "checkpoint_dirs": [str(d) for d in dirs],
            "freed_store_bytes": sum(e["size_bytes"] for e in deleted),
            "freed_checkpoint_bytes": freed_files,
        }

    def export(self, reference: str, output: str | Path) -> dict[str, Any]:
        row = registry.resolve(reference)
        path = export_clf(self.load(reference), Path(output))
        return {"name": row.name, "version": row.version, "path": str(path),
                "bytes": path.stat().st_size}  # fmt: skip

    def import_(self, path: str | Path, name: str | None = None) -> dict[str, Any]:
        """Validate the whole file first; only a valid model becomes a new version."""
        artifact = import_clf(Path(path))
        name = registry.check_name(name or artifact.name)
        artifact.spec["name"] = name
        with m.database_proxy.atomic():  # a failure here leaves no half-made version
            row, _run = registry.start_version(
                name,
                architecture=artifact.spec,
                category=str(artifact.spec.get("category") or "custom"),
                description=f"imported from {Path(path).name}",
                run_kind="import",
                run_config={"file": str(path)},
                data_hash=data_hash(path),
            )
            registry.finish_version(
                row, weights=artifact.to_bytes(), metrics=artifact.metrics, status="imported"
            )
        return {"name": name, "version": row.version, "status": "imported"}

    def quantize(
        self, reference: str, bits: int = 8, data: str | Path | None = None
    ) -> dict[str, Any]:
        """int8 weights as a new version; accuracy before/after measured on `data`
        (held-out file) or, without it, on the stored training examples (said so)."""
        row = registry.resolve(reference)
        artifact = self.load(reference)
        spec = artifact.model_spec
        label = None
        if data is not None:
            # Read like `predict --input` reads it and measured by the evaluation function:
            # the model's own scaling and labels, never refit on the held-out file.
            label = (
                None
                if artifact.objective == "reconstruction"
                else artifact.feature_spec.label_column
            )
            eval_set, evaluated_on = read_file(data, label), str(data)
        else:
            eval_set, evaluated_on = _examples_dataset(artifact, spec), "stored training examples"
        quantized, report = quantize_artifact(
            artifact, eval_set, bits=bits, backend=self.backend, label_column=label
        )
        new_row, _run = registry.start_version(
            row.name,
            architecture=quantized.spec,
            category=row.category,
            description=f"int{bits} quantization of version {row.version}",
            tags=["quantized"],
            run_kind="quantize",
            run_config={"source_version": row.version, "bits": bits, "evaluated_on": evaluated_on},
        )
        out = {**report.to_dict(), "evaluated_on": evaluated_on}
        metrics = {
            k: v for k, v in quantized.metrics.items() if k not in ("accuracy", "val_accuracy")
        }
        metrics["quantization"] = out
        # Held-out data measures val_accuracy; the stored training sample only accuracy.
        metrics["val_accuracy" if data is not None else "accuracy"] = out.get("accuracy_after")
        registry.finish_version(
            new_row, weights=quantized.to_bytes(), metrics=metrics, status="quantized"
        )
        if report.evaluations is not None and data is not None:
            # Both measurements are stored, so the two versions compare side by side.
            digest = data_hash(data)
            for r, ev in zip((row, new_row), report.evaluations, strict=True):
                evaluation_store.save(
                    r, ev, data_hash=digest, data_name=str(data), backend=self.backend
                )
        return {"name": row.name, "source_version": row.version, "version": new_row.version, **out}

    def models(self) -> list[dict[str, Any]]:
        """One line per model name: newest version, champion and its measured accuracy."""
        out = []
        names = [r[0] for r in m.NeuralModel.select(m.NeuralModel.name).distinct().tuples()]
        for name in sorted(names):
            versions = registry.versions(name)
            champion = next((v for v in versions if "champion" in v["aliases"]), None)
            out.append(
                {
                    "name": name,
                    "versions": len(versions),
                    "latest": versions[-1]["version"],
                    "latest_status": versions[-1]["status"],
                    "champion": champion["version"] if champion else None,
                    "val_accuracy": champion["val_accuracy"] if champion else None,
                    "val_rows": champion["val_rows"] if champion else None,
                }
            )
        return out

    # -- the catalog -----------------------------------------------------------------

    def catalog(self) -> list[dict[str, Any]]:
        """The 27 catalog models in catalog order: recipe, whether the data to train
        them is there now (and why not), and the champion's measured accuracy."""
        from workbench.neural import catalog as cat

        out = []
        with cat.shared_reads():  # each source table read once, not per recipe
            for entry in cat.ENTRIES:
                recipe = entry.recipe
                rows = recipe.count()
                reason = None
                try:
                    cat.build_records(entry)
                except ValueError as exc:
                    reason = str(exc)
                champion = registry.alias_target(entry.name, registry.CHAMPION)
                out.append(
                    {
                        "name": entry.name,
                        "category": entry.category,
                        "purpose": entry.purpose,
                        "use_case": entry.use_case,
                        "source": recipe.source,
                        "recipe": recipe.description,
                        "spec": entry.spec,
                        "source_rows": rows,
                        "trainable": reason is None,
                        "reason": reason,
                        "version": champion.version if champion else None,
                        "val_accuracy": champion.val_accuracy if champion else None,
                        "val_rows": _val_rows(champion),
                        "status": champion.status if champion else "untrained",
                    }
                )
        return out

    def train_catalog(
        self,
        name: str,
        epochs: int | None = None,
        backend: str | None = None,
        on_epoch: Callable[[EpochRecord], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
        on_start: Callable[[dict[str, Any]], None] | None = None,
        overrides: Mapping[str, Any] | None = None,
        folds: int = selection.FOLDS,
        grid: Sequence[selection.Candidate] = selection.GRID,
        embedder: str | None = None,
    ) -> dict[str, Any]:
        """Build a catalog model's training file from its source and train it (a text
        model: the recipe `folds`-fold CV over `grid` chooses on its training split;
        a model2vec `embedder` offers its sentence vectors as one more block)."""
        from workbench.neural import catalog as cat

        entry = cat.get(name)
        extra: dict[str, Any] = {}
        if cat.is_text_model(entry):
            records = cat.build_records(entry)
            spec, path, overrides, extra = self._text_catalog_recipe(
                entry, records, epochs=epochs, backend=backend, overrides=overrides,
                folds=folds, grid=grid, embedder=embedder,
            )  # fmt: skip
            dropped = entry.recipe.dropped(records)
        else:
            path, _rows = cat.build_training_file(entry, self.checkpoint_root / "catalog-data")
            train_records = json.loads(path.read_text(encoding="utf-8"))["trainingData"]
            spec, dropped = cat.fitted_spec(entry, train_records)
        note = cat.dropped_note(entry, dropped) if dropped else ""
        summary = self.train(
            spec,
            path,
            name=entry.name,
            epochs=epochs,
            backend=backend,
            on_epoch=on_epoch,
            should_stop=should_stop,
            on_start=on_start,
            description=f"{entry.purpose} ({note})" if note else entry.purpose,
            tags=[entry.category, "catalog"],
            overrides=overrides,
        )
        if "selection" in extra and summary["status"] == "trained":
            registry.store_run_metric(
                entry.name, summary["version"], "selection", extra["selection"]
            )
        return {**summary, "dropped_classes": dropped, "note": note or None, **extra}

    def _text_catalog_recipe(
        self,
        entry: Any,
        records: list[dict[str, Any]],
        *,
        epochs: int | None,
        backend: str | None,
        overrides: Mapping[str, Any] | None,
        folds: int = selection.FOLDS,
        grid: Sequence[selection.Candidate] = selection.GRID,
        embedder: str | None = None,
    ) -> tuple[dict[str, Any], Path, dict[str, Any], dict[str, Any]]:
        """A catalog text model's (spec, training file, overrides, extra result): the
        recipe k-fold CV on its training split chooses (features, then model), trained on
        that split, measured on the held-out one; the recipe and CV table are stored with
        the version (run metrics `selection`)."""
        from workbench.neural import catalog as cat

        field = cat.text_field(records)
        path, train_rows, held = cat.build_text_training_file(
            entry, records, self.checkpoint_root / "catalog-data"
        )
        given = {k: v for k, v in (overrides or {}).items() if v is not None}
        cv_epochs = epochs or given.get("epochs") or selection.EPOCHS
        chosen = selection.select(
            [str(r[field]) for r in train_rows],
            [str(r["label"]) for r in train_rows],
            TextFeatures(embedder=embedder_ref(embedder)),
            folds=folds,
            grid=grid,
            epochs=int(cv_epochs),
            backend=backend or self.backend,
        )
        n_classes = len({str(r["label"]) for r in train_rows})
        spec = selection.recipe_spec(chosen, n_classes, name=entry.name)
        spec.update(modelId=entry.name, category=entry.category, description=entry.purpose)
        for key in ("validation_split", "patience", "min_delta"):
            # the held-out split is fixed by the catalog and never picks an epoch
            given.pop(key, None)
        return spec, path, given, {"selection": chosen, "held_out_rows": len(held)}


STRUCTURED_SUFFIXES = (".json", ".csv", ".npz")
MAX_RAW_BYTES = 10 * 1024 * 1024


def raw_text_file(source: Any) -> bool:
    """Is `source` a path to an existing file that is not JSON, CSV or NPZ?"""
    if not isinstance(source, str | Path) or (isinstance(source, str) and "\n" in source):
        return False
    path = Path(source)
    try:
        return path.is_file() and path.suffix.lower() not in STRUCTURED_SUFFIXES
    except OSError:
        return False


def text_records(
    fs: Any, source: Any, *, lines: bool = False, field: str | None = None
) -> list[dict[str, str]]:
    """Records for a text model from a raw file: one per file, or one per non-empty line.
    The text goes in one text field; other text fields are empty and numeric fields take
    their training mean (after scaling: zero, the neutral value)."""
    if fs.kind != "records" or not fs.hashed:
        raise ValueError("raw text input needs a model with a text field; this one takes arrays")
    field = field or fs.hashed[0]
    if field not in fs.hashed:
        raise ValueError(f"--field: {field!r} is not a text field of this model "
                         f"({', '.join(fs.hashed)})")  # fmt: skip
    path = Path(str(source))
    if not path.is_file():
        raise ValueError(f"input: no such file {path}")
    if path.stat().st_size > MAX_RAW_BYTES:
        raise ValueError(f"{path.name}: larger than {MAX_RAW_BYTES // (1024 * 1024)} MiB")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{path.name}: not UTF-8 text") from None
    texts = [line for line in text.splitlines() if line.strip()] if lines else [text]
    if not texts or not any(t.strip() for t in texts):
        raise ValueError(f"{path.name}: no text to predict on")
    means = dict(zip(fs.numeric, fs.mean or [0.0] * len(fs.numeric), strict=True))
    return [{**means, **dict.fromkeys(fs.hashed, ""), field: t} for t in texts]


def _val_rows(row: m.NeuralModel | None) -> int | None:
    """Rows behind a version's val_accuracy (from its run's stored metrics)."""
    if row is None or not row.training_run_id:
        return None
    run = m.TrainingRun.get_or_none(m.TrainingRun.id == row.training_run_id)
    return registry.rows_behind(run.metrics if run else None)["val_rows"]


def spec_name(spec: ModelSpec) -> str:
    d = spec.to_dict()
    return str(d.get("name") or d.get("modelId") or "model")


def _examples_dataset(artifact: ModelArtifact, spec: ModelSpec) -> Dataset:
    ex = artifact.examples
    if ex is None or len(ex) == 0 or ex.labels is None:
        raise ValueError("this model stores no labelled examples: pass --data FILE to evaluate")
    X = ex.codes.astype(np.float32) * ex.scales[:, None]
    labels = np.asarray(ex.labels)
    return Dataset.from_arrays(X, labels, spec, label_names=artifact.label_names, texts=ex.texts)


def to_json(obj: Any) -> str:
    return json.dumps(obj, indent=2, sort_keys=True, default=str)
