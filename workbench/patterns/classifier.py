"""Which cognitive pattern an operation needs: the catalog classifier, else keywords.

The classifier is the catalog's `adaptive-coordinator` model trained on the labelled
operations. Its accuracy is measured on a fixed held-out split (one row in five, chosen by
a hash of the text, so the split never depends on row order and new rows keep their side)
that training never sees; that measured figure is what the product shows. Until a model is
trained, a keyword matcher answers and every answer says it came from the fallback.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from workbench.neural.catalog import write_training_doc
from workbench.neural.textfeatures import TextFeatures, embedder_ref
from workbench.patterns import PATTERNS
from workbench.store import models as m

MODEL_NAME = "adaptive-coordinator"
HELD_OUT_BUCKETS = 5  # one operation in five is held out
CALIBRATION_BUCKETS = 5  # of the training split, one in five fits the temperature
TEXT_FIELDS = ("text", "description", "type", "context", "goal")

# Words that mark each working mode. Written for this project; the fallback's own held-out
# accuracy is measured and shown next to it, so nobody mistakes it for the model.
KEYWORDS: dict[str, tuple[str, ...]] = {
    "convergent": (
        "fix",
        "narrow",
        "pin",
        "choose",
        "pick",
        "select",
        "single",
        "exact",
        "root cause",
        "best",
        "finalize",
        "reproduce",
        "optimize",
        "reduce",
    ),
    "divergent": (
        "brainstorm",
        "explore",
        "ideas",
        "alternatives",
        "options",
        "many ways",
        "variations",
        "possible",
        "list ways",
        "generate",
        "imagine",
        "sketch",
    ),
    "lateral": (
        "reframe",
        "treat",
        "instead",
        "analogy",
        "unconventional",
        "borrow",
        "as if",
        "invert",
        "sideways",
        "repurpose",
        "trick",
        "turn",
    ),
    "systems": (
        "architecture",
        "end-to-end",
        "interactions",
        "dependencies",
        "whole",
        "pipeline",
        "integration",
        "across",
        "feedback loop",
        "components",
        "flow",
        "map how",
    ),
    "critical": (
        "review",
        "audit",
        "verify",
        "assess",
        "evaluate",
        "check",
        "risk",
        "challenge",
        "question",
        "validate",
        "scrutinize",
        "flaw",
    ),
    "adaptive": (
        "adapt",
        "adjust",
        "tune",
        "dynamic",
        "changing",
        "monitor",
        "switch",
        "fallback",
        "when load",
        "on the fly",
        "react",
        "retune",
    ),
}


def operation_text(operation: Mapping[str, Any] | str) -> str:
    """The words of an operation: its text fields joined (a plain string is the text)."""
    if isinstance(operation, str):
        text = operation
    else:
        parts = [operation.get(k) for k in TEXT_FIELDS]
        text = " ".join(p if isinstance(p, str) else json.dumps(p) for p in parts if p)
    text = " ".join(text.split())
    if not text:
        raise ValueError(
            'operation: needs a non-empty text (a JSON object with "text" or "description")'
        )
    return text


def parse_operation(raw: str | Mapping[str, Any]) -> dict[str, Any]:
    """An operation from JSON text: an object with a text or description (one-line errors)."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ValueError(
                f"operation: not valid JSON ({exc.msg} at column {exc.colno})"
            ) from None
    if not isinstance(raw, Mapping):
        raise ValueError('operation: must be a JSON object, e.g. {"text": "..."}')
    op = dict(raw)
    operation_text(op)
    if "pattern" in op and op["pattern"] not in PATTERNS:
        raise ValueError(f"operation: pattern must be one of {', '.join(PATTERNS)}")
    return op


def is_held_out(text: str) -> bool:
    digest = hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little") % HELD_OUT_BUCKETS == 0


