"""Continuous learning: experience buffer → curriculum → trigger → train → gates → deploy.

Two models learn from experience:

- `adaptive-coordinator` (the pattern classifier) from predictions and learned outcomes;
  its teacher is the nearest class centroid of the labelled training operations;
- `raft-manager` (which strategy leads on a task) from pipeline executions; its teacher
  re-runs the task in the sandbox with the best strategy by profile.

Buffer quality: gold entries carry a trusted label; needs-improvement entries need the
teacher's corrected target before they can train; neutral entries are kept, not trained.

A trigger assembles a JSONL batch (70% experience, 30% replay of the model's own training
data) with a manifest, writes a request file and trains in a separate process
(`python -m workbench.patterns.trainer REQUEST`), which registers a new version and
writes a result file. This process then measures candidate and champion on the held-out
split, checks the quality gates and, in one transaction, moves `champion` and marks the
batch trained, or leaves everything as it was. A training process that dies leaves its
version `interrupted`, never champion.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import random
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from workbench.fsutil import atomic_write, private_mkdir
from workbench.neural import registry
from workbench.neural.catalog import exec_leader
from workbench.neural.catalog import get as catalog_entry
from workbench.patterns import classifier
from workbench.store import leases
from workbench.store import models as m

QUALITIES = ("gold", "needs_improvement", "neutral")
PATTERN_MODEL = classifier.MODEL_NAME
STRATEGY_MODEL = "raft-manager"
MODELS = (PATTERN_MODEL, STRATEGY_MODEL)
RUN_KIND = "continuous"
MODES = ("incremental", "fresh", "ensemble")
ENSEMBLE_ALIAS = "ensemble"
GOLD_SCORE = 80.0  # on the 0-100 execution score: this good (and lint-clean) is gold
GOLD_CONFIDENCE = 0.9  # a prediction this confident is gold
WEAK_CONFIDENCE = 0.5  # below this a prediction needs improvement
TEACHER_DIM = 2048
TEACHER_MIN_MARGIN = 0.01  # the teacher's cosine margin needed to accept a correction
EXPERIENCE_SHARE = 0.7
STORE_ENV = "WORKBENCH_DB"  # how the trainer process learns which store to open


@dataclass
class LearningConfig:
    """Trigger and curriculum settings (CLI flags override them per call)."""

    threshold: int = 50  # untrained trainable entries that trigger training
    window: str | None = None  # "HH:MM-HH:MM" UTC when automatic training may run
    cooldown_s: float = 3600.0  # between training runs of one model
    batch_limit: int = 500  # experience entries per batch
    curriculum_min_entries: int = 5
    curriculum_cooldown_s: float = 600.0
    curriculum_batch: int = 20
    min_accuracy: float = 0.5  # gate: held-out accuracy of the candidate
    max_regression: float = 0.02  # gate: candidate may trail the champion by this much
    max_forgetting: float = 0.10  # gate: share of champion-correct rows the candidate loses
    timeout_s: float = 900.0  # the training process is killed after this long
    epochs: int | None = None  # None: the catalog recipe's epochs
    patience: int | None = None  # None: the recipe's early-stopping patience
    mode: str = "incremental"

    def check(self) -> LearningConfig:
        if self.threshold < 1:
            raise ValueError("threshold must be >= 1")
        if self.cooldown_s < 0 or self.curriculum_cooldown_s < 0:
            raise ValueError("cooldown must be >= 0 seconds")
        if self.batch_limit < 1 or self.curriculum_batch < 1:
            raise ValueError("batch limits must be >= 1")
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}")
        if self.epochs is not None and self.epochs < 1:
            raise ValueError("epochs must be >= 1")
        parse_window(self.window)
        return self


def parse_window(text: str | None) -> tuple[dt.time, dt.time] | None:
    """'02:00-06:00' → (start, end) UTC; a window may wrap midnight ('22:00-02:00')."""
    if text is None or text == "":
        return None
    try:
        start, end = (dt.time.fromisoformat(part.strip()) for part in text.split("-"))
    except ValueError:
        raise ValueError(f"training window {text!r}: expected HH:MM-HH:MM (UTC)") from None
    if start == end:
        raise ValueError(f"training window {text!r}: start and end are the same")
    return start, end


def in_window(window: str | None, now: dt.datetime) -> bool:
    bounds = parse_window(window)
    if bounds is None:
        return True
    start, end = bounds
    t = now.time()
    return start <= t < end if start < end else (t >= start or t < end)


# ------------------------------------------------------------------------ targets


def _task_input(task: str, meta: Mapping[str, m.Task]) -> dict[str, str]:
    t = meta.get(task)
    return {
        "task": task,
        "task_kind": t.kind if t else "",
        "complexity": t.complexity if t else "",
        "description": t.description if t else "",
    }


def pools(model: str) -> tuple[list[dict], list[dict]]:
    """(replay pool, held-out) training records of a model, disjoint and deterministic."""
    if model == PATTERN_MODEL:
        return classifier.labelled_split()
    if model == STRATEGY_MODEL:
        replay, held = [], []
        for record in exec_leader():
            (held if classifier.is_held_out(record["task"]) else replay).append(record)
        return replay, held
    raise ValueError(f"continuous learning trains {' or '.join(MODELS)}, not {model!r}")


# Keys an entry's input carries that say where it came from, not what it is: never features.
PROVENANCE_KEYS = ("strategy", "agent_session")


def training_record(entry: m.ExperienceBuffer) -> dict[str, Any]:
    data = json.loads(entry.input)
    for key in PROVENANCE_KEYS:
        data.pop(key, None)
    return {**data, "label": entry.label}


def _features_only(record: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k != "label"}


# ------------------------------------------------------------------------ the buffer


def add_entry(
    model: str,
    source: str,
    input: Mapping[str, Any],
    output: Mapping[str, Any],
    quality: str,
    label: str | None,
    source_ref: str | None,
    now: dt.datetime,
) -> bool:
    """Append one experience; a source_ref already buffered is ignored (returns False).
    An experience that is a held-out example is kept neutral: training on it would
    inflate the accuracy the gates measure."""
    if quality not in QUALITIES:
        raise ValueError(f"quality must be one of {', '.join(QUALITIES)}")
    if held_out_example(model, input):
        quality, label = "neutral", None
        output = {**output, "held_out": True}
    inserted = (
        m.ExperienceBuffer.insert(
            target_model=model,
            source=source,
            source_ref=source_ref,
            input=json.dumps(dict(input), sort_keys=True),
            output=json.dumps(dict(output), sort_keys=True, default=str),
            quality=quality,
            label=label,
            trained=False,
            created=now,
        )
        .on_conflict_ignore()
        .execute()
    )
    return bool(inserted)


def held_out_example(model: str, input: Mapping[str, Any]) -> bool:
    """Is this input part of the model's held-out split (see `pools`)?"""
    if model == PATTERN_MODEL:
        text = str(input.get("operation", ""))
        return classifier.is_held_out(text) and (
            m.LabelledOperation.select().where(m.LabelledOperation.text == text).exists()
        )
    if model == STRATEGY_MODEL:
        return classifier.is_held_out(str(input.get("task", "")))
    return False


