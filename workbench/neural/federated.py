"""Federated averaging (FedAvg) across workbench stores: raw rows never leave a store.

Each store is a client. It reads its own rows — its data file (`--data`, one per store)
or, with a catalog model, that recipe's rows from its own tables — and trains the
ordinary `train` loop for a few local epochs starting from the global weights. The server
averages the clients' weights, weighted by their training-row counts, and sends the
average back. What crosses the client boundary, in this order:

1. once, summary statistics to agree one featurization recipe (every client must encode
   rows identically): per column its kind, count, sum and sum of squares, and the set of
   label values — never a row;
2. every round, weights out and weights back, plus the client's measured metrics.

Each client holds out a seeded fraction of its own rows once (the spec's
`validation_split`, 0.2 when the spec has none); every round the global model is scored
on each client's held-out rows at the client. The final model is registered as a new
version in every participating store, with nearest-example reasoning drawn only from that
store's own rows, and one training_history row per round (the Models pane charts it).

Stores are opened one at a time through `open_store` (the caller passes `Engine`: the
domain layer does not import it). Clients live in one process here; the client/server
boundary is the `FederatedClient` API, so moving clients to their own machines changes
transport, not the algorithm.
"""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from workbench.kernels import backend as get_backend
from workbench.neural import registry
from workbench.neural.artifact import ModelArtifact
from workbench.neural.data import (
    Dataset,
    FeatureSpec,
    data_hash,
    featurize,
    input_texts,
    load_dataset,
    merge_kind,
    read_inputs,
    split_columns,
)
from workbench.neural.spec import ModelSpec, parse_spec
from workbench.neural.train import EpochRecord, evaluate, split_validation, train

DEFAULT_HELD_OUT = 0.2
MIN_ROWS_PER_STORE = 5
_INT = re.compile(r"-?\d+")

Weights = tuple[list[np.ndarray], list[np.ndarray]]
OpenStore = Callable[[Path], contextlib.AbstractContextManager[Any]]


# ------------------------------------------------------------------ client summaries


@dataclass
class ClientSummary:
    """What a client reveals before training: column kinds, moments and label values."""

    rows: int
    kinds: dict[str, str] = field(default_factory=dict)
    count: dict[str, int] = field(default_factory=dict)
    total: dict[str, float] = field(default_factory=dict)
    squares: dict[str, float] = field(default_factory=dict)
    labels: set[str] = field(default_factory=set)
    array_spec: dict[str, Any] | None = None  # NPZ clients: the fixed array recipe