def is_calibration(text: str) -> bool:
    """One training row in five (by a salted hash, independent of the held-out split)
    is kept out of training to fit the temperature on."""
    digest = hashlib.blake2b(b"calibration\0" + text.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little") % CALIBRATION_BUCKETS == 0


def calibration_split(
    train: list[dict[str, str]],
) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """(fit, calibration) rows of the training split; the held-out rows are never in it."""
    fit, calib = [], []
    for record in train:
        (calib if is_calibration(record["operation"]) else fit).append(record)
    return fit, calib


def labelled_split() -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """(training, held-out) records from the labelled operations, in id order."""
    train, held = [], []
    query = m.LabelledOperation.select(m.LabelledOperation.text, m.LabelledOperation.pattern)
    # two columns as tuples: every classify measures the fallback on the held-out rows, so
    # this runs in each CLI/hook process (model instances cost ~3x as much)
    for text, pattern in query.order_by(m.LabelledOperation.id).tuples():
        if pattern not in PATTERNS:
            continue
        record = {"operation": text, "label": pattern}
        (held if is_held_out(text) else train).append(record)
    return train, held


def text_features(embedder: str | None = None) -> TextFeatures:
    """The full text-feature block set cross-validation starts from: word and character
    n-grams, sublinear TF-IDF and this module's keyword scores (its lexicon is stored in
    the spec, so a version predicts the same whatever KEYWORDS later becomes); with a
    model2vec `embedder`, its sentence vectors too."""
    return TextFeatures(
        keywords={p: list(KEYWORDS[p]) for p in PATTERNS}, embedder=embedder_ref(embedder)
    )


def _keyword_lookup() -> dict[str, tuple[Counter[str], tuple[str, ...]]]:
    """Per pattern: its one-word keys counted, and its phrases (built once per KEYWORDS)."""
    global _lookup, _lookup_of
    if _lookup_of is not KEYWORDS:
        _lookup = {
            p: (Counter(k for k in keys if " " not in k), tuple(k for k in keys if " " in k))
            for p, keys in KEYWORDS.items()
        }
        _lookup_of = KEYWORDS
    return _lookup


_lookup: dict[str, tuple[Counter[str], tuple[str, ...]]] = {}
_lookup_of: object = None


def keyword_scores(text: str) -> dict[str, int]:
    """Per pattern, how many of its keys the text contains: a one-word key as a word, a
    phrase anywhere. Counted word by word (a text has few words, the lexicon many keys)."""
    low = text.lower()
    words = set(re.findall(r"[a-z0-9-]+", low))
    scores = {}
    for pattern, (singles, phrases) in _keyword_lookup().items():
        scores[pattern] = sum(singles[w] for w in words if w in singles) + sum(
            1 for k in phrases if k in low
        )
    return scores


def keyword_classify(text: str) -> dict[str, Any]:
    """The fallback: most keyword hits wins (ties in PATTERNS order). It has no
    probability: ``confidence`` is None and ``keyword_share`` is the winner's share of
    all keyword hits (1.0 when one pattern's words alone matched), shown under that name."""
    scores = keyword_scores(text)
    total = sum(scores.values())
    if total == 0:
        return {"pattern": None, "confidence": None, "keyword_share": None,
                "source": "fallback", "scores": scores}  # fmt: skip
    best = max(PATTERNS, key=lambda p: (scores[p], -PATTERNS.index(p)))
    return {
        "pattern": best,
        "confidence": None,
        "keyword_share": round(scores[best] / total, 4),
        "source": "fallback",
        "scores": scores,
    }


def accuracy(predicted: list[str | None], records: list[dict[str, str]]) -> float | None:
    if not records:
        return None
    hits = sum(1 for p, r in zip(predicted, records, strict=True) if p == r["label"])
    return round(hits / len(records), 4)


def keyword_accuracy(records: list[dict[str, str]]) -> float | None:
    """The keyword matcher's accuracy on labelled records (no match counts as wrong)."""
    predicted = [keyword_classify(r["operation"])["pattern"] for r in records]
    return accuracy(predicted, records)


def fallback_accuracy() -> dict[str, Any]:
    """The keyword matcher measured on the same held-out split as the model."""
    _train, held = labelled_split()
    return {"held_out": len(held), "accuracy": keyword_accuracy(held)}


def served_source(model_accuracy: float | None, fallback_accuracy: float | None) -> str:
    """Which answers: the model only when it measured strictly better than the keyword
    fallback on the same held-out rows (an unmeasured model never serves), so a trained
    model that is worse than keywords does not make the product worse."""
    if model_accuracy is None:
        return "fallback"
    if fallback_accuracy is None:
        return "model"
    return "model" if model_accuracy > fallback_accuracy else "fallback"


def write_training_file(out_dir: Path) -> tuple[Path, int, int]:
    """The classifier's training file: trainingData = the training split less its
    calibration fold, validationData = the held-out split, so the accuracy training
    reports is the held-out accuracy."""
    train, held = labelled_split()
    if len(train) < 60 or len(held) < 12:
        raise ValueError(
            f"labelled_operations has {len(train) + len(held)} usable rows; the classifier "
            "needs >= 72 (seed the store: `workbench init`)"
        )
    missing = [p for p in PATTERNS if p not in {r["label"] for r in train}]
    if missing:
        raise ValueError(f"labelled_operations lacks examples of: {', '.join(missing)}")
    fit, _calib = calibration_split(train)
    path = write_training_doc(
        out_dir / f"{MODEL_NAME}-heldout.json",
        f"{MODEL_NAME}: labelled operations; validationData is the held-out split "
        f"(1 in {HELD_OUT_BUCKETS} by text hash)",
        fit,
        held,
    )
    return path, len(fit), len(held)