def execution_quality(status: str, lint_ok: bool, score: float) -> str:
    if status == "passed" and lint_ok and score >= GOLD_SCORE:
        return "gold"
    if status in ("failed", "timeout", "crash", "error"):
        return "needs_improvement"
    return "neutral"


def prediction_quality(confidence: float) -> str:
    if confidence >= GOLD_CONFIDENCE:
        return "gold"
    if confidence < WEAK_CONFIDENCE:
        return "needs_improvement"
    return "neutral"


def unbuffered_executions() -> list[m.TaskExecution]:
    seen = {
        int(ref.split(":", 1)[1])
        for (ref,) in m.ExperienceBuffer.select(m.ExperienceBuffer.source_ref)
        .where(m.ExperienceBuffer.source_ref.startswith("execution:"))
        .tuples()
    }
    rows = m.TaskExecution.select().order_by(m.TaskExecution.id)
    return [e for e in rows if e.id not in seen]


def buffer_counts() -> dict[str, dict[str, Any]]:
    """Per model: entries by quality, trainable-untrained, corrected and trained counts."""
    out: dict[str, dict[str, Any]] = {}
    for model in MODELS:
        rows = m.ExperienceBuffer.select().where(m.ExperienceBuffer.target_model == model)
        by_quality = Counter(r.quality for r in rows)
        out[model] = {
            "total": len(rows),
            **{q: by_quality.get(q, 0) for q in QUALITIES},
            "corrected": sum(1 for r in rows if r.corrected),
            "trained": sum(1 for r in rows if r.trained),
            "untrained": trainable_query(model).count(),
            "awaiting_teacher": needs_teacher_query(model).count(),
        }
    return out


def trainable_query(model: str):
    """Untrained entries with a trusted label: gold ones and corrected ones."""
    E = m.ExperienceBuffer
    return (
        E.select()
        .where(
            (E.target_model == model)
            & (E.trained == False)  # noqa: E712 (peewee expression)
            & E.label.is_null(False)
            & ((E.quality == "gold") | E.corrected.is_null(False))
        )
        .order_by(E.id)
    )