def _cell(value: Any) -> Any:
    """A CSV cell as JSON would hold it: '' → None, a number → float, else the text."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text == "":
        return None
    try:
        number = float(text)
    except ValueError:
        return text
    return number if math.isfinite(number) else text


def _kind(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool | int | float):
        return "number"
    if isinstance(value, str):
        return "text"
    return "other"


def merge_feature_spec(
    spec: ModelSpec, summaries: Sequence[ClientSummary], label_column: str
) -> FeatureSpec:
    """One featurization recipe for all clients, from their summaries alone."""
    arrays = [s.array_spec for s in summaries]
    if any(a is not None for a in arrays):
        if any(a is None for a in arrays) or any(a != arrays[0] for a in arrays):
            raise ValueError(
                "every store's data must be encoded alike: use NPZ files with the same "
                "label names in all stores, or JSON/CSV records in all of them"
            )
        return FeatureSpec.from_dict(arrays[0])
    kinds: dict[str, str] = {}
    for summary in summaries:
        for column, kind in summary.kinds.items():
            kinds[column] = merge_kind(kinds.get(column, "none"), kind)
    numeric, hashed = split_columns(kinds, spec.input_size, "the stores' data")
    size = spec.input_size
    mean, std = [], []
    for column in numeric:
        n = sum(s.count.get(column, 0) for s in summaries)
        if n == 0:
            mean.append(0.0)
            std.append(1.0)
            continue
        mu = sum(s.total.get(column, 0.0) for s in summaries) / n
        var = max(sum(s.squares.get(column, 0.0) for s in summaries) / n - mu * mu, 0.0)
        sd = math.sqrt(var)
        mean.append(mu)
        std.append(sd if math.isfinite(sd) and sd > 1e-12 else 1.0)
    labels = set().union(*(s.labels for s in summaries))
    numeric_labels = all(_INT.fullmatch(v) for v in labels)
    names = sorted(labels, key=int) if numeric_labels else sorted(labels)
    if len(names) != spec.output_size:
        shown = ", ".join(names[:10]) + (", …" if len(names) > 10 else "")
        raise ValueError(
            f"the stores' data has {len(names)} classes ({shown}) but the output layer has "
            f"{spec.output_size} units; set architecture.layers[-1].size to {len(names)}"
        )
    return FeatureSpec(
        size, "classification", "records", numeric, hashed, mean, std, label_column, names
    )


# ---------------------------------------------------------------------------- client


class FederatedClient:
    """One store's side: its rows stay in here; weights and metrics go out."""

    def __init__(
        self,
        store: Path,
        spec: ModelSpec,
        *,
        records: list[dict[str, Any]] | None = None,
        dataset: Dataset | None = None,
        label_column: str = "label",
        source: str = "",
        digest: str | None = None,
    ) -> None:
        if (records is None) == (dataset is None):
            raise ValueError("a client holds either records or an array dataset")
        self.store = store
        self.spec = spec
        self.label_column = label_column
        self.source = source
        self.digest = digest
        self._records = records
        self._dataset = dataset
        self._train: Dataset | None = None
        self._held_out: Dataset | None = None
        self._examples = None
        rows = len(records) if records is not None else len(dataset)  # type: ignore[arg-type]
        if rows < MIN_ROWS_PER_STORE:
            raise ValueError(
                f"store {store}: {rows} rows in {source or 'its data'}; "
                f"federated training needs >= {MIN_ROWS_PER_STORE} per store"
            )

    def summary(self) -> ClientSummary:
        if self._dataset is not None:
            return ClientSummary(
                len(self._dataset), array_spec=self._dataset.feature_spec.to_dict()
            )
        records = self._records or []
        out = ClientSummary(len(records))
        for i, rec in enumerate(records):
            if not isinstance(rec, dict):
                raise ValueError(f"store {self.store}: row {i} is not an object")
            if self.label_column not in rec or rec[self.label_column] in (None, ""):
                raise ValueError(f"store {self.store}: row {i} has no label {self.label_column!r}")
            out.labels.add(str(rec[self.label_column]).strip())
            for column, value in rec.items():
                if column == self.label_column:
                    continue
                kind = _kind(value)
                if kind == "other":
                    raise ValueError(
                        f"store {self.store}: row {i}.{column}: nested values are not supported"
                    )
                previous = out.kinds.get(column, "none")
                if "text" in (kind, previous):
                    out.kinds[column] = "text"
                elif "number" in (kind, previous):
                    out.kinds[column] = "number"
                else:
                    out.kinds[column] = previous
                if kind == "number":
                    v = float(value)
                    out.count[column] = out.count.get(column, 0) + 1
                    out.total[column] = out.total.get(column, 0.0) + v
                    out.squares[column] = out.squares.get(column, 0.0) + v * v
        return out

    def prepare(self, feature_spec: FeatureSpec, held_out: float, seed: int) -> None:
        """Encode the own rows with the agreed recipe and hold out a seeded part, once."""
        if self._dataset is not None:
            ds = self._dataset
        else:
            records = self._records or []
            index = {name: i for i, name in enumerate(feature_spec.label_names or [])}
            y = np.array([index[str(r[self.label_column]).strip()] for r in records], np.int32)
            X = featurize(records, feature_spec, where=f"store {self.store}")
            ds = Dataset(X, y, feature_spec, input_texts(records, feature_spec))
        self._train, self._held_out = split_validation(ds, held_out, seed)
        if self._held_out is None:
            raise ValueError(f"store {self.store}: too few rows to hold any out")

    @property
    def n_train(self) -> int:
        assert self._train is not None
        return len(self._train)

    @property
    def n_held_out(self) -> int:
        assert self._held_out is not None
        return len(self._held_out)

    def fit(
        self, start: ModelArtifact | None, spec: ModelSpec, epochs: int, backend: str
    ) -> tuple[Weights, dict[str, Any]]:
        """Local epochs from the global weights (None: the spec's seeded initialisation)."""
        assert self._train is not None and self._held_out is not None
        local = Dataset(
            self._train.X,
            self._train.y,
            self._train.feature_spec,
            self._train.texts,
            validation=self._held_out,
        )
        result = train(spec, local, backend=backend, init_from=start, epochs=epochs)
        self._examples = result.artifact.examples  # this store's own rows only
        weights = (result.artifact.weights, result.artifact.biases)
        return weights, {
            "local_accuracy": result.accuracy,
            "local_val_accuracy": result.val_accuracy,
        }

    def score(self, artifact: ModelArtifact, backend: str) -> dict[str, Any]:
        """The global model on this store's training and held-out rows (metrics only)."""
        assert self._train is not None and self._held_out is not None
        kb = get_backend(backend)
        mlp = artifact.mlp()
        loss, acc = evaluate(kb, mlp, self._train.X, self._train.y, "classification")  # type: ignore[arg-type]
        val_loss, val_acc = evaluate(
            kb,
            mlp,
            self._held_out.X,
            self._held_out.y,
            "classification",  # type: ignore[arg-type]
        )
        return {"loss": loss, "accuracy": acc, "val_loss": val_loss, "val_accuracy": val_acc}

    @property
    def examples(self):
        return self._examples


