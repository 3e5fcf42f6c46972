"""Fuzz targets for every importer and parser, shared by tests/fuzz and scripts/fuzz.py.

Each target takes the raw bytes of one input file, feeds it to the real parser (through
the engine where the parser writes to the store) and returns "ok" or "error". It raises
AssertionError for what must never happen: an exception other than the package's clean
error types (ValueError, StoreError, CliError), an error message spanning several lines,
or a failed import that changed the store (row counts before and after must be equal).

Inputs come from hypothesis strategies that mutate real samples (a valid document with
some values replaced or removed, a valid .clf with a fuzzed manifest or flipped bytes) plus
arbitrary bytes; atheris (scripts/fuzz.py) feeds the same targets its own byte streams.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
from hypothesis import strategies as st

from workbench.cli.common import CliError
from workbench.store import models as m
from workbench.store.errors import StoreError

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "sample_data"
CLEAN_ERRORS = (ValueError, StoreError, CliError)

DATA_SPEC = {
    "modelId": "fuzz-net",
    "architecture": {
        "type": "feedforward",
        "layers": [
            {"type": "input", "size": 8},
            {"type": "hidden", "size": 4, "activation": "relu"},
            {"type": "output", "size": 3, "activation": "softmax"},
        ],
    },
    "training": {"epochs": 1, "batch_size": 4, "learning_rate": 0.01, "seed": 1},
}


class Fuzzing:
    """One store and one scratch folder for a whole fuzz session (examples reuse them)."""

    def __init__(self, root: Path) -> None:
        from workbench.engine import Engine

        self.root = root
        self.engine = Engine(root / "fuzz.db")
        self.engine.seed()
        self.engine.hub.export_file(root / "seed-knowledge.json")
        self.clf_sample = self._trained_clf()

    def _trained_clf(self) -> bytes:
        spec = json.loads((SAMPLES / "neural" / "code-review.model.json").read_text())
        spec["training"]["epochs"] = 1
        data = SAMPLES / "neural" / "code_review.json"
        self.engine.neural.train(spec, data, name="fuzz-sample", backend="numpy")
        out = self.root / "sample.clf"
        self.engine.neural.export("fuzz-sample", out)
        return out.read_bytes()

    def write(self, name: str, data: bytes) -> Path:
        path = self.root / name
        path.write_bytes(data)
        return path

    def close(self) -> None:
        self.engine.close()


def counts(tables: tuple[str, ...]) -> dict[str, int]:
    return {t: m.MODELS_BY_TABLE[t].select().count() for t in tables}


def outcome(call: Callable[[], object], tables: tuple[str, ...] = ()) -> str:
    """Run a parser: "ok", or "error" for a clean one-line error that changed no table."""
    before = counts(tables)
    try:
        call()
    except CLEAN_ERRORS as exc:
        text = str(exc)
        assert text and "\n" not in text, f"error message is not one line: {text!r}"
        after = counts(tables)
        assert after == before, f"a failed import wrote rows: {before} -> {after}"
        return "error"
    return "ok"


# -- targets ------------------------------------------------------------------------------


def clf_import(fz: Fuzzing, data: bytes) -> str:
    path = fz.write("input.clf", data)
    return outcome(
        lambda: fz.engine.neural.import_(path, name="fuzzed"),
        ("neural_models", "training_runs", "training_history", "model_aliases"),
    )


def model_spec(fz: Fuzzing, data: bytes) -> str:
    from workbench.neural.spec import parse_spec

    return outcome(lambda: parse_spec(fz.write("input.model.json", data)))


def training_data(suffix: str) -> Callable[[Fuzzing, bytes], str]:
    def target(fz: Fuzzing, data: bytes) -> str:
        from workbench.neural.data import load_dataset
        from workbench.neural.spec import parse_spec

        spec = parse_spec(copy.deepcopy(DATA_SPEC))
        return outcome(lambda: load_dataset(fz.write(f"input{suffix}", data), spec))

    target.__name__ = f"training_data_{suffix[1:]}"
    return target


def task_json(fz: Fuzzing, data: bytes) -> str:
    from workbench.pipeline.tasks import load_task

    folder = fz.root / "task"
    folder.mkdir(exist_ok=True)
    (folder / "solution.py").write_text("def f():\n    return 1\n")
    (folder / "test_solution.py").write_text("def test_f():\n    pass\n")
    (folder / "task.json").write_bytes(data)
    return outcome(lambda: load_task(folder))


def memory_jsonl(fz: Fuzzing, data: bytes) -> str:
    path = fz.write("input.jsonl", data)
    return outcome(lambda: fz.engine.memory.import_jsonl(path), ("vector_memory",))


HUB_TABLES = ("channels", "knowledge_items", "knowledge_versions", "knowledge_votes",
              "knowledge_applications", "knowledge_deliveries")  # fmt: skip


def hub_json(fz: Fuzzing, data: bytes) -> str:
    path = fz.write("input-knowledge.json", data)
    return outcome(lambda: fz.engine.hub.import_file(path), HUB_TABLES)


# -- inputs -------------------------------------------------------------------------------

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                 max_size=4),
    max_leaves=12,
)  # fmt: skip


def _slots(doc: object) -> list[tuple[object, object]]:
    """Every (container, key) in a JSON document."""
    found: list[tuple[object, object]] = []
    stack = [doc]
    while stack:
        node = stack.pop()
        keys = list(node) if isinstance(node, dict) else range(len(node)) if isinstance(
            node, list) else []  # fmt: skip
        for key in keys:
            found.append((node, key))
            stack.append(node[key])
    return found


@st.composite
def mutated(draw, sample: object) -> object:
    """A real document with one to four values replaced, removed or added."""
    doc = copy.deepcopy(sample)
    for _ in range(draw(st.integers(1, 4))):
        slots = _slots(doc)
        if not slots:
            return draw(json_values)
        container, key = draw(st.sampled_from(slots))
        action = draw(st.sampled_from(("replace", "replace", "delete", "add")))
        if action == "replace":
            container[key] = draw(json_values)
        elif action == "delete":
            del container[key]
        elif isinstance(container, dict):
            container[draw(st.text(max_size=10))] = draw(json_values)
        else:
            container.append(draw(json_values))
    return doc


def as_json_bytes(doc: object) -> bytes:
    return json.dumps(doc, allow_nan=True).encode()


@st.composite
def damaged(draw, raw: bytes) -> bytes:
    """Valid bytes truncated or with a few bytes overwritten."""
    data = bytearray(raw)
    if draw(st.booleans()) and data:
        data = data[: draw(st.integers(0, len(data) - 1))]
    for _ in range(draw(st.integers(0, 4))):
        if data:
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    return bytes(data)


def json_inputs(sample: object) -> st.SearchStrategy[bytes]:
    raw = as_json_bytes(sample)
    return st.one_of(
        mutated(sample).map(as_json_bytes),
        damaged(raw),
        json_values.map(as_json_bytes),
        st.binary(max_size=200),
    )


def read_json(path: Path) -> object:
    return json.loads(path.read_text(encoding="utf-8"))


def clf_inputs(clf: bytes) -> st.SearchStrategy[bytes]:
    with zipfile.ZipFile(io.BytesIO(clf)) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        weights = zf.read("weights.npz")

    def repack(doc: object) -> bytes:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("manifest.json", as_json_bytes(doc))
            zf.writestr("weights.npz", weights)
        return buf.getvalue()

    return st.one_of(mutated(manifest).map(repack), damaged(clf), st.binary(max_size=300))


def jsonl_inputs() -> st.SearchStrategy[bytes]:
    lines = (SAMPLES / "memory" / "vector.jsonl").read_text().splitlines()[:6]
    entries = [json.loads(line) for line in lines]
    line = st.one_of(
        st.sampled_from(entries).flatmap(mutated).map(lambda d: json.dumps(d, allow_nan=True)),
        st.text(max_size=40),
    )
    return st.one_of(
        st.lists(line, max_size=6).map(lambda ls: "\n".join(ls).encode("utf-8", "surrogatepass")),
        st.binary(max_size=200),
    )


def csv_inputs() -> st.SearchStrategy[bytes]:
    cell = st.one_of(st.text(max_size=12), st.integers(-1000, 1000).map(str),
                     st.floats().map(str), st.sampled_from(["a", "b", "c", ""]))  # fmt: skip

    good_row = st.tuples(st.text(max_size=12), st.integers(-9, 9).map(str),
                         st.sampled_from(["a", "b", "c"])).map(list)  # fmt: skip

    def to_csv(rows: list[list[str]]) -> bytes:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["text", "n", "label"])
        writer.writerows(rows)
        return out.getvalue().encode("utf-8", "surrogatepass")

    return st.one_of(
        st.lists(st.lists(cell, min_size=0, max_size=4), max_size=8).map(to_csv),
        st.lists(
            st.one_of(good_row, good_row, st.lists(cell, max_size=4)), min_size=3, max_size=9
        ).map(to_csv),
        st.binary(max_size=200),
    )


def npz_inputs() -> st.SearchStrategy[bytes]:
    from hypothesis.extra import numpy as hnp

    dtypes = st.sampled_from(["f4", "f8", "i4", "i8", "U3", "b1", "u1", "c8"])
    array = dtypes.flatmap(
        lambda dt: hnp.arrays(dt, hnp.array_shapes(min_dims=0, max_dims=3, max_side=9))
    )
    keys = st.sampled_from(["X", "y", "X_val", "y_val", "label_names", "other"])

    def to_npz(arrays: dict[str, np.ndarray]) -> bytes:
        buf = io.BytesIO()
        np.savez(buf, **arrays)
        return buf.getvalue()

    valid = {"X": np.zeros((6, 8), np.float32), "y": np.array([0, 1, 2, 0, 1, 2])}
    return st.one_of(
        st.dictionaries(keys, array, max_size=4).map(to_npz),
        damaged(to_npz(valid)),
        st.binary(max_size=200),
    )


def strategies(fz: Fuzzing) -> dict[str, tuple[Callable[[Fuzzing, bytes], str], st.SearchStrategy]]:
    """name -> (target, input strategy)."""
    hub_sample = read_json(fz.root / "seed-knowledge.json")
    hub_sample["items"] = hub_sample["items"][:2]
    data_json = read_json(SAMPLES / "neural" / "code_review.json")
    by_label: dict[str, list] = {}
    for record in data_json["trainingData"]:
        by_label.setdefault(record["label"], []).append(record)
    data_json = {"trainingData": [r for rows in by_label.values() for r in rows[:3]]}
    task = read_json(SAMPLES / "tasks" / "fizzbuzz_variant" / "task.json")
    return {
        "clf": (clf_import, clf_inputs(fz.clf_sample)),
        "model-json": (model_spec, json_inputs(read_json(SAMPLES / "neural" /
                                                         "code-review.model.json"))),
        "data-json": (training_data(".json"), json_inputs(data_json)),
        "data-csv": (training_data(".csv"), csv_inputs()),
        "data-npz": (training_data(".npz"), npz_inputs()),
        "task-json": (task_json, json_inputs(task)),
        "memory-jsonl": (memory_jsonl, jsonl_inputs()),
        "hub-json": (hub_json, json_inputs(hub_sample)),
    }  # fmt: skip


def seeds(fz: Fuzzing) -> dict[str, list[bytes]]:
    """Valid inputs per target: the starting corpus for atheris."""
    data = SAMPLES / "neural"
    csv_rows = ["text,n,label"] + [f"row {i},{i},{'abc'[i % 3]}" for i in range(9)]
    npz = io.BytesIO()
    np.savez(npz, X=np.zeros((6, 8), np.float32), y=np.array([0, 1, 2, 0, 1, 2]))
    return {
        "clf": [fz.clf_sample],
        "model-json": [(data / "code-review.model.json").read_bytes(),
                       json.dumps(DATA_SPEC).encode()],
        "data-json": [(data / "code_review.json").read_bytes()],
        "data-csv": ["\n".join(csv_rows).encode()],
        "data-npz": [npz.getvalue()],
        "task-json": [(SAMPLES / "tasks" / "fizzbuzz_variant" / "task.json").read_bytes()],
        "memory-jsonl": [(SAMPLES / "memory" / "vector.jsonl").read_bytes()],
        "hub-json": [(fz.root / "seed-knowledge.json").read_bytes()],
    }  # fmt: skip


TARGETS: dict[str, Callable[[Fuzzing, bytes], str]] = {
    "clf": clf_import,
    "model-json": model_spec,
    "data-json": training_data(".json"),
    "data-csv": training_data(".csv"),
    "data-npz": training_data(".npz"),
    "task-json": task_json,
    "memory-jsonl": memory_jsonl,
    "hub-json": hub_json,
}