def needs_teacher_query(model: str):
    E = m.ExperienceBuffer
    return (
        E.select()
        .where(
            (E.target_model == model)
            & (E.quality == "needs_improvement")
            & E.corrected.is_null()
            & (E.trained == False)  # noqa: E712
        )
        .order_by(E.id)
    )


# ------------------------------------------------------------------------ teachers


class CentroidTeacher:
    """Nearest class centroid of the labelled training operations (cosine over 2048-d
    hashed word and character features). Measured on the held-out split it beats the
    small MLP the catalog recipe trains; each curriculum run records both figures and
    runs only while the teacher is the stronger one."""

    name = "centroid-labelled-operations"

    def __init__(self) -> None:
        from workbench.memory.embedder import HashingEmbedder

        self.embedder = HashingEmbedder(dim=TEACHER_DIM)
        train, self.held = classifier.labelled_split()
        self.labels = sorted({r["label"] for r in train})
        vectors = self.embedder.embed([r["operation"] for r in train]).astype(np.float64)
        rows = np.array([r["label"] for r in train])
        centroids = np.stack([vectors[rows == label].mean(axis=0) for label in self.labels])
        norms = np.maximum(np.linalg.norm(centroids, axis=1, keepdims=True), 1e-12)
        self.centroids = centroids / norms

    def vote(self, text: str) -> tuple[str | None, float]:
        """(label, margin of the best centroid's cosine over the runner-up)."""
        sims = self.centroids @ self.embedder.embed([text]).astype(np.float64)[0]
        order = np.argsort(-sims, kind="stable")
        if sims[order[0]] <= 0:
            return None, 0.0
        return self.labels[order[0]], float(sims[order[0]] - sims[order[1]])

    def held_out_accuracy(self) -> float | None:
        return classifier.accuracy([self.vote(r["operation"])[0] for r in self.held], self.held)

    def correct(self, entry: m.ExperienceBuffer) -> tuple[str | None, dict[str, Any]]:
        label, margin = self.vote(json.loads(entry.input)["operation"])
        if label is None or margin < TEACHER_MIN_MARGIN:
            return None, {"error": f"teacher unsure (margin {margin:.3f} < {TEACHER_MIN_MARGIN})"}
        return label, {"pattern": label, "margin": round(margin, 4), "teacher": self.name}


class BestStrategyTeacher:
    """Re-runs the task in the sandbox with the best strategy by profile (success rate,
    then average score); a passing re-run is the corrected target."""

    name = "best-strategy"

    def __init__(self) -> None:
        profiles = list(m.StrategyProfile.select())
        if not profiles:
            raise ValueError("no strategy profiles yet: run `workbench pipeline run` first")
        best = max(profiles, key=lambda p: (p.success_rate, p.avg_score, p.strategy))
        self.strategy = best.strategy
        self.name = f"best-strategy:{best.strategy}"

    def held_out_accuracy(self) -> float | None:
        return None

    def correct(self, entry: m.ExperienceBuffer) -> tuple[str | None, dict[str, Any]]:
        from workbench.pipeline import scoring
        from workbench.pipeline.sandbox import run_sandboxed
        from workbench.pipeline.strategies import StrategyRegistry
        from workbench.pipeline.tasks import load_task

        name = json.loads(entry.input)["task"]
        row = m.Task.get_or_none(m.Task.name == name)
        if row is None:
            return None, {"error": f"task {name!r} is not in the task bank"}
        try:
            task = load_task(row.path)
            source = StrategyRegistry().apply(self.strategy, task.source())
        except (ValueError, OSError) as exc:
            return None, {"error": f"cannot load {name}: {exc}"}
        result = run_sandboxed(task, self.strategy, source)
        score = scoring.score(
            result.tests_passed,
            result.tests_total,
            result.lint_errors,
            result.exec_ms,
            task.timeout_s,
            result.status,
        )
        outcome = {
            "strategy": self.strategy,
            "status": result.status,
            "score": round(score, 4),
            "exec_ms": round(result.exec_ms, 1),
            "teacher": self.name,
        }
        if result.status != "passed":
            return None, {**outcome, "error": result.reason or result.status}
        return self.strategy, outcome


def teacher_for(model: str):
    return CentroidTeacher() if model == PATTERN_MODEL else BestStrategyTeacher()


# ------------------------------------------------------------------------ the loop