# ---------------------------------------------------------------------------- server


def average(updates: Sequence[tuple[Weights, int]]) -> Weights:
    """FedAvg: the sample-count-weighted mean of every layer's weights and biases."""
    total = sum(n for _, n in updates)
    if total <= 0:
        raise ValueError("no training rows in any store")
    (first_w, first_b), _ = updates[0]
    weights = [np.zeros_like(w, dtype=np.float64) for w in first_w]
    biases = [np.zeros_like(b, dtype=np.float64) for b in first_b]
    for (w_list, b_list), n in updates:
        share = n / total
        for acc, w in zip(weights, w_list, strict=True):
            acc += share * w
        for acc, b in zip(biases, b_list, strict=True):
            acc += share * b
    return [w.astype(np.float32) for w in weights], [b.astype(np.float32) for b in biases]


def _round_spec(spec: ModelSpec, round_no: int) -> ModelSpec:
    """The spec with a per-round seed: fresh shuffles each round, same for every client."""
    return replace(spec, training=replace(spec.training, seed=spec.training.seed + round_no))


def _check_stores(stores: Sequence[str | Path]) -> list[Path]:
    paths = [Path(s) for s in stores]
    if len(paths) < 2:
        raise ValueError("federated training needs at least two stores (--stores A,B)")
    seen: set[Path] = set()
    for path in paths:
        if not path.is_file():
            raise ValueError(f"store {path} does not exist (create it with `workbench init`)")
        key = path.resolve()
        if key in seen:
            raise ValueError(f"store {path} is listed twice")
        seen.add(key)
    return paths


def load_clients(
    stores: Sequence[str | Path],
    spec: ModelSpec,
    open_store: OpenStore,
    *,
    data: Sequence[str | Path] | None = None,
    catalog: str | None = None,
    label_column: str = "label",
) -> list[FederatedClient]:
    """One client per store, each reading only its own data (file or store tables)."""
    paths = _check_stores(stores)
    if (data is None) == (catalog is None):
        raise ValueError("give each store's data (--data A,B,...) or a catalog recipe")
    if data is not None and len(data) != len(paths):
        raise ValueError(f"--data lists {len(data)} files for {len(paths)} stores: one per store")
    clients = []
    for i, path in enumerate(paths):
        with open_store(path):
            if catalog is not None:
                from workbench.neural import catalog as cat

                entry = cat.get(catalog)
                if entry.recipe.source.startswith("sample_data/"):
                    raise ValueError(
                        f"catalog model {catalog} learns from {entry.recipe.source}, a file "
                        "every store shares, not a store's own rows: use --model with --data"
                    )
                records = entry.recipe.builder()
                source = f"{entry.recipe.source} ({catalog} recipe)"
                clients.append(
                    FederatedClient(path, spec, records=records, source=source, digest=None)
                )
                continue
            file = Path(data[i])  # type: ignore[index]
            if not file.is_file():
                raise ValueError(f"data for store {path}: no such file {file}")
            if file.suffix.lower() == ".npz":
                ds = load_dataset(file, spec)
                client = FederatedClient(path, spec, dataset=ds, source=str(file))
            elif file.suffix.lower() in (".json", ".csv"):
                rows = read_inputs(file)
                if not isinstance(rows, list):
                    raise ValueError(f"{file.name}: expected a list of records")
                if file.suffix.lower() == ".csv":  # cells are text: type them like JSON
                    rows = [
                        {k: (v if k == label_column else _cell(v)) for k, v in r.items()}
                        for r in rows
                    ]
                client = FederatedClient(
                    path, spec, records=rows, label_column=label_column, source=str(file)
                )
            else:
                raise ValueError(f"{file.name}: unsupported data file (use .json, .csv or .npz)")
            client.digest = data_hash(file)
            clients.append(client)
    return clients


