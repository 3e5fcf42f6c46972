"""PatternsService: the one API for patterns, learnings and continuous learning.

The CLI and the Patterns pane call it through `Engine.patterns`. It classifies operations
(the trained catalog model, else the keyword fallback, always saying which), learns from
operation + outcome into pattern memory, the learning engine and the experience buffer,
analyses pipeline failures, and runs the continuous-learning loop.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import peewee

from workbench.neural import registry, selection
from workbench.patterns import (
    PATTERNS,
    calibration,
    classifier,
    continuous,
    failures,
    similarity,
    watch,
)
from workbench.patterns.learning import Interaction, LearningEngine
from workbench.store import models as m

HISTORY_KEEP = 10
SIMILAR_LIMIT = 5
SIMILAR_MIN = 0.05
RATE_EVIDENCE = 3  # outcomes a pattern needs before its success rate is compared
RATE_GAP = 0.15


def parse_outcome(raw: str | Mapping[str, Any]) -> dict[str, Any]:
    """An outcome from JSON: {"success": bool, "time_ms"?, "iterations"?, "errors"?}."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ValueError(f"outcome: not valid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(raw, Mapping):
        raise ValueError('outcome: must be a JSON object, e.g. {"success": true}')
    if not isinstance(raw.get("success"), bool):
        raise ValueError("outcome: 'success' must be true or false")
    probe = {
        "agent": "x",
        "task": "x",
        "success": raw["success"],
        **{k: raw[k] for k in ("time_ms", "iterations", "errors") if k in raw},
    }
    Interaction.parse(probe)  # the same field checks as the learning engine
    return dict(raw)


def operation_key(text: str) -> str:
    normal = " ".join(text.lower().split())
    return "op:" + hashlib.blake2b(normal.encode("utf-8"), digest_size=10).hexdigest()


