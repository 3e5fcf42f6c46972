"""The optional embedding block of text features: a model2vec model's sentence vectors
concatenated to the n-gram blocks, stored by path + fingerprint, refused in one line when
that model is gone or changed, and kept only when cross-validation shows it helps."""

from __future__ import annotations

import builtins
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.test_cli import assert_one_line_error, run_cli
from workbench.engine import Engine
from workbench.neural import selection
from workbench.neural.data import FeatureSpec
from workbench.neural.textfeatures import TextFeatures, embedder_ref, fingerprint_of, load_embedder

pytest.importorskip("model2vec", reason="the embeddings extra (model2vec) is not installed")

# 24 invented words per class, each used by ONE text only: no word or character n-gram
# a held-out text holds was seen in training, so only the model's vectors (where a class's
# words share a direction, like synonyms) can carry the class across folds
RNG = np.random.default_rng(3)
LETTERS = list("bcdfghjklmnpqrstvwxz")


def _word() -> str:
    return "".join(RNG.choice(LETTERS, size=7))


SYN = {c: [_word() for _ in range(24)] for c in ("hot", "cold")}
FILLER = ["the", "a", "is", "very"]
SYN_ROWS = [(f"the {w} is very", c) for c in SYN for w in SYN[c]]
# the class word repeats (n-grams see it); the model knows only the shared fillers
PLAIN_ROWS = [
    (f"{w} {f}", c) for c, w in (("hot", "ember"), ("cold", "frost")) for f in SYN["hot"][:12]
]