@dataclass
class ContinuousLearning:
    db_path: Path
    neural: Any  # workbench.neural.service.NeuralService
    clock: Callable[[], dt.datetime] = m.utcnow
    config: LearningConfig = field(default_factory=LearningConfig)
    busy_timeout_ms: int = 5000
    store_target: str | Path | None = None  # SQLite path or PostgreSQL URL; else db_path

    @property
    def work_dir(self) -> Path:
        return self.db_path.parent / f"{self.db_path.stem}-learning"

    # -- curriculum ------------------------------------------------------------------

    def curriculum(
        self, model: str = PATTERN_MODEL, force: bool = False, limit: int | None = None
    ) -> dict[str, Any]:
        """Correct needs-improvement entries with the model's teacher (gated)."""
        cfg = self.config.check()
        pools(model)  # validates the name
        pending = needs_teacher_query(model)
        waiting = pending.count()
        now = self.clock()
        last = (
            m.CurriculumRun.select()
            .where(m.CurriculumRun.target_model == model)
            .order_by(m.CurriculumRun.id.desc())
            .first()
        )
        reasons = []
        if waiting < (1 if force else cfg.curriculum_min_entries):
            reasons.append(
                f"{waiting} entries await the teacher (needs >= "
                f"{1 if force else cfg.curriculum_min_entries})"
            )
        if not force and last is not None:
            since = (now - (last.finished or last.started)).total_seconds()
            if since < cfg.curriculum_cooldown_s:
                reasons.append(f"cooldown: {cfg.curriculum_cooldown_s - since:.0f} s left")
        if reasons:
            return {"model": model, "status": "skipped", "reasons": reasons}
        teacher = teacher_for(model)
        teacher_acc = teacher.held_out_accuracy()
        student = registry.alias_target(model, registry.CHAMPION)
        student_acc = student.val_accuracy if student is not None else None
        if teacher_acc is not None and student_acc is not None and teacher_acc <= student_acc:
            return {"model": model, "status": "skipped", "reasons": [
                f"teacher {teacher.name} ({teacher_acc:.3f} held-out) is not stronger than "
                f"the champion ({student_acc:.3f})"]}  # fmt: skip
        with m.database_proxy.atomic():
            run = m.CurriculumRun.create(
                teacher=teacher.name, target_model=model, status="running", started=now
            )
            leases.claim("curriculum_runs", run.id)
        results = []
        corrected = 0
        entries = list(pending.limit(limit or cfg.curriculum_batch))
        for entry in entries:
            label, outcome = teacher.correct(entry)
            results.append({"entry": entry.id, "label": label, **outcome})
            if label is not None:
                corrected += 1
                entry.label = label
                entry.corrected = json.dumps(outcome, sort_keys=True)
                entry.curriculum_run_id = run.id
                entry.save()
        details = {
            "results": results,
            "teacher_held_out_accuracy": teacher_acc,
            "student_held_out_accuracy": student_acc,
        }
        run.entries, run.corrected, run.status = len(entries), corrected, "completed"
        run.details = json.dumps(details, sort_keys=True)
        run.finished = self.clock()
        run.save()
        return {"model": model, "status": "completed", **curriculum_dict(run)}

    # -- trigger ---------------------------------------------------------------------

    def conditions(self, model: str, now: dt.datetime | None = None) -> dict[str, Any]:
        """Whether the trigger would fire now, and every reason it would not."""
        cfg = self.config.check()
        now = now or self.clock()
        untrained = trainable_query(model).count()
        last = last_run(model)
        cooldown_left = 0.0
        if last is not None:
            since = (now - (last.finished or last.started)).total_seconds()
            cooldown_left = max(0.0, cfg.cooldown_s - since)
        window_open = in_window(cfg.window, now)
        reasons = []
        if untrained < cfg.threshold:
            reasons.append(f"{untrained} untrained entries (threshold {cfg.threshold})")
        if cooldown_left > 0:
            reasons.append(f"cooldown: {cooldown_left:.0f} s left")
        if not window_open:
            reasons.append(f"outside the training window {cfg.window} UTC")
        return {
            "model": model,
            "untrained": untrained,
            "threshold": cfg.threshold,
            "cooldown_left_s": round(cooldown_left, 1),
            "window": cfg.window,
            "window_open": window_open,
            "ready": not reasons,
            "reasons": reasons,
        }

    def assemble_batch(self, model: str, run_id: int, out_dir: Path) -> dict[str, Any]:
        """Write batch.jsonl (70% experience, 30% replay), heldout.jsonl, manifest.json."""
        cfg = self.config
        entries = list(trainable_query(model).limit(cfg.batch_limit))
        if not entries:
            raise ValueError(f"no trainable experience for {model} (gold or corrected entries)")
        replay_pool, held = pools(model)
        if len(held) < 5:
            raise ValueError(f"{model}: the held-out split has {len(held)} rows (needs >= 5)")
        n_replay = round(len(entries) * (1 - EXPERIENCE_SHARE) / EXPERIENCE_SHARE)
        rng = random.Random(run_id)
        replay = (
            rng.sample(replay_pool, n_replay)
            if n_replay <= len(replay_pool)
            else [rng.choice(replay_pool) for _ in range(n_replay)]
            if replay_pool
            else []
        )
        # every class must appear, or the batch could not train the model's output layer
        present = {e.label for e in entries} | {r["label"] for r in replay}
        shuffled = rng.sample(replay_pool, len(replay_pool))
        cover = []
        for label in catalog_entry(model).recipe.classes:
            if label not in present:
                cover += [r for r in shuffled if r["label"] == label][:1]
        replay += cover
        lines = [
            {**training_record(e), "origin": "corrected" if e.corrected else "gold", "entry": e.id}
            for e in entries
        ] + [{**r, "origin": "replay"} for r in replay]
        private_mkdir(out_dir)  # the batch holds experience-buffer rows
        files = {"batch": out_dir / "batch.jsonl", "held_out": out_dir / "heldout.jsonl"}
        for path, rows in ((files["batch"], lines), (files["held_out"], held)):
            with atomic_write(path, "w", encoding="utf-8") as fh:
                for row in rows:
                    fh.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
        origins = Counter(line["origin"] for line in lines)
        manifest = {
            "batch_id": run_id,
            "model": model,
            "created": self.clock().isoformat(timespec="seconds"),
            "experience": len(entries),
            "gold": origins.get("gold", 0),
            "corrected": origins.get("corrected", 0),
            "replay": len(replay),
            "class_cover": len(cover),
            "held_out": len(held),
            "split": {"experience": EXPERIENCE_SHARE, "replay": round(1 - EXPERIENCE_SHARE, 2)},
            "entry_ids": [e.id for e in entries],
            "files": {k: {"path": p.name, "sha256": _sha256(p)} for k, p in files.items()},
        }
        with atomic_write(out_dir / "manifest.json", "w", encoding="utf-8") as fh:
            json.dump(manifest, fh, indent=1, sort_keys=True)
        return manifest

    def trigger(
        self,
        model: str = PATTERN_MODEL,
        force: bool = False,
        on_spawn: Callable[[int], None] | None = None,
    ) -> dict[str, Any]:
        """Train when the conditions hold (or `force`), gate, deploy or keep the champion."""
        cfg = self.config.check()
        pools(model)
        state = self.conditions(model)
        if not state["ready"] and not force:
            return {
                "model": model,
                "status": "skipped",
                "deployed": False,
                "reasons": state["reasons"],
            }
        if not trainable_query(model).exists():
            raise ValueError(f"no trainable experience for {model} (gold or corrected entries)")
        champion = registry.alias_target(model, registry.CHAMPION)
        if champion is None:
            hint = (
                "`workbench patterns train`"
                if model == PATTERN_MODEL
                else (f"`workbench neural train --catalog {model}`")
            )
            raise ValueError(f"{model} has no deployed version to improve: train it first ({hint})")
        self._settle_running(model)
        started = self.clock()
        run = m.TrainingRun.create(
            model_name=model,
            kind=RUN_KIND,
            status="running",
            started=started,
            config=json.dumps(
                {
                    "mode": cfg.mode,
                    "forced": force,
                    "conditions": state,
                    "config": asdict(cfg),
                    "champion_version": champion.version,
                },
                sort_keys=True,
                default=str,
            ),
        )
        out_dir = self.work_dir / f"run-{run.id}"
        try:
            manifest = self.assemble_batch(model, run.id, out_dir)
        except ValueError as exc:
            _finish_run(run, "failed", {"error": str(exc), "deployed": False}, self.clock())
            raise
        config = json.loads(run.config)
        config["batch_dir"] = str(out_dir)
        config["manifest"] = {k: v for k, v in manifest.items() if k != "entry_ids"}
        run.config = json.dumps(config, sort_keys=True, default=str)
        run.save()
        outcome = self._train_in_child(model, champion, manifest, out_dir, run, on_spawn)
        if outcome.get("status") != "trained":
            metrics = {"deployed": False, "previous_version": champion.version, **outcome}
            _finish_run(run, "failed", metrics, self.clock())
            return run_dict(run)
        version = int(outcome["version"])
        chosen = registry.run_metric(champion, "selection")
        if chosen is not None and chosen.get("text_features") is not None:
            # the candidate trained the champion's CV-chosen recipe: it carries that choice
            origin = chosen.get("from_version", champion.version)
            registry.store_run_metric(
                model, version, "selection", {**chosen, "from_version": origin}
            )
        gates, measured = self.evaluate(model, champion.version, version)
        passed = all(g["passed"] for g in gates)
        metrics = {
            "deployed": passed,
            "previous_version": champion.version,
            "candidate_version": version,
            "gates": gates,
            **measured,
            "training": outcome,
        }
        if passed:
            self._deploy(model, version, champion.version, manifest["entry_ids"], run, metrics)
        else:
            _finish_run(run, "rejected", metrics, self.clock())
        return run_dict(m.TrainingRun.get_by_id(run.id))

    def _train_in_child(self, model, champion, manifest, out_dir, run, on_spawn) -> dict:
        cfg = self.config
        spec = json.loads(json.dumps(catalog_entry(model).spec))
        stored = json.loads(champion.architecture or "{}")
        if isinstance(stored.get("metadata"), dict) and "text_features" in stored["metadata"]:
            # the champion's recipe was chosen by cross-validation: the candidate trains
            # the same one (its IDF refitted on the batch's training rows)
            spec = stored
        if cfg.epochs is not None:
            spec["training"]["epochs"] = cfg.epochs
        if cfg.patience is not None and spec["training"].get("early_stopping"):
            spec["training"]["early_stopping"]["patience"] = cfg.patience
        result_path = out_dir / "result.json"
        request = {
            "busy_timeout_ms": self.busy_timeout_ms,
            "model": model,
            "spec": spec,
            "batch": str(out_dir / "batch.jsonl"),
            "held_out": str(out_dir / "heldout.jsonl"),
            "init_from": None if cfg.mode == "fresh" else f"{model}@{champion.version}",
            "checkpoint_root": str(self.neural.checkpoint_root),
            "backend": self.neural.backend,
            "result": str(result_path),
            "run_id": run.id,
            "description": f"continuous learning run {run.id} ({cfg.mode}, "
            f"{manifest['experience']} experience + {manifest['replay']} replay)",
        }
        request_path = out_dir / "request.json"
        with atomic_write(request_path, "w", encoding="utf-8") as fh:
            json.dump(request, fh, indent=1, sort_keys=True)
        # the store reaches the trainer through its environment, never the request file
        # (a PostgreSQL URL may carry a password)
        target = self.store_target if self.store_target is not None else self.db_path
        env = {**os.environ, STORE_ENV: str(target)}
        t0 = time.monotonic()
        with open(out_dir / "trainer.log", "wb") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "workbench.patterns.trainer", str(request_path)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                env=env,
            )
            config = json.loads(run.config)
            config["pid"] = proc.pid
            run.config = json.dumps(config, sort_keys=True, default=str)
            run.save()
            if on_spawn is not None:
                on_spawn(proc.pid)
            try:
                code = proc.wait(timeout=cfg.timeout_s)
            except subprocess.TimeoutExpired:
                proc.kill()
                code = proc.wait()
        elapsed = round(time.monotonic() - t0, 3)
        result = None
        if result_path.is_file():
            try:
                result = json.loads(result_path.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError):
                result = None
        if result is None or result.get("status") != "trained":
            reason = (result or {}).get("error") or _exit_text(code)
            self._abandon_orphans(model, champion.version, reason)
            return {
                "status": "failed",
                "error": f"training process: {reason}",
                "exit_code": code,
                "elapsed_s": elapsed,
            }
        return {**result, "exit_code": code, "elapsed_s": elapsed}

    def _settle_running(self, model: str) -> None:
        """One training at a time: refuse while a trainer lives; a run whose trainer is
        gone (its parent exited mid-run) is closed as failed, its version interrupted."""
        for run in m.TrainingRun.select().where(
            (m.TrainingRun.kind == RUN_KIND)
            & (m.TrainingRun.model_name == model)
            & (m.TrainingRun.status == "running")
        ):
            config = json.loads(run.config or "{}")
            pid = config.get("pid")
            if isinstance(pid, int) and _alive(pid):
                raise ValueError(f"{model}: training run {run.id} is still going (pid {pid})")
            previous = config.get("champion_version")
            reason = "its training process is gone (the run was left unfinished)"
            champion = registry.alias_target(model, registry.CHAMPION)
            self._abandon_orphans(model, previous or (champion.version if champion else 0), reason)
            _finish_run(run, "failed", {"deployed": False, "error": reason}, self.clock())

    @staticmethod
    def _abandon_orphans(model: str, after_version: int, reason: str) -> None:
        """Versions the dead child left half-made are marked interrupted, never served."""
        for row in m.NeuralModel.select().where(
            (m.NeuralModel.name == model)
            & (m.NeuralModel.version > after_version)
            & (m.NeuralModel.status == "training")
        ):
            registry.abandon_version(row, "interrupted", reason)

    def evaluate(self, model: str, champion_version: int, candidate_version: int):
        """Gates on the held-out split: accuracy floor, no regression, no forgetting.
        Every figure comes from the neural evaluation function on the same rows."""
        cfg = self.config
        _replay, held = pools(model)
        refs = [f"{model}@{candidate_version}", f"{model}@{champion_version}"]
        cand_ev, champ_ev = (
            self.neural.evaluate_records(ref, held, "label", predictions=True) for ref in refs
        )
        truth = [r["label"] for r in held]
        cand_ok = [p == t for p, t in zip(cand_ev["predictions"], truth, strict=True)]
        champ_ok = [p == t for p, t in zip(champ_ev["predictions"], truth, strict=True)]
        cand_acc = cand_ev["metrics"]["accuracy"]
        champ_acc = champ_ev["metrics"]["accuracy"]
        forgotten = sum(1 for a, b in zip(champ_ok, cand_ok, strict=True) if a and not b)
        forgetting = forgotten / max(1, sum(champ_ok))
        measured = {
            "held_out": cand_ev["evaluated"],
            "candidate_accuracy": round(cand_acc, 4),
            "champion_accuracy": round(champ_acc, 4),
            "forgetting": round(forgetting, 4),
        }
        score = cand_acc
        if cfg.mode == "ensemble":
            score = self.neural.evaluate_ensemble(refs, held, "label")["metrics"]["accuracy"]
            measured["ensemble_accuracy"] = round(score, 4)
        gates = [
            _gate("held_out_accuracy", score, ">=", cfg.min_accuracy),
            _gate("regression", score - champ_acc, ">=", -cfg.max_regression),
            _gate("forgetting", forgetting, "<=", cfg.max_forgetting),
        ]
        if model == PATTERN_MODEL:
            # the same rule that picks who serves: a candidate the keyword fallback beats
            # (or ties) on these rows would not serve, so it is not deployed
            fb_acc = classifier.keyword_accuracy(held)
            measured["fallback_accuracy"] = fb_acc
            gates.append(
                {
                    "name": "beats_fallback",
                    "value": round(score - (fb_acc or 0.0), 4),
                    "op": ">",
                    "threshold": 0.0,
                    "passed": classifier.served_source(score, fb_acc) == "model",
                }
            )
        return gates, measured

    def _deploy(self, model, version, previous, entry_ids, run, metrics) -> None:
        """One transaction: champion moves, the batch is marked trained, the run records it."""
        with m.database_proxy.atomic():
            registry.set_alias(model, registry.CHAMPION, version)
            if self.config.mode == "ensemble":
                registry.set_alias(model, ENSEMBLE_ALIAS, previous)
            else:
                m.ModelAlias.delete().where(
                    (m.ModelAlias.name == model) & (m.ModelAlias.alias == ENSEMBLE_ALIAS)
                ).execute()
            for start in range(0, len(entry_ids), 500):
                m.ExperienceBuffer.update(trained=True, training_run_id=run.id).where(
                    m.ExperienceBuffer.id.in_(entry_ids[start : start + 500])
                ).execute()
            run.model_version = version
            _finish_run(run, "deployed", metrics, self.clock())

    def rollback(self, model: str = PATTERN_MODEL) -> dict[str, Any]:
        """Serve the version the current champion replaced (recorded as a run)."""
        pools(model)
        champion = registry.alias_target(model, registry.CHAMPION)
        if champion is None:
            raise ValueError(f"{model} has no deployed version to roll back")
        deployed = (
            m.TrainingRun.select()
            .where(
                (m.TrainingRun.kind == RUN_KIND)
                & (m.TrainingRun.model_name == model)
                & (m.TrainingRun.status == "deployed")
                & (m.TrainingRun.model_version == champion.version)
            )
            .order_by(m.TrainingRun.id.desc())
            .first()
        )
        target = json.loads(deployed.metrics).get("previous_version") if deployed else None
        if target is None:
            earlier = (
                m.NeuralModel.select()
                .where(
                    (m.NeuralModel.name == model)
                    & (m.NeuralModel.version < champion.version)
                    & (m.NeuralModel.status.in_(registry.FINAL_STATUSES))
                )
                .order_by(m.NeuralModel.version.desc())
                .first()
            )
            target = earlier.version if earlier else None
        if target is None:
            raise ValueError(f"{model} v{champion.version} has no earlier version to roll back to")
        now = self.clock()
        with m.database_proxy.atomic():
            registry.set_alias(model, registry.CHAMPION, int(target))
            m.ModelAlias.delete().where(
                (m.ModelAlias.name == model) & (m.ModelAlias.alias == ENSEMBLE_ALIAS)
            ).execute()
            run = m.TrainingRun.create(
                model_name=model, kind=RUN_KIND, status="rolled_back",
                model_version=int(target), started=now, finished=now,
                config=json.dumps({"mode": "rollback"}),
                metrics=json.dumps({"deployed": True, "previous_version": champion.version}),
            )  # fmt: skip
        return run_dict(run)

    # -- reading ---------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        now = self.clock()
        return {
            "buffer": buffer_counts(),
            "unbuffered_executions": len(unbuffered_executions()),
            "next_trigger": {model: self.conditions(model, now) for model in MODELS},
            "champions": {model: _champion(model) for model in MODELS},
            "training_runs": runs(limit=10),
            "curriculum_runs": [
                curriculum_dict(r)
                for r in m.CurriculumRun.select().order_by(m.CurriculumRun.id.desc()).limit(10)
            ],
            "config": asdict(self.config),
        }


