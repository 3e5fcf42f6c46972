"""The model2vec embedder: a tiny model the test builds on disk, loaded as users load theirs
(`--embedder model2vec:PATH`), and the one-line errors for paths that are not models."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.test_cli import assert_one_line_error, run_cli
from workbench.engine import Engine
from workbench.memory.embedder import HashingEmbedder, Model2VecEmbedder, make_embedder

pytest.importorskip("model2vec", reason="the embeddings extra (model2vec) is not installed")

WORDS = ["[UNK]", "[PAD]", "sqlite", "database", "store", "lock", "busy", "timeout",
         "bake", "cake", "oven", "flour", "wasm", "kernel", "simd"]  # fmt: skip


def build_model(path: Path, dim: int = 8, seed: int = 0) -> np.ndarray:
    """A real model2vec directory (safetensors, tokenizer.json, config.json) with a
    word-level vocabulary: "database" and "sqlite" share a direction, "cake" another."""
    from model2vec import StaticModel
    from tokenizers import Tokenizer
    from tokenizers.models import WordLevel
    from tokenizers.pre_tokenizers import Whitespace

    tokenizer = Tokenizer(WordLevel({w: i for i, w in enumerate(WORDS)}, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = Whitespace()
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(len(WORDS), dim)).astype(np.float32)
    base_db, base_cake = rng.normal(size=dim), rng.normal(size=dim)
    for word in ("sqlite", "database", "store", "lock", "busy", "timeout"):
        vectors[WORDS.index(word)] = base_db + 0.1 * rng.normal(size=dim)
    for word in ("bake", "cake", "oven", "flour"):
        vectors[WORDS.index(word)] = base_cake + 0.1 * rng.normal(size=dim)
    StaticModel(vectors, tokenizer, normalize=True).save_pretrained(path)
    return vectors


@pytest.fixture
def model_dir(tmp_path) -> Path:
    path = tmp_path / "tiny-m2v"
    build_model(path)
    return path


def test_embeds_as_the_mean_of_its_token_vectors(model_dir):
    from tokenizers import Tokenizer

    emb = Model2VecEmbedder(model_dir)
    assert emb.dim == 8 and emb.expensive
    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    from safetensors.numpy import load_file

    table = load_file(str(model_dir / "model.safetensors"))["embeddings"]
    ids = tokenizer.encode("sqlite busy timeout", add_special_tokens=False).ids
    expected = table[ids].mean(axis=0)
    expected /= np.linalg.norm(expected)
    got = emb.embed(["sqlite busy timeout"])[0]
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    assert np.linalg.norm(emb.embed(["bake a cake", ""]), axis=1) == pytest.approx([1.0, 0.0])


def test_name_follows_the_model_not_its_path(tmp_path):
    build_model(tmp_path / "a", seed=0)
    build_model(tmp_path / "copy", seed=0)
    build_model(tmp_path / "other", seed=1)
    a, copy, other = (Model2VecEmbedder(tmp_path / n) for n in ("a", "copy", "other"))
    assert a.name == copy.name
    assert a.name != other.name
    assert a.name.startswith("model2vec-") and a.name.endswith("-8")


def test_memory_search_with_model2vec_finds_paraphrases(tmp_path, model_dir):
    with Engine(tmp_path / "m.db", embedder=f"model2vec:{model_dir}") as engine:
        memory = engine.memory
        memory.store("vector", "database lock busy", namespace="n", key="db")
        memory.store("vector", "oven flour", namespace="n", key="baking")
        hits = memory.search("sqlite timeout", "n", 2)
        assert [h.key for h in hits] == ["db", "baking"]
        assert hits[0].score > 0.9 > hits[1].score
    # the same store read with the default embedder does not compare across embedders
    with Engine(tmp_path / "m.db") as engine:
        assert engine.memory.search("sqlite timeout", "n", 2) == []


def test_make_embedder_forms_and_errors(tmp_path, model_dir):
    assert isinstance(make_embedder(None), HashingEmbedder)
    assert make_embedder("hashing:64").dim == 64
    assert isinstance(make_embedder(f"model2vec:{model_dir}"), Model2VecEmbedder)
    (tmp_path / "empty").mkdir()
    (tmp_path / "file.bin").write_bytes(b"\0" * 16)
    broken = tmp_path / "broken"
    broken.mkdir()
    for name in ("model.safetensors", "tokenizer.json"):
        (broken / name).write_bytes(b"not a model")
    (broken / "config.json").write_text(json.dumps({}))
    cases = {
        "bert": "unknown embedder",
        "hashing:zero": "positive integer",
        "model2vec": "needs a path",
        f"model2vec:{tmp_path / 'nowhere'}": "not a directory",
        f"model2vec:{tmp_path / 'file.bin'}": "not a directory",
        f"model2vec:{tmp_path / 'empty'}": "missing model.safetensors, tokenizer.json",
        f"model2vec:{broken}": "not a readable model2vec model",
    }
    for spec, message in cases.items():
        with pytest.raises(ValueError, match=message):
            make_embedder(spec)


def test_cli_embedder_flag_env_and_bad_path(tmp_path, model_dir):
    db = str(tmp_path / "cli.db")
    spec = f"model2vec:{model_dir}"
    stored = run_cli("memory", "store", "--db", db, "--text", "database lock busy",
                     "--namespace", "n", "--key", "db", "--embedder", spec)  # fmt: skip
    assert stored.returncode == 0, stored.stderr
    found = run_cli("memory", "search", "sqlite timeout", "--db", db, "--namespace", "n",
                    "--json", env={"WORKBENCH_EMBEDDER": spec})  # fmt: skip
    assert found.returncode == 0, found.stderr
    assert [hit["key"] for hit in json.loads(found.stdout)] == ["db"]
    bad = run_cli("memory", "search", "x", "--db", db, "--embedder", f"model2vec:{tmp_path}")
    assert_one_line_error(bad, "is not a model2vec model (missing model.safetensors")


def test_settings_file_names_the_embedder(tmp_path, model_dir, isolated_env):
    isolated_env.write_text(json.dumps({"embedder": f"model2vec:{model_dir}"}))
    with Engine(tmp_path / "s.db") as engine:
        assert engine.memory.embedder.name.startswith("model2vec-")


def test_optimize_re_embeds_entries_made_by_the_previous_embedder(tmp_path, model_dir):
    with Engine(tmp_path / "o.db") as engine:
        engine.memory.store("vector", "database lock busy", namespace="n", key="db")
    with Engine(tmp_path / "o.db", embedder=f"model2vec:{model_dir}") as engine:
        assert engine.memory.search("sqlite timeout", "n", 1) == []
        engine.memory.optimize()
        assert [h.key for h in engine.memory.search("sqlite timeout", "n", 1)] == ["db"]
