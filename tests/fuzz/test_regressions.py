"""The inputs the fuzz suite found crashing a parser (or making a multi-line error), each
now a clean one-line ValueError that wrote nothing."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from workbench.hub.evolution import validate_document
from workbench.neural.clf import import_clf
from workbench.neural.data import load_dataset
from workbench.neural.spec import parse_spec
from workbench.store import models as m

SAMPLES = Path(__file__).resolve().parents[2] / "sample_data" / "neural"


def one_line_error(call, fragment: str) -> str:
    with pytest.raises(ValueError) as caught:
        call()
    text = str(caught.value)
    assert "\n" not in text and fragment in text, text
    return text


def hub_doc(**item_fields) -> dict:
    item = {"id": "kb-1", "channel": "general", "type": "pattern", "title": "t", "content": "c",
            "priority": "HIGH", "state": "EXPERIMENTAL", "version": 1,
            "created": "2026-01-01T00:00:00", "updated": "2026-01-01T00:00:00",
            "versions": [{"version": 1, "title": "t", "content": "c", "change_note": "",
                          "created": "2026-01-01T00:00:00"}]}  # fmt: skip
    item.update(item_fields)
    return {"format": "workbench-knowledge", "format_version": 1, "items": [item]}


def test_hub_priority_that_is_a_list():  # was TypeError: unhashable type: 'list'
    one_line_error(lambda: validate_document(hub_doc(priority=[]), {"general"}), "'priority'")


def test_hub_id_with_a_line_break():
    one_line_error(
        lambda: validate_document(hub_doc(id="a\nb", channel="nowhere"), {"general"}),
        "unknown channel",
    )


def test_training_data_key_with_a_line_break(tmp_path):
    spec = parse_spec(SAMPLES / "code-review.model.json")
    data = json.loads((SAMPLES / "code_review.json").read_text())
    data["trainingData"][0]["\n"] = []
    path = tmp_path / "d.json"
    path.write_text(json.dumps(data))
    one_line_error(lambda: load_dataset(path, spec), "control character")


def test_model_spec_unknown_key_with_a_line_break():
    spec = json.loads((SAMPLES / "code-review.model.json").read_text())
    spec["architecture"]["\n"] = None
    one_line_error(lambda: parse_spec(spec), "unknown key")


@pytest.fixture
def clf_parts(engine, tmp_path) -> tuple[dict, bytes]:
    spec = json.loads((SAMPLES / "code-review.model.json").read_text())
    spec["training"]["epochs"] = 1
    engine.neural.train(spec, SAMPLES / "code_review.json", name="sample", backend="numpy")
    engine.neural.export("sample", tmp_path / "sample.clf")
    with zipfile.ZipFile(tmp_path / "sample.clf") as zf:
        return json.loads(zf.read("manifest.json")), zf.read("weights.npz")


def pack(manifest: dict, weights: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("manifest.json", json.dumps(manifest))
        zf.writestr("weights.npz", weights)
    return buf.getvalue()


def test_clf_with_a_list_for_val_accuracy_adds_no_version(engine, clf_parts, tmp_path):
    """Was a TypeError after the version was reserved: a half-made version was left."""
    manifest, weights = clf_parts
    manifest["metrics"]["val_accuracy"] = []
    path = tmp_path / "bad.clf"
    path.write_bytes(pack(manifest, weights))
    before = m.NeuralModel.select().count(), m.TrainingRun.select().count()
    one_line_error(lambda: engine.neural.import_(path, name="bad"), "metrics.val_accuracy")
    assert (m.NeuralModel.select().count(), m.TrainingRun.select().count()) == before


def test_clf_feature_spec_key_with_a_line_break(clf_parts, tmp_path):
    manifest, weights = clf_parts
    manifest["feature_spec"]["\n"] = 1
    path = tmp_path / "bad.clf"
    path.write_bytes(pack(manifest, weights))
    one_line_error(lambda: import_clf(path), "unknown key")


def set_central_directory_byte(raw: bytes, offset: int, value: int) -> bytes:
    """Patch every central-directory entry (offset from its PK\\x01\\x02 signature)."""
    data = bytearray(raw)
    at = data.find(b"PK\x01\x02")
    while at != -1:
        data[at + offset] = value
        at = data.find(b"PK\x01\x02", at + 4)
    return bytes(data)


def test_clf_with_members_flagged_encrypted(clf_parts, tmp_path):  # was RuntimeError
    path = tmp_path / "enc.clf"
    path.write_bytes(set_central_directory_byte(pack(*clf_parts), 8, 1))
    one_line_error(lambda: import_clf(path), "truncated or corrupt")


def npz_bytes() -> bytes:
    buf = io.BytesIO()
    np.savez(buf, X=np.zeros((6, 8), np.float32), y=np.array([0, 1, 2, 0, 1, 2]))
    return buf.getvalue()


@pytest.mark.parametrize(
    ("offset", "value", "fragment"),
    [(6, 64, "not an NPZ archive"), (8, 1, "unreadable NPZ")],  # zip version 6.4; encrypted
)
def test_npz_from_a_newer_zip_version_or_encrypted(tmp_path, offset, value, fragment):
    layers = [{"type": "input", "size": 8}, {"type": "output", "size": 3, "activation": "softmax"}]
    spec = parse_spec({"architecture": {"layers": layers}})
    path = tmp_path / "d.npz"
    path.write_bytes(set_central_directory_byte(npz_bytes(), offset, value))
    one_line_error(lambda: load_dataset(path, spec), fragment)


@pytest.mark.parametrize(
    ("name", "content"),
    [("d.json", b'[{"\\n":null}]'), ("d.csv", b'text,"n\nrb",label\nrow,2,c\n')],
)
def test_training_data_column_named_with_a_line_break(tmp_path, name, content):
    """Was a multi-line error (the name went into 'no label column'/'numeric features')."""
    spec = parse_spec(SAMPLES / "code-review.model.json")
    path = tmp_path / name
    path.write_bytes(content)
    one_line_error(lambda: load_dataset(path, spec), "holds a control character")