def federate(
    clients: Sequence[FederatedClient],
    spec: ModelSpec,
    *,
    rounds: int,
    local_epochs: int = 1,
    backend: str = "wasm",
    label_column: str = "label",
    on_round: Callable[[dict[str, Any]], None] | None = None,
) -> tuple[ModelArtifact, dict[str, Any]]:
    """Run FedAvg; returns the global model and the per-round report (all measured)."""
    if spec.objective != "classification":
        raise ValueError(
            f"federated training supports classification specs (this one is {spec.objective})"
        )
    if rounds < 1:
        raise ValueError("--rounds must be >= 1")
    if local_epochs < 1:
        raise ValueError("--local-epochs must be >= 1")
    feature_spec = merge_feature_spec(spec, [c.summary() for c in clients], label_column)
    held_out = spec.training.validation_split or DEFAULT_HELD_OUT
    for client in clients:
        client.prepare(feature_spec, held_out, spec.training.seed)
    spec_dict = spec.to_dict()
    current: ModelArtifact | None = None
    history: list[dict[str, Any]] = []
    for round_no in range(1, rounds + 1):
        round_spec = _round_spec(spec, round_no)
        updates, local = [], []
        for client in clients:
            weights, metrics = client.fit(current, round_spec, local_epochs, backend)
            updates.append((weights, client.n_train))
            local.append(metrics)
        new_w, new_b = average(updates)
        current = ModelArtifact(spec_dict, feature_spec, new_w, new_b)
        per_client = []
        for client, metrics in zip(clients, local, strict=True):
            scored = client.score(current, backend)
            per_client.append({"store": str(client.store), "n_train": client.n_train,
                               "n_held_out": client.n_held_out, **metrics,
                               **{f"global_{k}": v for k, v in scored.items()}})  # fmt: skip
        report = {"round": round_no, "clients": per_client, **_pooled(per_client)}
        history.append(report)
        if on_round is not None:
            on_round(report)
    assert current is not None
    last = history[-1]
    current.metrics = {
        "objective": "classification",
        "accuracy": last["accuracy"],
        "val_accuracy": last["val_accuracy"],
        "loss": last["loss"],
        "val_loss": last["val_loss"],
        "n_train": sum(c.n_train for c in clients),
        "n_val": sum(c.n_held_out for c in clients),
        "epochs_run": rounds * local_epochs,
    }
    current.train_info = {"backend": backend, "seed": spec.training.seed, "federated": True,
                          "rounds": rounds, "local_epochs": local_epochs,
                          "stores": len(clients)}  # fmt: skip
    return current, {
        "rounds": rounds,
        "local_epochs": local_epochs,
        "held_out_fraction": held_out,
        "stores": [
            {
                "store": str(c.store),
                "source": c.source,
                "n_train": c.n_train,
                "n_held_out": c.n_held_out,
            }
            for c in clients
        ],  # fmt: skip
        "history": history,
        "accuracy": last["accuracy"],
        "val_accuracy": last["val_accuracy"],
    }


