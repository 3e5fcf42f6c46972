"""Neural models: specs, datasets, training with checkpoints, artifacts, .clf files,
prediction with reasons, ensembles, quantization. Pure domain logic on the kernels:
no store, no UI (the registry and catalog live beside this and use it)."""

from __future__ import annotations

from .artifact import Examples, ModelArtifact
from .clf import export_clf, import_clf
from .data import Dataset, FeatureSpec, data_hash, featurize, load_dataset, read_inputs
from .predict import EnsemblePrediction, ModelCache, Neighbor, Prediction, ensemble, predict
from .quantize import QuantizeReport, quantize_artifact
from .spec import ModelSpec, parse_spec
from .train import EpochRecord, TrainResult, train

__all__ = [
    "Dataset",
    "EnsemblePrediction",
    "EpochRecord",
    "Examples",
    "FeatureSpec",
    "ModelArtifact",
    "ModelCache",
    "ModelSpec",
    "Neighbor",
    "Prediction",
    "QuantizeReport",
    "TrainResult",
    "data_hash",
    "ensemble",
    "export_clf",
    "featurize",
    "import_clf",
    "load_dataset",
    "parse_spec",
    "predict",
    "quantize_artifact",
    "read_inputs",
    "train",
]
