"""Spec parsing: the reference's JSON shape, round trips, errors naming the key path."""

from __future__ import annotations

import json

import pytest

from workbench.neural import parse_spec
from workbench.neural.spec import ModelSpec

REFERENCE = {
    "modelId": "custom-security-auditor",
    "type": "specialized",
    "architecture": {
        "type": "feedforward",
        "layers": [
            {"type": "input", "size": 128},
            {"type": "hidden", "size": 64, "activation": "relu"},
            {"type": "hidden", "size": 32, "activation": "relu"},
            {"type": "output", "size": 10, "activation": "softmax"},
        ],
    },
    "training": {
        "pattern_type": "critical",
        "learning_rate": 0.001,
        "batch_size": 32,
        "epochs": 100,
        "optimizer": "adam",
        "lr_schedule": {"type": "step_decay", "step_size": 20, "gamma": 0.5},
        "early_stopping": {"enabled": True, "patience": 10, "min_delta": 0.001},
    },
    "specialization": {"domain": "security", "tasks": ["code_audit"]},
}


def test_reference_example_parses_and_round_trips(tmp_path):
    s = parse_spec(REFERENCE)
    assert s.sizes == [128, 64, 32, 10]
    assert s.activations == ["relu", "relu", "softmax"]
    assert s.category == "specialized" and s.objective == "classification"
    assert s.loss == "cross_entropy"
    assert s.training.early_stopping.patience == 10
    assert parse_spec(s.to_dict()) == s
    p = tmp_path / "m.json"
    p.write_text(json.dumps(REFERENCE))
    assert parse_spec(p) == s == parse_spec(str(p)) == parse_spec(json.dumps(REFERENCE))


def test_step_decay_lr_per_epoch():
    s = parse_spec(REFERENCE)
    lrs = [s.training.lr_at(e) for e in (1, 20, 21, 40, 41)]
    assert lrs == [0.001, 0.001, 0.0005, 0.0005, 0.00025]


def test_objective_defaults_from_output_activation():
    d = json.loads(json.dumps(REFERENCE))
    d["architecture"]["layers"][-1] = {"type": "output", "size": 1, "activation": "linear"}
    assert parse_spec(d).objective == "regression"
    d["architecture"]["layers"][-1] = {"type": "output", "size": 128, "activation": "linear"}
    d["training"]["objective"] = "reconstruction"
    d["training"]["mask_ratio"] = 0.3
    s = parse_spec(d)
    assert s.objective == "reconstruction" and s.loss == "mse"
    assert isinstance(s, ModelSpec)


def _with(path: list, value, delete=False):
    d = json.loads(json.dumps(REFERENCE))
    cur = d
    for k in path[:-1]:
        cur = cur[k]
    if delete:
        del cur[path[-1]]
    else:
        cur[path[-1]] = value
    return d


@pytest.mark.parametrize(
    "path,value,msg",
    [
        (["training", "learning_rate"], -1, "training.learning_rate must be > 0, got -1"),
        (["training", "learning_rate"], "fast", "training.learning_rate must be a finite number"),
        (["training", "batch_size"], 0, "training.batch_size must be in [1,"),
        (["training", "epochs"], 2.5, "training.epochs must be an integer"),
        (["training", "optimizer"], "rmsprop", "training.optimizer must be one of sgd"),
        (["training", "validation_split"], 1.0, "training.validation_split must be in [0, 1)"),
        (["training", "lr_schedule", "gamma"], 0, "training.lr_schedule.gamma must be in (0, 1]"),
        (["training", "lr_schedule", "type"], "cosine", "training.lr_schedule.type must be one"),
        (["training", "early_stopping", "patience"], 0, "training.early_stopping.patience"),
        (["training", "early_stopping", "min_delta"], -0.1, "early_stopping.min_delta must be >="),
        (["training", "momentum"], 1.5, "training.momentum must be in [0, 1)"),
        (["architecture", "layers", 1, "size"], 0, "architecture.layers[1].size must be in"),
        (["architecture", "layers", 1, "activation"], "gelu", "architecture.layers[1].activation"),
        (["architecture", "layers", 0, "type"], "hidden", "architecture.layers[0].type must be"),
        (["architecture", "layers", 3, "activation"], "relu", "architecture.layers[3].activation"),
        (["architecture", "type"], "lstm", "architecture.type must be one of feedforward"),
        (["training", "objective"], "ranking", "training.objective must be one of"),
    ],
)
def test_bad_values_name_the_key_path(path, value, msg):
    with pytest.raises(ValueError) as e:
        parse_spec(_with(path, value))
    assert msg in str(e.value)
    assert "\n" not in str(e.value)


@pytest.mark.parametrize(
    "path,msg",
    [
        (["training", "learnin_rate"], "training.learnin_rate: unknown key"),
        (["colour"], "colour: unknown key"),
        (["training", "early_stopping", "patients"], "training.early_stopping.patients: unknown"),
        (["architecture", "layers", 1, "units"], "architecture.layers[1].units: unknown key"),
    ],
)
def test_unknown_keys_are_refused(path, msg):
    with pytest.raises(ValueError, match=msg.replace("[", r"\[").replace("]", r"\]")):
        parse_spec(_with(path, 1))


def test_structural_errors():
    with pytest.raises(ValueError, match="architecture is required"):
        parse_spec(_with(["architecture"], None, delete=True))
    d = _with(["training", "objective"], "reconstruction")
    d["architecture"]["layers"][-1]["activation"] = "linear"
    with pytest.raises(ValueError, match="must equal the input size 128"):
        parse_spec(d)
    with pytest.raises(ValueError, match="invalid JSON at line 1"):
        parse_spec("{nope")
    d = _with(["architecture", "layers"], [{"type": "input", "size": 3}])
    with pytest.raises(ValueError, match="architecture.layers must hold between 2"):
        parse_spec(d)