def _pooled(per_client: list[dict[str, Any]]) -> dict[str, Any]:
    """The global model over all clients: row-weighted means of the clients' measurements."""
    n_tr = sum(c["n_train"] for c in per_client)
    n_va = sum(c["n_held_out"] for c in per_client)
    return {
        "loss": sum(c["global_loss"] * c["n_train"] for c in per_client) / n_tr,
        "accuracy": sum(c["global_accuracy"] * c["n_train"] for c in per_client) / n_tr,
        "val_loss": sum(c["global_val_loss"] * c["n_held_out"] for c in per_client) / n_va,
        "val_accuracy": sum(c["global_val_accuracy"] * c["n_held_out"] for c in per_client) / n_va,
    }


def register_everywhere(
    clients: Sequence[FederatedClient],
    artifact: ModelArtifact,
    report: dict[str, Any],
    open_store: OpenStore,
    *,
    name: str,
    description: str = "",
) -> list[dict[str, Any]]:
    """The global model as a new version in every store, with that store's own examples,
    its per-round scores as training history and its own held-out accuracy."""
    name = registry.check_name(name)
    spec = {**artifact.spec, "name": name}
    lr = parse_spec(spec).training.learning_rate
    out = []
    for index, client in enumerate(clients):
        mine = [r["clients"][index] for r in report["history"]]
        own = ModelArtifact(
            spec, artifact.feature_spec, artifact.weights, artifact.biases,
            metrics={**artifact.metrics, "accuracy": mine[-1]["global_accuracy"],
                     "val_accuracy": mine[-1]["global_val_accuracy"],
                     "loss": mine[-1]["global_loss"], "val_loss": mine[-1]["global_val_loss"],
                     "federated_val_accuracy": artifact.metrics["val_accuracy"]},
            examples=client.examples, train_info=artifact.train_info,
        )  # fmt: skip
        with open_store(client.store):
            row, _run = registry.start_version(
                name,
                architecture=spec,
                category=str(spec.get("category") or "custom"),
                description=description
                or f"FedAvg over {len(clients)} stores, {report['rounds']} rounds",
                tags=["federated"],
                run_kind="federated",
                run_config={
                    "stores": [str(c.store) for c in clients],
                    "source": client.source,
                    "rounds": report["rounds"],
                    "local_epochs": report["local_epochs"],
                    "backend": artifact.train_info.get("backend"),
                },  # fmt: skip
                data_hash=client.digest,
            )
            try:
                for round_report, scores in zip(report["history"], mine, strict=True):
                    registry.record_epoch(
                        row,
                        EpochRecord(round_report["round"], scores["global_loss"],
                                    scores["global_accuracy"], scores["global_val_loss"],
                                    scores["global_val_accuracy"], lr),
                    )  # fmt: skip
                metrics = {**own.metrics, "federated": {k: report[k] for k in
                           ("rounds", "local_epochs", "held_out_fraction")}}  # fmt: skip
                registry.finish_version(row, weights=own.to_bytes(), metrics=metrics)
            except BaseException as exc:
                registry.abandon_version(row, "failed", f"{type(exc).__name__}: {exc}")
                raise
            out.append({"store": str(client.store), "name": name, "version": row.version,
                        "val_accuracy": mine[-1]["global_val_accuracy"]})  # fmt: skip
    return out


def run_federated(
    stores: Sequence[str | Path],
    model: str | Path | dict | ModelSpec,
    open_store: OpenStore,
    *,
    rounds: int,
    local_epochs: int = 1,
    data: Sequence[str | Path] | None = None,
    catalog: str | None = None,
    backend: str = "wasm",
    label_column: str = "label",
    name: str | None = None,
    on_round: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Load one client per store, run FedAvg, register the result in every store."""
    spec = model if isinstance(model, ModelSpec) else parse_spec(model)
    name = registry.check_name(name or catalog or spec.name or spec.model_id or "model")
    if rounds < 1:
        raise ValueError("--rounds must be >= 1")
    if local_epochs < 1:
        raise ValueError("--local-epochs must be >= 1")
    clients = load_clients(
        stores, spec, open_store, data=data, catalog=catalog, label_column=label_column
    )
    artifact, report = federate(
        clients, spec, rounds=rounds, local_epochs=local_epochs, backend=backend,
        label_column=label_column, on_round=on_round,
    )  # fmt: skip
    report["registered"] = register_everywhere(clients, artifact, report, open_store, name=name)
    report["name"] = name
    return report
