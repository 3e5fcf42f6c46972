"""Secrets out of agent data before it is stored.

Every string that an agent supplies passes through `redact_text` (or `redact_json` for a
whole event) on its way into the store. A secret is replaced in place by a typed marker,
`[redacted:KIND]`, so the command around it stays readable and searchable; text between
`<private>` and `</private>` is dropped whole.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

MARKER = "[redacted:{kind}]"
PRIVATE_SPAN = re.compile(r"<private>.*?(?:</private>|\Z)", re.DOTALL | re.IGNORECASE)

# (kind, pattern): the secret is group "s" when present, else the whole match.
PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    (
        "private-key",
        re.compile(
            r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----.*?"
            r"(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----|\Z)",
            re.DOTALL,
        ),
    ),
    ("aws-access-key", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    (
        "github-token",
        re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{60,})\b"),
    ),
    ("anthropic-key", re.compile(r"\bsk-ant-[A-Za-z0-9_\-]{20,}")),
    ("openai-key", re.compile(r"\bsk-(?:proj-)?[A-Za-z0-9_\-]{20,}")),
    ("slack-token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    ("jwt", re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")),
    ("url-credentials", re.compile(r"(?<=://)(?P<s>[^\s:/@]+:[^\s/@]+)(?=@)")),
    (
        "authorization-header",
        re.compile(
            r"(?i)\b(?:authorization:\s*)?(?:bearer|basic)\s+(?P<s>[A-Za-z0-9._~+/=\-]{8,})"
        ),
    ),
    (
        "secret-assignment",
        re.compile(
            r"(?i)\b[A-Z0-9_\-]*(?:password|passwd|secret|token|api[_-]?key|access[_-]?key)"
            r"[A-Z0-9_\-]*[\"']?\s*[:=]\s*[\"']?(?P<s>[^\s\"',;]{6,})"
        ),
    ),
]
ALREADY = re.compile(r"\[redacted:[a-z0-9-]+\]")


def redact_text(text: str) -> tuple[str, Counter[str]]:
    """`text` with private spans dropped and secrets replaced by typed markers, and counts."""
    found: Counter[str] = Counter()
    if "<private>" in text.lower():
        text, n = PRIVATE_SPAN.subn("", text)
        found["private"] += n
    for kind, pattern in PATTERNS:
        text = pattern.sub(lambda match, kind=kind: _replace(match, kind, found), text)
    return text, found


def _replace(match: re.Match[str], kind: str, found: Counter[str]) -> str:
    whole = match.group(0)
    secret = match.groupdict().get("s") or whole
    if ALREADY.fullmatch(secret) or secret.startswith("[redacted:"):
        return whole
    found[kind] += 1
    start = match.start("s") - match.start() if match.groupdict().get("s") else 0
    return whole[:start] + MARKER.format(kind=kind) + whole[start + len(secret) :]


def redact_json(value: Any) -> tuple[Any, Counter[str]]:
    """A JSON-like value with every string in it redacted (keys are kept)."""
    found: Counter[str] = Counter()

    def walk(item: Any) -> Any:
        if isinstance(item, str):
            clean, counts = redact_text(item)
            found.update(counts)
            return clean
        if isinstance(item, dict):
            return {key: walk(inner) for key, inner in item.items()}
        if isinstance(item, list):
            return [walk(inner) for inner in item]
        return item

    return walk(value), found
