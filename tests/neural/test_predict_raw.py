"""`neural predict --input FILE` on a raw source file: one record per file, or per line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.test_cli import assert_one_line_error, run_cli
from workbench.engine import Engine

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "sample_data" / "neural" / "code-review.model.json"
DATA = ROOT / "sample_data" / "neural" / "code_review.json"
NAME = "code-review-classifier"
SNIPPET = 'query = "SELECT * FROM users WHERE id=" + user_id\ncursor.execute(query)\n\n' \
          'api_key = "sk-live-123"\n'  # fmt: skip


@pytest.fixture
def db(tmp_path) -> str:
    path = tmp_path / "s.db"
    with Engine(path) as engine:
        engine.neural.train(SPEC, DATA, epochs=20)
    return str(path)


def test_a_raw_file_is_one_record_or_one_per_line(db, tmp_path):
    source = tmp_path / "snippet.py"
    source.write_text(SNIPPET)
    whole = run_cli("neural", "predict", "--db", db, "--model", NAME, "--input", str(source),
                    "--json")  # fmt: skip
    assert whole.returncode == 0, whole.stderr
    (one,) = json.loads(whole.stdout)
    with Engine(db) as engine:  # the same text given as a JSON record predicts the same
        record = {"code": SNIPPET, "context": "", "review_rounds": None}
        fs = engine.neural.load(NAME).feature_spec
        record["review_rounds"] = fs.mean[0]
        assert engine.neural.predict(NAME, [record])[0]["prediction"] == one["prediction"]
    per_line = run_cli("neural", "predict", "--db", db, "--model", NAME, "--input", str(source),
                       "--lines", "--json")  # fmt: skip
    rows = json.loads(per_line.stdout)
    assert len(rows) == 3  # the blank line is skipped
    text = run_cli("neural", "predict", "--db", db, "--model", NAME, "--input", str(source))
    assert text.returncode == 0 and one["prediction"] in text.stdout


@pytest.mark.parametrize(
    ("content", "args", "fragment"),
    [
        ("x = 1\n", ("--field", "nope"), "not a text field of this model (code, context)"),
        ("\n\n  \n", (), "no text to predict on"),
        (b"\xff\xfe\x00bad", (), "not UTF-8 text"),
    ],
)
def test_raw_input_bad_cases_are_one_line_errors(db, tmp_path, content, args, fragment):
    source = tmp_path / "input.txt"
    if isinstance(content, bytes):
        source.write_bytes(content)
    else:
        source.write_text(content)
    assert_one_line_error(
        run_cli("neural", "predict", "--db", db, "--model", NAME, "--input", str(source), *args),
        fragment,
    )