def _gate(name: str, value: float, op: str, threshold: float) -> dict[str, Any]:
    passed = value >= threshold if op == ">=" else value <= threshold
    return {
        "name": name,
        "value": round(value, 4),
        "op": op,
        "threshold": threshold,
        "passed": bool(passed),
    }


def _champion(model: str) -> dict[str, Any] | None:
    row = registry.alias_target(model, registry.CHAMPION)
    if row is None:
        return None
    partner = registry.alias_target(model, ENSEMBLE_ALIAS)
    return {
        "version": row.version,
        "val_accuracy": row.val_accuracy,
        "ensemble_with": partner.version if partner else None,
    }


def _finish_run(run: m.TrainingRun, status: str, metrics: Mapping, now: dt.datetime) -> None:
    run.status = status
    run.metrics = json.dumps(dict(metrics), sort_keys=True, default=str)
    run.finished = now
    run.save()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _exit_text(code: int | None) -> str:
    if code is None:
        return "did not finish"
    if code < 0:
        return f"killed by signal {-code}"
    return f"exited with code {code} and no result"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def last_run(model: str) -> m.TrainingRun | None:
    """The newest training attempt (a rollback is not one: it starts no cooldown)."""
    return (
        m.TrainingRun.select()
        .where(
            (m.TrainingRun.kind == RUN_KIND)
            & (m.TrainingRun.model_name == model)
            & (m.TrainingRun.status != "rolled_back")
        )
        .order_by(m.TrainingRun.id.desc())
        .first()
    )