def build_model(path: Path, words: list[str], groups: dict[str, list[str]], seed: int = 0) -> None:
    """A real model2vec directory whose words in one group share a direction."""
    from model2vec import StaticModel
    from tokenizers import Tokenizer
    from tokenizers.models import WordLevel
    from tokenizers.pre_tokenizers import Whitespace

    vocab = ["[UNK]", "[PAD]", *words]
    tokenizer = Tokenizer(WordLevel({w: i for i, w in enumerate(vocab)}, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = Whitespace()
    rng = np.random.default_rng(seed)
    dim = 16
    vectors = rng.normal(size=(len(vocab), dim)).astype(np.float32)
    for members in groups.values():
        base = rng.normal(size=dim)
        for w in members:
            vectors[vocab.index(w)] = base + 0.05 * rng.normal(size=dim)
    StaticModel(vectors, tokenizer, normalize=True).save_pretrained(path)


ALL_WORDS = sorted({*FILLER, "ember", "frost", *SYN["hot"], *SYN["cold"]})


@pytest.fixture
def synonyms(tmp_path) -> str:
    build_model(tmp_path / "syn", ALL_WORDS, SYN)
    return f"model2vec:{tmp_path / 'syn'}"


@pytest.fixture
def random_vectors(tmp_path) -> str:
    # the class words are not in its vocabulary: its vectors only see the shared fillers
    build_model(tmp_path / "rand", [w for w in ALL_WORDS if w not in ("ember", "frost")], {})
    return f"model2vec:{tmp_path / 'rand'}"


def test_embedding_block_is_deterministic_and_reproduced_after_a_round_trip(synonyms):
    texts = [t for t, _ in SYN_ROWS]
    tf = TextFeatures(64, 64, embedder=embedder_ref(synonyms)).fit(texts)
    assert tf.size == 128 + 16 and tf.blocks[-1] == "embedding"
    X = tf.transform(texts[:5])
    assert X.shape == (5, 144)
    np.testing.assert_array_equal(X, tf.transform(texts[:5]))
    emb = X[:, 128:]
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, rtol=1e-5)
    d = FeatureSpec(144, hashed=["text"], text=tf).to_dict()
    assert d["text"]["version"] == 2 and d["text"]["embedder"]["spec"] == synonyms
    again = FeatureSpec.from_dict(json.loads(json.dumps(d))).text
    np.testing.assert_array_equal(again.transform(texts[:5]), X)


def test_specs_without_the_block_stay_version_1():
    assert TextFeatures(64, 64).to_dict()["version"] == 1
    old = {"version": 1, "word_dim": 64, "char_dim": 0}
    assert TextFeatures.from_dict(old).embedder is None


def test_a_bad_embedder_reference_is_refused_by_name():
    with pytest.raises(ValueError, match=r"text_features.embedder: must be"):
        TextFeatures.from_dict({"word_dim": 8, "embedder": {"spec": "hashing", "dim": 3}})


def _scores(out: dict) -> dict[str, float]:
    return {r["features"]: r["cv_accuracy"] for r in out["table"] if r["stage"] == "features"}


def test_cv_keeps_the_embedding_block_when_synonyms_carry_the_class(synonyms):
    texts, labels = [t for t, _ in SYN_ROWS], [y for _, y in SYN_ROWS]
    full = TextFeatures(64, 128, embedder=embedder_ref(synonyms))
    out = selection.select(texts, labels, full, folds=3, grid=(selection.BASE,),
                           epochs=20, backend="numpy")  # fmt: skip
    assert "embedding" in out["features"]
    assert out["text_features"]["embedder"]["spec"] == synonyms
    rows = _scores(out)
    with_emb = rows["+".join(full.blocks)]
    without = rows["+".join(selection.variant(full, ("embedding",)).blocks)]
    assert with_emb > without  # measured on the same folds


def test_cv_drops_the_embedding_block_when_it_adds_nothing(random_vectors):
    texts, labels = [t for t, _ in PLAIN_ROWS], [y for _, y in PLAIN_ROWS]
    full = TextFeatures(64, 128, embedder=embedder_ref(random_vectors))
    out = selection.select(texts, labels, full, folds=3, grid=(selection.BASE,),
                           epochs=20, backend="numpy")  # fmt: skip
    assert "embedding" not in out["features"]
    assert "embedder" not in out["text_features"] or not out["text_features"]["embedder"]


def test_without_the_extra_no_embedder_means_no_change(monkeypatch, synonyms):
    real_import = builtins.__import__

    def no_model2vec(name, *args, **kwargs):
        if name == "model2vec" or name.startswith("model2vec."):
            raise ImportError("no model2vec")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_model2vec)
    assert embedder_ref(None) is None and embedder_ref("hashing") is None
    texts, labels = [t for t, _ in PLAIN_ROWS], [y for _, y in PLAIN_ROWS]
    out = selection.select(texts, labels, TextFeatures(64, 64), folds=3,
                           grid=(selection.BASE,), epochs=5, backend="numpy")  # fmt: skip
    assert all("embedding" not in r["features"] for r in out["table"])
    with pytest.raises(ValueError, match="needs the embeddings extra"):
        embedder_ref(synonyms)


@pytest.fixture
def embedded_model(tmp_path, synonyms):
    """A store with a text model trained with the embedding block."""
    doc = {"trainingData": [{"text": t, "label": y} for t, y in SYN_ROWS]}
    (tmp_path / "d.json").write_text(json.dumps(doc))
    tf = TextFeatures(64, 64, embedder=embedder_ref(synonyms))
    spec = selection.candidate_spec(selection.Candidate(None, 0.01), tf.size, 2,
                                    name="em", epochs=10, text_features=tf.config())  # fmt: skip
    with Engine(tmp_path / "s.db") as engine:
        engine.neural.train(spec, tmp_path / "d.json", name="em")
        first = engine.neural.predict("em@1", [{"text": SYN_ROWS[0][0]}])
    return tmp_path, Path(synonyms.partition(":")[2]), first


