"""Neural models through the engine and the real CLI: registry, resume, export/import."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from tests.test_cli import assert_one_line_error, run_cli
from workbench.neural.artifact import ModelArtifact
from workbench.neural.registry import RegistryError, load_weights
from workbench.store import models as m

SAMPLES = Path(__file__).resolve().parents[1] / "sample_data" / "neural"
SPEC = SAMPLES / "code-review.model.json"
DATA = SAMPLES / "code_review.json"
SQLI = {"code": "cursor.execute('SELECT * FROM t WHERE id=' + uid)", "context": "api",
        "review_rounds": 1}  # fmt: skip


def spec(**training) -> dict:
    obj = json.loads(SPEC.read_text())
    obj["training"].update(training)
    return obj


def weights_of(reference: str) -> list[np.ndarray]:
    _row, blob = load_weights(reference)
    return ModelArtifact.from_bytes(blob).weights


def test_training_records_history_and_a_final_version(engine):
    seen = []
    out = engine.neural.train(spec(epochs=8), DATA, backend="numpy", on_epoch=seen.append)
    assert (out["name"], out["version"], out["status"]) == ("code-review-classifier", 1, "trained")
    assert out["epochs_run"] == len(seen) == 8
    row = m.NeuralModel.get_by_id(out["model_id"])
    assert row.val_accuracy == pytest.approx(out["val_accuracy"])
    epochs = [h.epoch for h in m.TrainingHistory.select().where(m.TrainingHistory.model == row)]
    assert epochs == list(range(1, 9))
    run = m.TrainingRun.get_by_id(row.training_run_id)
    assert run.status == "completed" and len(run.data_hash) == 64
    assert json.loads(run.config)["backend"] == "numpy"


def test_cancel_then_resume_equals_an_uninterrupted_run(engine):
    uninterrupted = engine.neural.train(spec(epochs=12), DATA, name="straight", backend="numpy")
    calls = {"n": 0}

    def stop_after_five() -> bool:
        calls["n"] += 1
        return calls["n"] > 5

    cancelled = engine.neural.train(
        spec(epochs=12, checkpoint_every=2), DATA, name="resumed", backend="numpy",
        should_stop=stop_after_five,
    )  # fmt: skip
    assert cancelled["status"] == "cancelled"
    with pytest.raises(RegistryError, match="has no trained version yet"):
        load_weights("resumed")
    resumed = engine.neural.train(
        spec(epochs=12, checkpoint_every=2), DATA, name="resumed", backend="numpy", resume=True
    )
    assert resumed["status"] == "trained" and resumed["version"] == cancelled["version"]
    assert resumed["resumed_from"] is not None
    for a, b in zip(weights_of("straight"), weights_of("resumed"), strict=True):
        np.testing.assert_array_equal(a, b)
    assert resumed["epochs_run"] == uninterrupted["epochs_run"]
    history = m.TrainingHistory.select().where(m.TrainingHistory.model == resumed["model_id"])
    epochs = [h.epoch for h in history.order_by(m.TrainingHistory.epoch)]
    assert epochs == list(range(1, resumed["epochs_run"] + 1))  # no duplicated epochs


def test_resume_without_checkpoints_is_a_clear_error(engine):
    with pytest.raises(RegistryError, match="nothing to resume"):
        engine.neural.train(spec(epochs=2), DATA, resume=True, backend="numpy")


def test_a_class_count_mismatch_is_refused_before_a_version_is_reserved(engine):
    bad = spec(epochs=2)
    bad["architecture"]["layers"][-1]["size"] = 5  # data has 3 classes
    with pytest.raises(ValueError):
        engine.neural.train(bad, DATA, backend="numpy")
    assert not m.NeuralModel.select().exists()  # refused before a version was reserved


def test_a_failure_during_training_marks_the_version_failed(engine):
    def explode(record) -> None:
        if record.epoch == 3:
            raise RuntimeError("disk went away")

    with pytest.raises(RuntimeError, match="disk went away"):
        engine.neural.train(spec(epochs=6), DATA, backend="numpy", on_epoch=explode)
    row = m.NeuralModel.get()
    assert row.status == "failed" and row.weights is None
    run = m.TrainingRun.get_by_id(row.training_run_id)
    assert run.status == "failed" and "disk went away" in run.metrics


def test_transfer_from_a_pretrained_model_with_frozen_layers(engine):
    engine.neural.train(spec(epochs=6), DATA, name="base", backend="numpy")
    engine.neural.train(
        spec(epochs=4), DATA, name="tuned", backend="numpy", init_from="base", freeze_layers=1
    )
    base, tuned = weights_of("base"), weights_of("tuned")
    np.testing.assert_array_equal(base[0], tuned[0])  # frozen
    assert not np.array_equal(base[1], tuned[1])  # fine-tuned


def test_cli_train_predict_versions_rollback(tmp_path):
    db = str(tmp_path / "w.db")
    train = ["neural", "train", "--db", db, "--model", str(SPEC), "--data", str(DATA),
             "--epochs", "10", "--backend", "numpy", "--json"]  # fmt: skip
    first = json.loads(run_cli(*train).stdout)
    assert set(first) >= {"model_id", "name", "version", "accuracy", "val_accuracy",
                          "epochs_run", "training_time_s", "backend"}  # fmt: skip
    assert first["backend"] == "numpy"
    second = json.loads(run_cli(*train).stdout)
    assert second["version"] == 2
    name = first["name"]
    versions = json.loads(run_cli("neural", "versions", name, "--db", db, "--json").stdout)
    assert [v["aliases"] for v in versions] == [["champion"], []]
    run_cli("neural", "rollback", name, "--version", "2", "--db", db)
    versions = json.loads(run_cli("neural", "versions", name, "--db", db, "--json").stdout)
    assert [v["aliases"] for v in versions] == [[], ["champion"]]
    result = run_cli("neural", "predict", "--db", db, "--model", f"{name}@1", "--input",
                     json.dumps(SQLI), "--json")  # fmt: skip
    (prediction,) = json.loads(result.stdout)
    assert prediction["prediction"] in {"sql_injection", "plaintext_secret", "safe"}
    assert 0 < prediction["confidence"] <= 1
    assert len(prediction["reasoning"]) == 3
    assert isinstance(prediction["recommendations"], list)
    many = run_cli("neural", "predict", "--db", db, "--model", name, "--input", str(DATA),
                   "--json")  # fmt: skip
    assert len(json.loads(many.stdout)) > 1


def test_cli_export_import_identical_predictions_and_bad_files(tmp_path):
    db = str(tmp_path / "w.db")
    run_cli("neural", "train", "--db", db, "--model", str(SPEC), "--data", str(DATA),
            "--epochs", "6", "--backend", "numpy", "--name", "orig")  # fmt: skip
    clf = tmp_path / "orig.clf"
    assert run_cli("neural", "export", "orig", "--db", db, "--output", str(clf)).returncode == 0
    imported = json.loads(
        run_cli("neural", "import", str(clf), "--name", "copy", "--db", db, "--json").stdout
    )
    assert imported == {"name": "copy", "version": 1, "status": "imported"}
    predict = ["neural", "predict", "--db", db, "--input", str(DATA), "--json"]
    a = json.loads(run_cli(*predict, "--model", "orig").stdout)
    b = json.loads(run_cli(*predict, "--model", "copy").stdout)
    assert [(p["prediction"], p["confidence"]) for p in a] == [
        (p["prediction"], p["confidence"]) for p in b
    ]
    before = json.loads(run_cli("store", "stats", "--db", db, "--json").stdout)["tables"]
    evil = tmp_path / "evil.clf"
    with zipfile.ZipFile(clf) as src, zipfile.ZipFile(evil, "w") as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item))
        dst.writestr("../../escape.txt", "x")
    assert_one_line_error(run_cli("neural", "import", str(evil), "--db", db), "evil.clf")
    junk = tmp_path / "junk.clf"
    junk.write_bytes(b"not a zip at all")
    assert_one_line_error(run_cli("neural", "import", str(junk), "--db", db), "junk.clf")
    after = json.loads(run_cli("store", "stats", "--db", db, "--json").stdout)["tables"]
    assert after == before  # nothing written by the refused imports


def test_cli_quantize_reports_measured_sizes_and_accuracy(tmp_path):
    db = str(tmp_path / "w.db")
    run_cli("neural", "train", "--db", db, "--model", str(SPEC), "--data", str(DATA),
            "--epochs", "6", "--backend", "numpy", "--name", "q")  # fmt: skip
    report = json.loads(
        run_cli(
            "neural", "quantize", "q", "--bits", "8", "--data", str(DATA), "--db", db, "--json"
        ).stdout  # fmt: skip
    )
    assert report["size_after"] < report["size_before"]
    assert 0 <= report["accuracy_after"] <= 1 and 0 <= report["accuracy_before"] <= 1
    assert report["version"] == 2 and report["source_version"] == 1
    assert_one_line_error(
        run_cli("neural", "quantize", "q", "--bits", "4", "--db", db), "only 8 is supported"
    )


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["predict", "--model", "ghost", "--input", "{}"], "unknown model 'ghost'"),
        (["versions", "ghost"], "unknown model 'ghost'"),
        (["train", "--model", "missing.json", "--data", str(DATA)], "missing.json"),
        (["train", "--model", str(SPEC), "--data", "nowhere.csv"], "nowhere.csv"),
    ],
)
def test_cli_bad_input_is_one_line(tmp_path, args, fragment):
    result = run_cli("neural", *args, "--db", str(tmp_path / "w.db"))
    assert_one_line_error(result, fragment)


def test_cli_bad_spec_names_the_key(tmp_path):
    bad = spec()
    bad["training"]["learning_rate"] = -1
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    result = run_cli("neural", "train", "--model", str(path), "--data", str(DATA), "--db",
                     str(tmp_path / "w.db"))  # fmt: skip
    assert_one_line_error(result, "training.learning_rate")


def test_cli_catalog_lists_27_and_trains_one_from_its_recipe(tmp_path):
    db = str(tmp_path / "w.db")
    run_cli("init", "--db", db)
    entries = json.loads(run_cli("neural", "catalog", "--db", db, "--json").stdout)
    assert len(entries) == 27
    counts = {}
    for e in entries:
        counts[e["category"]] = counts.get(e["category"], 0) + 1
    assert counts == {"coordination": 8, "consensus": 6, "performance": 5, "sparc": 4,
                      "specialized": 4}  # fmt: skip
    assert all(e["val_accuracy"] is None and e["status"] == "untrained" for e in entries)
    human = run_cli("neural", "catalog", "--db", db)
    assert "untrained" in human.stdout
    out = run_cli("neural", "train", "--catalog", "system-architect", "--epochs", "3",
                  "--backend", "numpy", "--db", db, "--json")  # fmt: skip
    trained = json.loads(out.stdout)
    assert (trained["name"], trained["epochs_run"]) == ("system-architect", 3)
    entries = json.loads(run_cli("neural", "catalog", "--db", db, "--json").stdout)
    (entry,) = [e for e in entries if e["name"] == "system-architect"]
    assert entry["version"] == 1 and entry["val_accuracy"] == trained["val_accuracy"]


def test_cli_catalog_training_refuses_extra_data_and_untrainable(tmp_path):
    db = str(tmp_path / "w.db")
    run_cli("init", "--db", db)
    assert_one_line_error(
        run_cli("neural", "train", "--catalog", "specification", "--data", str(DATA), "--db", db),
        "--catalog trains from the recipe's own data",
    )
    assert_one_line_error(
        run_cli("neural", "train", "--catalog", "ring-coordinator", "--db", db),
        "pipeline_executions has 0 rows",
    )
    assert_one_line_error(
        run_cli("neural", "train", "--catalog", "no-such-model", "--db", db), "no-such-model"
    )
