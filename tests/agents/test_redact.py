"""The redactor: recall on generated secrets, ordinary text untouched, idempotence, private
spans, binary input, JSON fields, and parity with detect-secrets' format detectors."""

from __future__ import annotations

import importlib.util
import json
import sysconfig
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.agents.secret_corpus import GENERATORS, corpus
from workbench.agents.redact import find_secrets, redact_bytes, redact_json, redact_text

CORPUS = corpus(per_kind=20, seed=7)


def test_recall_on_generated_secrets_is_at_least_99_percent():
    missed = [(kind, text) for kind, text, secret in CORPUS if secret in redact_text(text)[0]]
    assert len(missed) <= 0.01 * len(CORPUS), missed[:5]


@pytest.mark.parametrize("kind", sorted(GENERATORS))
def test_every_kind_is_caught(kind):
    samples = [(text, secret) for k, text, secret in CORPUS if k == kind]
    caught = sum(secret not in redact_text(text)[0] for text, secret in samples)
    assert caught >= 0.9 * len(samples), (kind, samples[0])


def test_marker_is_typed_and_the_command_around_it_stays():
    token = "ghp_" + "A1b2C3d4" * 5
    clean, counts = redact_text(f"git push https://{token}@github.com/acme/app.git main")
    assert clean == "git push https://[redacted:github-token]@github.com/acme/app.git main"
    assert counts == Counter({"github-token": 1})


def test_url_password_is_redacted_but_the_user_stays():
    clean, _ = redact_text("psql postgres://app:Sup3r-S3cret@db:5432/prod -c 'select 1'")
    assert clean == "psql postgres://app:[redacted:url-credentials]@db:5432/prod -c 'select 1'"


ORDINARY = [
    "def tokenize(self, text): return text.split()",
    "token = tokens[0]",
    "password = getpass.getpass('Password: ')",
    "if token == 'NAME':",
    "api_key: str | None = None",
    "export PATH=/usr/local/bin:$PATH",
    "SECRET_KEY = os.environ['SECRET_KEY']",
    "the bearer token is sent in the Authorization header",
    "git commit -m 'Rotate the deploy key and update the docs'",
    "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "pytest -q tests/agents --maxfail=1",
    "url = 'https://docs.python.org/3/library/re.html'",
    "HKEY_LOCAL_MACHINE = 'HKLM'",
    "handler = logging.StreamHandler(sys.stderr)",
]


@pytest.mark.parametrize("line", ORDINARY)
def test_ordinary_text_is_left_alone(line):
    assert redact_text(line) == (line, Counter())


def test_stdlib_sample_has_almost_no_false_positives():
    """A slice of real code (the benchmark runs the whole standard library)."""
    root = Path(sysconfig.get_paths()["stdlib"])
    lines = []
    for name in ("smtplib.py", "tokenize.py", "netrc.py", "urllib/request.py", "secrets.py"):
        path = root / name
        if path.exists():
            lines += path.read_text(encoding="utf-8").splitlines()
    assert len(lines) > 1000
    flagged = [line for line in lines if find_secrets(line)]
    assert len(flagged) <= 0.001 * len(lines), flagged


def test_redaction_is_idempotent_and_never_marks_a_marker():
    for _kind, text, _secret in CORPUS[::7]:
        once, _ = redact_text(text)
        twice, counts = redact_text(once)
        assert twice == once
        assert not counts
        assert "[redacted:[redacted" not in once


def test_existing_markers_are_left_alone():
    text = "password=[redacted:secret-assignment] token: [redacted:github-token]"
    assert redact_text(text) == (text, Counter())


def test_private_spans_are_dropped_whole():
    clean, counts = redact_text("keep <private>my ssn 078-05-1120</private> this <PRIVATE>x")
    assert clean == "keep  this "
    assert counts["private"] == 2