def test_a_version_predicts_with_its_model_and_is_refused_without_it(embedded_model):
    tmp_path, model_dir, first = embedded_model
    db = str(tmp_path / "s.db")
    text = json.dumps({"text": SYN_ROWS[0][0]})
    ok = run_cli("neural", "predict", "--model", "em@1", "--input", text, "--db", db, "--json")
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)[0]["probabilities"] == first[0]["probabilities"]
    # another model at the same path: a different fingerprint
    shutil.rmtree(model_dir)
    build_model(model_dir, ALL_WORDS, SYN, seed=9)
    other = run_cli("neural", "predict", "--model", "em@1", "--input", text, "--db", db)
    assert_one_line_error(other, "fingerprint")
    # the model gone
    shutil.rmtree(model_dir)
    gone = run_cli("neural", "predict", "--model", "em@1", "--input", text, "--db", db)
    assert_one_line_error(gone, "needs the text embedder")


def test_fingerprint_matches_the_memory_embedders_name(synonyms):
    emb = load_embedder(synonyms)
    assert emb.name == f"model2vec-{fingerprint_of(emb)}-16"


def test_the_recipe_line_names_a_kept_embedding_by_its_fingerprint():
    from workbench.ui.widgets.recipe import recipe_lines

    sel = {"model": "linear l2=0.1", "features": ["words1-2", "embedding"], "folds": 3,
           "cv_accuracy": 0.9, "rows": 40, "table": [],
           "text_features": {"embedder": {"spec": "model2vec:m", "fingerprint": "0123456789ab",
                                          "dim": 16}}}  # fmt: skip
    assert "on words1-2+model2vec(01234567)" in recipe_lines(sel)[0].plain
    sel["features"] = ["words1-2"]
    del sel["text_features"]
    assert "on words1-2 ·" in recipe_lines(sel)[0].plain


def test_train_with_a_missing_embedder_model_is_one_line(tmp_path):
    db = str(tmp_path / "s.db")
    missing = f"model2vec:{tmp_path / 'nowhere'}"
    result = run_cli("patterns", "train", "--embedder", missing, "--db", db)
    assert_one_line_error(result, "not a directory")
    spec = tmp_path / "a.json"
    spec.write_text("{}")
    result = run_cli("neural", "train", "--model", str(spec), "--embedder", missing, "--db", db)
    assert_one_line_error(result, "--embedder applies to one text model")


def test_make_static_model_converts_a_wordllama_style_wheel(tmp_path):
    """The conversion script reads the wheel's table and tokenizer as data and writes a
    model the embedder loads; a wheel without them is one error line, exit 2."""
    import subprocess
    import sys
    import zipfile

    from safetensors.numpy import save
    from tokenizers import Tokenizer
    from tokenizers.models import WordLevel
    from tokenizers.pre_tokenizers import Whitespace

    from workbench.memory.embedder import Model2VecEmbedder

    vocab = ["[UNK]", "hot", "warm", "cold"]
    tok = Tokenizer(WordLevel({w: i for i, w in enumerate(vocab)}, unk_token="[UNK]"))
    tok.pre_tokenizer = Whitespace()
    table = np.eye(4, 6, dtype=np.float32)
    table[2] = table[1]  # warm = hot
    wheel = tmp_path / "wordllama-0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr("wordllama/weights/l2_supercat_256.safetensors", save({"e": table}))
        zf.writestr("wordllama/tokenizers/l2_supercat_tokenizer_config.json", tok.to_str())
    script = Path(__file__).resolve().parents[2] / "scripts" / "make_static_model.py"
    out = tmp_path / "m2v"
    ok = subprocess.run([sys.executable, str(script), str(wheel), str(out)],
                        capture_output=True, text=True, check=False)  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    v = Model2VecEmbedder(out).embed(["hot", "warm", "cold"])
    assert v[0] @ v[1] == pytest.approx(1.0) and abs(v[0] @ v[2]) < 1e-6
    empty = tmp_path / "empty.whl"
    with zipfile.ZipFile(empty, "w") as zf:
        zf.writestr("x.txt", "")
    bad = subprocess.run([sys.executable, str(script), str(empty), str(tmp_path / "b")],
                         capture_output=True, text=True, check=False)  # fmt: skip
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1
    assert "not a wordllama 0.4 wheel" in bad.stderr