class PatternsService:
    def __init__(
        self,
        db_path: Path,
        neural: Any,
        clock: Callable[[], dt.datetime] = m.utcnow,
        busy_timeout_ms: int = 5000,
        store_target: str | Path | None = None,
        memory: Any = None,
    ) -> None:
        self.neural = neural
        # the vector memory tier (workbench.memory.MemoryService) answers `similar` when given
        self.memory = memory
        self.clock = clock
        self.engine = LearningEngine(clock)
        self._serving_cache: dict[tuple, dict[str, Any]] = {}
        self.loop = continuous.ContinuousLearning(
            db_path, neural, clock=clock, busy_timeout_ms=busy_timeout_ms,
            store_target=store_target,
        )  # fmt: skip

    # -- the classifier --------------------------------------------------------------

    def serving(self) -> dict[str, Any]:
        """Who answers, by measurement: the deployed model (or ensemble) and the keyword
        fallback, both scored on the SAME held-out rows (the model through the neural
        evaluation function); the one that measured better serves. Cached per champion,
        partner and held-out rows, so classifying does not re-evaluate every call."""
        name = classifier.MODEL_NAME
        champion = registry.alias_target(name, registry.CHAMPION)
        partner = registry.alias_target(name, continuous.ENSEMBLE_ALIAS) if champion else None
        _train, held = classifier.labelled_split()
        digest = hashlib.blake2b(
            json.dumps(held, sort_keys=True).encode("utf-8"), digest_size=10
        ).hexdigest()
        key = (
            champion.version if champion else None,
            partner.version if partner else None,
            digest,
        )
        cached = self._serving_cache.get(key)
        if cached is not None:
            return dict(cached)
        fb_acc = classifier.keyword_accuracy(held)
        model_acc, error = None, None
        kind = "ensemble" if partner is not None else "model"
        if champion is not None and held:
            refs = [f"{name}@{champion.version}"]
            try:
                if partner is not None:
                    refs.append(f"{name}@{partner.version}")
                    ev = self.neural.evaluate_ensemble(refs, held, "label")
                else:
                    ev = self.neural.evaluate_records(refs[0], held, "label")
                acc = ev["metrics"]["accuracy"]
                model_acc = None if acc is None else round(float(acc), 4)
            except (ValueError, OSError) as exc:  # unreadable artifact: fallback serves
                error = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        source = classifier.served_source(model_acc, fb_acc)
        out = {
            "source": kind if source == "model" else "fallback",
            "model_kind": kind if champion is not None else None,
            "model_accuracy": model_acc,
            "fallback_accuracy": fb_acc,
            "held_out": len(held),
            "version": champion.version if champion else None,
            "error": error,
        }
        self._serving_cache = {key: out}
        return dict(out)

    def classifier_status(self) -> dict[str, Any]:
        """The deployed classifier and its measured held-out accuracy, or `untrained`
        with the keyword fallback's accuracy on the same held-out split; `serving` says
        which of the two answers (the one that measured better on those rows)."""
        champion = registry.alias_target(classifier.MODEL_NAME, registry.CHAMPION)
        serving = self.serving()
        out: dict[str, Any] = {
            "model": classifier.MODEL_NAME,
            "fallback": classifier.fallback_accuracy(),
            "serving": serving,
        }
        if champion is None:
            return {**out, "status": "untrained", "version": None, "val_accuracy": None}
        tags = set(json.loads(champion.tags or "[]"))
        _train, held = classifier.labelled_split()
        return {
            **out,
            "status": champion.status,
            "version": champion.version,
            "val_accuracy": champion.val_accuracy,
            "calibration": model_calibration(champion),
            "selection": model_selection(champion),
            # patterns train and the continuous loop validate on the text-hash split;
            # a catalog training (Models pane) on its own seeded 20% split
            "evaluated_on": (
                f"{len(held)} held-out ops"
                if tags & {"patterns", "continuous"}
                else "its training run's validation split"
            ),
        }

    def train_classifier(
        self,
        epochs: int | None = None,
        on_epoch: Callable | None = None,
        should_stop: Callable[[], bool] | None = None,
        *,
        folds: int = selection.FOLDS,
        grid: Sequence[selection.Candidate] | None = None,
    ) -> dict[str, Any]:
        """Choose the recipe by k-fold CV on the training split (features, then linear
        softmax vs MLP over an L2/width grid), train it on the training split less its
        calibration fold, validated on the held-out one; calibrate; store the recipe and
        the CV table with the version. `epochs` overrides the recipe's epochs."""
        from workbench.neural.catalog import get

        entry = get(classifier.MODEL_NAME)
        path, n_train, n_held = classifier.write_training_file(
            self.neural.checkpoint_root / "catalog-data"
        )
        train, _held = classifier.labelled_split()
        chosen = selection.select(
            [r["operation"] for r in train],
            [r["label"] for r in train],
            classifier.text_features(),
            folds=folds,
            grid=tuple(grid) if grid is not None else selection.GRID,
            epochs=epochs or selection.EPOCHS,
            backend=self.neural.backend,
        )
        names = sorted({r["label"] for r in train})
        spec = selection.recipe_spec(chosen, len(names), name=entry.name)
        spec.update(modelId=entry.name, category=entry.category, description=entry.purpose)
        summary = self.neural.train(
            spec,
            path,
            name=entry.name,
            epochs=epochs,
            on_epoch=on_epoch,
            should_stop=should_stop,
            description=entry.purpose,
            tags=[entry.category, "catalog", "patterns"],
        )
        out = {**summary, "train_rows": n_train, "held_out_rows": n_held, "selection": chosen}
        if summary["status"] == "trained":
            registry.store_run_metric(
                classifier.MODEL_NAME, summary["version"], "selection", chosen
            )
            out["calibration"] = self.calibrate(summary["version"])
            # an explicit training deploys; the continuous loop deploys only through gates
            registry.set_alias(entry.name, registry.CHAMPION, summary["version"])
        return out

    def calibrate(self, version: int) -> dict[str, Any]:
        """Fit the version's temperature on the calibration fold of the training split
        (rows it did not train on), measure ECE on the held-out rows before and after,
        and store both with the version (its metrics JSON, key `calibration`)."""
        train, held = classifier.labelled_split()
        _fit, calib = classifier.calibration_split(train)
        if not calib or not held:
            raise ValueError("calibration: needs a calibration fold and held-out rows")
        ref = f"{classifier.MODEL_NAME}@{version}"
        names = list(self.neural.load(ref).label_names or [])
        index = {n: i for i, n in enumerate(names)}

        def probs_and_labels(records):
            preds = self.neural.predict(ref, [{"operation": r["operation"]} for r in records])
            y = np.array([index[r["label"]] for r in records], np.int64)
            return calibration.probability_matrix(preds, names), y

        p_cal, y_cal = probs_and_labels(calib)
        fitted, applied, fold_before, fold_after = calibration.fit_or_keep(p_cal, y_cal, names)
        temperature = fitted if applied else 1.0
        p_held, y_held = probs_and_labels(held)
        before, after = calibration.ece_before_after(p_held, y_held, names, temperature)
        result = {
            "temperature": temperature,
            "fitted_temperature": fitted,
            "applied": applied,
            "fold_rows": len(calib),
            "fold_ece_before": fold_before,
            "fold_ece_after": fold_after,
            "held_out": len(held),
            "ece_before": None if before is None else round(before, 4),
            "ece_after": None if after is None else round(after, 4),
        }
        registry.store_run_metric(classifier.MODEL_NAME, version, "calibration", result)
        return result

    def classify(self, operation: Mapping[str, Any] | str) -> dict[str, Any]:
        """The answer of whichever measured better on the held-out rows (`serving`);
        every answer carries both figures so nobody mistakes which one spoke."""
        text = classifier.operation_text(operation)
        serving = self.serving()
        measured = {
            "model_accuracy": serving["model_accuracy"],
            "fallback_accuracy": serving["fallback_accuracy"],
            "held_out": serving["held_out"],
        }
        champion = registry.alias_target(classifier.MODEL_NAME, registry.CHAMPION)
        if champion is None or serving["source"] == "fallback":
            return {
                **classifier.keyword_classify(text),
                "text": text,
                "version": None,
                "model_version": champion.version if champion else None,
                **measured,
            }
        name = classifier.MODEL_NAME
        partner = registry.alias_target(name, continuous.ENSEMBLE_ALIAS)
        if partner is not None:
            refs = [f"{name}@{champion.version}", f"{name}@{partner.version}"]
            p = self.neural.ensemble(refs, [{"operation": text}])[0]
            source = "ensemble"
        else:
            p = self.neural.predict(f"{name}@{champion.version}", [{"operation": text}])[0]
            source = "model"
            temperature = model_temperature(champion)
            if temperature is not None:  # versions without one predict as before
                names = list(p["probabilities"])
                scaled = calibration.scale(calibration.probability_matrix([p], names), temperature)
                probs = {n: round(float(v), 6) for n, v in zip(names, scaled[0], strict=True)}
                p = {**p, "probabilities": probs, "confidence": probs[p["prediction"]]}
        return {
            "pattern": p["prediction"],
            "confidence": p["confidence"],
            "probabilities": p["probabilities"],
            "source": source,
            "version": champion.version,
            "model_version": champion.version,
            "text": text,
            **measured,
        }

    # -- analyze and learn -----------------------------------------------------------

    def analyze(self, operation: str | Mapping[str, Any]) -> dict[str, Any]:
        """Pattern, confidence, source, similar learned operations, recommendations.
        A model prediction is buffered as experience (once per text and version)."""
        op = classifier.parse_operation(operation)
        result = self.classify(op)
        text = result["text"]
        similar = self.similar(text)
        if result["source"] != "fallback":
            quality = continuous.prediction_quality(result["confidence"])
            continuous.add_entry(
                continuous.PATTERN_MODEL,
                "prediction",
                {"operation": text},
                {
                    "pattern": result["pattern"],
                    "confidence": result["confidence"],
                    "version": result["version"],
                },
                quality,
                result["pattern"] if quality == "gold" else None,
                f"prediction:{result['version']}:{operation_key(text)}",
                self.clock(),
            )
        return {
            **result,
            "similar": similar,
            "similar_backend": self.similar_backend,
            "recommendations": self.recommendations(result, similar),
        }

    def learn(
        self,
        operation: str | Mapping[str, Any],
        outcome: str | Mapping[str, Any],
        *,
        find_similar: bool = True,
    ) -> dict[str, Any]:
        """Record an operation's outcome: pattern memory, learnings and experience.

        `find_similar=False` skips the similar-operations search (a vector-index load on a
        large store), for callers that only record, like the agent hooks at Stop."""
        op = classifier.parse_operation(operation)
        out = parse_outcome(outcome)
        text = classifier.operation_text(op)
        if "pattern" in op:
            result = {"pattern": op["pattern"], "confidence": None, "source": "given"}
        else:
            result = self.classify(text)
        pattern = result["pattern"]
        if pattern is None:
            raise ValueError(
                "operation: no keyword matched and the classifier is untrained; "
                f'say which pattern was used ("pattern": one of {", ".join(PATTERNS)})'
            )
        success = out["success"]
        now = self.clock()
        stamp = now.isoformat(sep=" ", timespec="seconds")
        key = operation_key(text)
        with m.database_proxy.atomic():
            row = m.PatternMemory.get_or_none(m.PatternMemory.key == key)
            if row is None:
                row = m.PatternMemory(key=key, type=pattern, created=now, usage_count=0)
            data = json.loads(row.data or "{}") if row.id else {}
            history = data.get("history", [])
            history.append(
                {"at": stamp, "success": success, "pattern": pattern, "time_ms": out.get("time_ms")}
            )
            row.type = pattern
            row.usage_count += 1
            row.successes += int(success)
            row.failures += int(not success)
            # Laplace: the measured success rate, pulled toward 1/2 while evidence is thin
            row.confidence = round((row.successes + 1) / (row.usage_count + 2), 4)
            row.last_used = now
            session = op.get("agent_session")  # a recorded agent session (agents/purge.py)
            sessions = sorted({*data.get("agent_sessions", []), *([session] if session else [])})
            row.data = json.dumps(
                {
                    "operation": text,
                    "outcome": "success" if success else "failure",
                    "agent": op.get("agent", ""),
                    "task": op.get("task", ""),
                    "classified_by": result["source"],
                    "history": history[-HISTORY_KEEP:],
                    **({"agent_sessions": sessions} if sessions else {}),
                },
                sort_keys=True,
            )
            row.save()
            learned = self.engine.record(
                Interaction(
                    agent=str(op.get("agent") or "workbench"),
                    task=str(op.get("task") or text),
                    success=success,
                    actions=[f"{pattern} thinking"],
                    results=out.get("results"),
                    time_ms=out.get("time_ms"),
                    iterations=out.get("iterations", 1),
                    errors=list(out.get("errors", [])),
                    ref=f"pattern_memory:{row.id}",
                    agent_session=session,
                )
            )
            continuous.add_entry(
                continuous.PATTERN_MODEL,
                "outcome",
                {"operation": text, **({"agent_session": session} if session else {})},
                {"pattern": pattern, "success": success},
                "gold" if success else "needs_improvement",
                pattern if success else None,
                f"outcome:{row.id}:{row.usage_count}",
                now,
            )
        similar = self.similar(text, exclude=row.id) if find_similar else []
        return {
            "pattern": pattern,
            "source": result["source"],
            "confidence": result["confidence"],
            "memory": pattern_dict(row),
            "learnings": learned,
            "similar": similar,
            "similar_backend": self.similar_backend,
            "recommendations": self.recommendations({**result, "pattern": pattern}, similar),
        }

    def similar(
        self, text: str, limit: int = SIMILAR_LIMIT, exclude: int | None = None
    ) -> list[dict[str, Any]]:
        """Learned operations most like `text`: a vector-memory search in the `patterns`
        namespace, or the documented fallback (similarity.py) without a memory tier."""
        if self.memory is not None:
            return self._similar_in_memory(text, limit, exclude)
        rows = [r for r in m.PatternMemory.select().order_by(m.PatternMemory.id) if r.id != exclude]
        texts = [json.loads(r.data or "{}").get("operation", "") for r in rows]
        out = []
        for index, score in similarity.rank(text, texts)[:limit]:
            if score < SIMILAR_MIN:
                break
            out.append({**pattern_dict(rows[index]), "similarity": round(score, 4)})
        return out

    @property
    def similar_backend(self) -> str:
        return similarity.MEMORY_BACKEND if self.memory is not None else similarity.BACKEND

    def _similar_in_memory(self, text: str, limit: int, exclude: int | None) -> list[dict]:
        self._index_operations()
        hits = self.memory.search(text, namespace=similarity.NAMESPACE, k=limit + 1)
        ids = [similarity.row_id(h.key) for h in hits]
        rows = {r.id: r for r in m.PatternMemory.select().where(m.PatternMemory.id.in_(ids))}
        out = []
        for hit, row_id in zip(hits, ids, strict=True):
            if row_id == exclude or row_id not in rows:
                continue
            if hit.score < SIMILAR_MIN or len(out) == limit:
                break
            out.append({**pattern_dict(rows[row_id]), "similarity": round(hit.score, 4)})
        return out

    def _index_operations(self) -> None:
        """Put every learned operation the vector tier lacks into it (one transaction)."""
        known = {
            k
            for (k,) in m.VectorMemory.select(m.VectorMemory.key)
            .where(m.VectorMemory.namespace == similarity.NAMESPACE)
            .tuples()
        }
        missing = []
        for row in m.PatternMemory.select().order_by(m.PatternMemory.id):
            key = similarity.key_of(row.id)
            operation = json.loads(row.data or "{}").get("operation", "")
            if key not in known and operation:
                missing.append((similarity.NAMESPACE, key, operation, {"pattern": row.type}))
        if missing:
            self.memory.vector.put_many(missing)

    def recommendations(self, result: Mapping[str, Any], similar: list[dict]) -> list[str]:
        """Advice derived from stored outcomes (and from where the answer came from)."""
        recs = []
        pattern = result.get("pattern")
        if result.get("source") == "fallback" and result.get("model_version") is not None:
            recs.append(
                f"answered by the keyword fallback: it measured "
                f"{_pct(result.get('fallback_accuracy'))} on {result.get('held_out')} held-out "
                f"ops against the model's {_pct(result.get('model_accuracy'))}; the model "
                "serves once it measures better (more labelled data, `patterns train`)"
            )
        elif result.get("source") == "fallback":
            recs.append(
                "answered by the keyword fallback: train the classifier "
                "(`workbench patterns train`) for a measured model"
            )
        elif result.get("confidence") is not None and result["confidence"] < 0.5:
            recs.append(
                f"low confidence {result['confidence']:.2f}: the operation reads like "
                "several patterns; state the goal more specifically"
            )
        rates = self.distribution()
        mine = rates.get(pattern) if pattern else None
        if mine is not None and mine["outcomes"] >= RATE_EVIDENCE:
            better = [
                (p, d)
                for p, d in rates.items()
                if p != pattern
                and d["outcomes"] >= RATE_EVIDENCE
                and d["success_rate"] - mine["success_rate"] >= RATE_GAP
            ]
            if better:
                p, d = max(better, key=lambda pd: (pd[1]["success_rate"], pd[0]))
                recs.append(
                    f"{p} operations succeeded {d['success_rate']:.0%} of {d['outcomes']} "
                    f"times against {mine['success_rate']:.0%} of {mine['outcomes']} for "
                    f"{pattern}: consider a {p} approach"
                )
        elif pattern is not None:
            n = mine["outcomes"] if mine else 0
            recs.append(
                f"{n} recorded outcome{'s' if n != 1 else ''} for {pattern}: record results "
                "with `workbench patterns learn` so advice can be measured"
            )
        for s in similar:
            if s["similarity"] < 0.3:
                continue
            n = s["successes"] + s["failures"]
            if s["failures"] > s["successes"]:
                recs.append(
                    f"a similar operation failed {s['failures']}/{n} times as {s['type']}: "
                    f'"{s["operation"][:60]}"'
                )
            elif s["successes"] and s["type"] != pattern:
                recs.append(
                    f"a similar operation succeeded {s['successes']}/{n} times as "
                    f'{s["type"]}: "{s["operation"][:60]}"'
                )
        return recs

    # -- reading ---------------------------------------------------------------------

    def distribution(self) -> dict[str, dict[str, Any]]:
        """Per pattern: learned operations, uses, outcomes and the measured success rate."""
        out = {}
        labelled = dict(
            m.LabelledOperation.select(
                m.LabelledOperation.pattern, peewee.fn.COUNT(m.LabelledOperation.id)
            )
            .group_by(m.LabelledOperation.pattern)
            .tuples()
        )
        for p in PATTERNS:
            rows = list(m.PatternMemory.select().where(m.PatternMemory.type == p))
            wins = sum(r.successes for r in rows)
            losses = sum(r.failures for r in rows)
            out[p] = {
                "labelled": labelled.get(p, 0),
                "operations": len(rows),
                "uses": sum(r.usage_count for r in rows),
                "successes": wins,
                "failures": losses,
                "outcomes": wins + losses,
                "success_rate": round(wins / (wins + losses), 4) if wins + losses else None,
            }
        return out

    def memory(self, limit: int = 50) -> list[dict[str, Any]]:
        order = (m.PatternMemory.last_used.desc(nulls="LAST"), m.PatternMemory.id.desc())
        query = m.PatternMemory.select().order_by(*order).limit(limit)
        return [pattern_dict(r) for r in query]

    def failures(self, min_count: int = 1) -> dict[str, Any]:
        return failures.analyze_failures(min_count)

    # -- the learning engine ---------------------------------------------------------

    def record_interaction(self, data: Mapping[str, Any]) -> list[dict[str, Any]]:
        return self.engine.record(Interaction.parse(data))

    def learnings(self, type: str | None = None, min_level: str = "low", limit: int = 100):
        return self.engine.learnings(type, min_level, limit)

    def relevant_learnings(self, task: str, agent: str | None = None, limit: int = 5):
        return self.engine.relevant(task, agent=agent, limit=limit)

    def learnings_by_type(self) -> dict[str, dict[str, int]]:
        return self.engine.by_type()

    # -- continuous learning ---------------------------------------------------------

    def sync(self) -> dict[str, int]:
        """Buffer the pipeline executions not yet seen, and learn from each of them."""
        rows = continuous.unbuffered_executions()
        if not rows:
            return {"executions": 0}
        meta = {t.name: t for t in m.Task.select()}
        with m.database_proxy.atomic():
            for e in rows:
                quality = continuous.execution_quality(e.status, e.lint_ok, e.score)
                continuous.add_entry(
                    continuous.STRATEGY_MODEL,
                    "pipeline",
                    {**continuous._task_input(e.task, meta), "strategy": e.strategy},
                    {
                        "status": e.status,
                        "score": e.score,
                        "reason": e.reason,
                        "tests_passed": e.tests_passed,
                        "tests_total": e.tests_total,
                    },
                    quality,
                    e.strategy if quality == "gold" else None,
                    f"execution:{e.id}",
                    e.created,
                )
                reason = failures.failure_reason(e.status, e.lint_ok)
                self.engine.record(
                    Interaction(
                        agent="pipeline",
                        task=e.task,
                        success=e.status == "passed",
                        actions=[f"{e.strategy} strategy"],
                        time_ms=e.exec_ms,
                        errors=[f"{reason}: {e.reason}"[:200]] if reason else [],
                        ref=f"execution:{e.id}",
                    )
                )
        return {"executions": len(rows)}

    def learn_status(self) -> dict[str, Any]:
        self.sync()
        return {**self.loop.status(), "watcher": watch.status(self.loop.clock)}

    def curriculum(
        self, model: str = continuous.PATTERN_MODEL, force: bool = False, limit: int | None = None
    ) -> dict[str, Any]:
        self.sync()
        return self.loop.curriculum(model, force=force, limit=limit)

    def rollback(self, model: str = continuous.PATTERN_MODEL) -> dict[str, Any]:
        return self.loop.rollback(model)

    def overview(self, learnings: int = 30, runs: int = 8) -> dict[str, Any]:
        """Everything the Patterns pane shows, read-only (no buffering of executions)."""
        return {
            "classifier": self.classifier_status(),
            "distribution": self.distribution(),
            "failures": self.failures(),
            "learnings_by_type": self.learnings_by_type(),
            "learnings": self.learnings(limit=learnings),
            "learning": {
                **self.loop.status(),
                "training_runs": continuous.runs(limit=runs),
                "watcher": watch.status(self.loop.clock),
            },
        }

    def watcher(
        self,
        models: Sequence[str],
        check_s: float = watch.CHECK_S,
        heartbeat_s: float = watch.HEARTBEAT_S,
        poll_s: float = watch.POLL_S,
        on_result: Callable[[str, dict[str, Any]], None] | None = None,
    ) -> watch.LearnWatcher:
        """The `learn watch` service over this store: claim it, then `run(stop_event)`."""
        return watch.LearnWatcher(
            lambda model: self.trigger(model),
            models,
            self.loop.clock,
            check_s=check_s,
            heartbeat_s=heartbeat_s,
            poll_s=poll_s,
            on_result=on_result,
        )

    def watch_status(self) -> dict[str, Any] | None:
        """The store's `learn watch` heartbeat (None if none ever ran)."""
        return watch.status(self.loop.clock)

    def trigger(
        self,
        model: str = continuous.PATTERN_MODEL,
        force: bool = False,
        on_spawn: Callable[[int], None] | None = None,
    ) -> dict[str, Any]:
        self.sync()
        return self.loop.trigger(model, force=force, on_spawn=on_spawn)