def runs(limit: int = 10) -> list[dict[str, Any]]:
    query = (
        m.TrainingRun.select()
        .where(m.TrainingRun.kind == RUN_KIND)
        .order_by(m.TrainingRun.id.desc())
        .limit(limit)
    )
    return [run_dict(r) for r in query]


def run_dict(r: m.TrainingRun) -> dict[str, Any]:
    metrics = json.loads(r.metrics or "{}")
    config = json.loads(r.config or "{}")
    return {
        "id": r.id,
        "model": r.model_name,
        "status": r.status,
        "deployed": bool(metrics.get("deployed", False)),
        "version": r.model_version,
        "previous_version": metrics.get("previous_version"),
        "candidate_version": metrics.get("candidate_version"),
        "gates": metrics.get("gates", []),
        "candidate_accuracy": metrics.get("candidate_accuracy"),
        "champion_accuracy": metrics.get("champion_accuracy"),
        "error": metrics.get("error"),
        "mode": config.get("mode"),
        "forced": config.get("forced"),
        "manifest": config.get("manifest"),
        "started": _iso(r.started),
        "finished": _iso(r.finished),
    }


def curriculum_dict(r: m.CurriculumRun) -> dict[str, Any]:
    details = json.loads(r.details or "{}")
    return {
        "id": r.id,
        "model": r.target_model,
        "teacher": r.teacher,
        "entries": r.entries,
        "corrected": r.corrected,
        "status": r.status,
        "teacher_held_out_accuracy": details.get("teacher_held_out_accuracy"),
        "results": details.get("results", []),
        "started": _iso(r.started),
        "finished": _iso(r.finished),
    }


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat(sep=" ", timespec="seconds")