def test_invalid_utf8_is_stored_escaped_and_redacted():
    raw = b"\xff\xfebinary\x00 AKIAIOSFODNN7EXAMPL3 \xc3("
    clean, counts = redact_bytes(raw)
    assert "\\xff\\xfe" in clean and "\\x00" in clean
    assert "AKIAIOSFODNN7EXAMPL3" not in clean and counts["aws-access-key"] == 1
    clean.encode("utf-8")  # storable


def test_lone_surrogates_and_nul_become_storable():
    clean, _ = redact_text('{"out": "\ud800 tail\x00"}')
    clean.encode("utf-8")
    assert "\\ud800" in clean and "\\x00" in clean


def test_json_values_under_secret_keys_are_redacted_whole_and_keys_kept():
    event = {
        "tool_input": {"command": "ls", "env": {"DB_PASSWORD": "plain words here"}},
        "password": "correct horse battery staple",
        "input_tokens": 1234,
        "author": "Ada Lovelace",
        "list": ["export GITHUB_TOKEN=ghp_" + "x" * 36, 5, None],
    }
    clean, counts = redact_json(event)
    assert clean["password"] == "[redacted:secret-field]"
    assert clean["tool_input"]["env"]["DB_PASSWORD"] == "[redacted:secret-field]"
    assert clean["input_tokens"] == 1234 and clean["author"] == "Ada Lovelace"
    assert clean["list"][0] == "export GITHUB_TOKEN=[redacted:github-token]"
    assert counts == Counter({"secret-field": 2, "github-token": 1})
    assert json.loads(json.dumps(clean)) == clean


WORD = st.text(alphabet="abcdefghij klmnop,.:-/()\n", max_size=40)


@settings(max_examples=60, deadline=None)
@given(before=WORD, after=WORD, index=st.integers(0, len(CORPUS) - 1))
def test_a_secret_is_caught_whatever_text_surrounds_it(before, after, index):
    _kind, text, secret = CORPUS[index]
    clean, _ = redact_text(f"{before} {text} {after}")
    assert secret not in clean


# --- parity with detect-secrets (a test-only dependency) -----------------------------------

FORMAT_PLUGINS = (
    "ArtifactoryDetector", "AWSKeyDetector", "AzureStorageKeyDetector", "BasicAuthDetector",
    "DiscordBotTokenDetector", "GitHubTokenDetector", "GitLabTokenDetector", "JwtTokenDetector",
    "MailchimpDetector", "NpmDetector", "OpenAIDetector", "PrivateKeyDetector",
    "PypiTokenDetector", "SendGridDetector", "SlackDetector", "SquareOAuthDetector",
    "StripeDetector", "TelegramBotTokenDetector", "TwilioKeyDetector",
)  # fmt: skip


def detect_secrets_values(text: str) -> set[str]:
    """What detect-secrets' format detectors (not its keyword or entropy scans) find."""
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
    from detect_secrets.settings import transient_settings

    classes = {c.__name__: c for c in get_mapping_from_secret_type_to_class().values()}
    found: set[str] = set()
    with transient_settings({"plugins_used": [{"name": n} for n in FORMAT_PLUGINS]}):
        for name in FORMAT_PLUGINS:
            plugin = classes[name]()
            for number, line in enumerate(text.splitlines(), 1):
                found.update(
                    s.secret_value for s in plugin.analyze_line("x", line, number) if s.secret_value
                )
    return found


@pytest.mark.skipif(
    importlib.util.find_spec("detect_secrets") is None,
    reason="detect-secrets is not installed (pip install -e '.[test]' brings it)",
)
def test_everything_detect_secrets_finds_in_the_corpus_we_redact():
    found_any = 0
    for _kind, text, _secret in CORPUS:
        clean, _ = redact_text(text)
        for value in detect_secrets_values(text):
            found_any += 1
            # PrivateKeyDetector reports the BEGIN line only; the key body is what matters
            if value.startswith("BEGIN") or value.startswith("PuTTY"):
                continue
            assert value not in clean, (value, text)
    assert found_any > len(GENERATORS)  # it really ran