def model_selection(row: m.NeuralModel) -> dict[str, Any] | None:
    """The recipe and CV table stored with a version, or None (chosen before CV)."""
    return registry.run_metric(row, "selection")


def model_calibration(row: m.NeuralModel) -> dict[str, Any] | None:
    """The calibration stored with a version (its training run's metrics), or None."""
    if row.training_run_id is None:
        return None
    run = m.TrainingRun.get_or_none(m.TrainingRun.id == row.training_run_id)
    cal = json.loads(run.metrics or "{}").get("calibration") if run else None
    return cal if isinstance(cal, dict) else None


def model_temperature(row: m.NeuralModel) -> float | None:
    """The temperature stored with a version, or None (trained before calibration)."""
    t = (model_calibration(row) or {}).get("temperature")
    return float(t) if isinstance(t, int | float) and t > 0 else None


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def pattern_dict(r: m.PatternMemory) -> dict[str, Any]:
    data = json.loads(r.data or "{}")
    return {
        "id": r.id,
        "type": r.type,
        "operation": data.get("operation", ""),
        "usage_count": r.usage_count,
        "successes": r.successes,
        "failures": r.failures,
        "confidence": r.confidence,
        "last_used": r.last_used.isoformat(sep=" ", timespec="seconds") if r.last_used else None,
    }
