"""Secrets out of agent data before it is stored.

Every string that an agent supplies passes through `redact_text` (or `redact_json` for a
whole event, `redact_bytes` for raw tool output) on its way into the store. A secret is
replaced in place by a typed marker, `[redacted:KIND]`, so the command around it stays
readable and searchable; text between `<private>` and `</private>` is dropped whole.

Why our own compiled patterns and not `detect-secrets`: importing its scanner took about
100 ms here (the whole hook call has a 100 ms budget), and its line scan marks ordinary
words as high-entropy strings. The catalogue below covers its format detectors (checked
against them on the same corpus by tests/agents/test_redact.py and benchmarks/redaction.py)
plus model-provider keys, URL and `curl -u` credentials, keyword assignments, secret-named
environment variables and high-entropy values in assignment position.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable
from typing import Any

MARKER = "[redacted:{kind}]"
ALREADY = re.compile(r"\[redacted:[a-z0-9-]+\]")
PRIVATE_SPAN = re.compile(r"<private>.*?(?:</private>|\Z)", re.DOTALL | re.IGNORECASE)

# Values that name a secret without being one: placeholders, references, code.
_PLACEHOLDER = re.compile(
    r"(?ix)^(?:none|null|nil|true|false|undefined|empty|string|str|bytes|int|optional"
    r"|required|changeme_?later|redacted|hidden|secret|pass(?:wd|word)?|pwd|pw|token|"
    r"x{3,}|\*{3,}|\.{3,}|-+|<[^>]*>|\$\{?[A-Za-z_][\w]*\}?"
    r"|\$\(.*\)|self\..*|os\.environ.*|env\..*|process\.env.*)$"
)
_TEMPLATE_FIELD = re.compile(r"\{[^{}]*\}|%(?:\([a-z_]+\))?[sdr]")


def _template(value: str) -> bool:
    """A format template (`'%s:%s'`, `'{0}:{1}'`, `Bearer {token}`): little but fields."""
    if "{" not in value and "%" not in value:
        return False
    rest = _TEMPLATE_FIELD.sub("", value)
    return rest != value and sum(c.isalnum() for c in rest) < 4


# Code, not a literal: `self.token`, `password: str`, `rc4_key_st` (digits only with `_`).
_DOTTED_IDENTIFIER = re.compile(r"^(?:[A-Za-z_][A-Za-z_]*|[A-Za-z_]\w*_\w*)(?:\.[A-Za-z_]\w*)*$")
_HEX = re.compile(r"^[0-9a-fA-F]+$")
_SEQUENCE = re.compile(r"(?i)abcdef|012345|qwerty")

_KEYWORDS = (
    r"pass(?:word|wd|phrase)?|pwd|secret|token|api[_-]?key|apikey|access[_-]?key"
    r"|auth[_-]?key|private[_-]?key|account[_-]?key|client[_-]?secret|credentials?"
    r"|session[_-]?key|signing[_-]?key|encryption[_-]?key|master[_-]?key"
)
# The name around a keyword: the keyword ends it, or only a value-ish suffix follows
# (`db_password`, `SECRET_KEY_BASE`, not `token_type`, `PASSED`).
_NAME_SUFFIX = r"(?:[_-]?(?:\d+|value|base|data|b64|hex|str))?"
# An environment variable named for a secret: SECRET/TOKEN/PASSWORD as a component
# anywhere (`SECRET_…`, `GITHUB_TOKEN_RO`), KEY as the last one (`OPENAI_API_KEY`).
_ENV_NAME = (
    r"(?:(?:SECRET|TOKEN|PASSWORD|PASSWD|PASSPHRASE|PWD|CREDENTIALS?)(?:_[A-Z0-9]+)*"
    r"|KEY)(?![A-Za-z0-9_])"
)
_ENV_TRIGGERS = ("SECRET", "TOKEN", "PASSW", "PWD", "CREDENTIAL", "KEY")
_KEYWORD_TRIGGERS = ("pass", "pwd", "secret", "token", "key", "credential")
# A value in assignment position: quoted (group q) or bare (group s).
_VALUE = (
    r"(?:(?P<quote>[\"'`])(?P<q>[^\"'`\s]{4,200}+)(?P=quote)"
    r"|(?P<s>[^\s\"'`,;(){}\[\]<>|&]{6,200}+)(?![(\[]))"
)


def _plausible(value: str) -> bool:
    """A keyword-assigned value that looks like a literal secret, not code or a placeholder."""
    if value.startswith("[redacted:") or _PLACEHOLDER.match(value) or _template(value):
        return False
    if _DOTTED_IDENTIFIER.match(value):  # `token = self.token`, `password: str`
        return "." not in value and _random_letters(value)
    return not value.isdigit()


def _random_letters(value: str) -> bool:
    """Letters that look generated rather than named: long, both cases switching often
    (CamelCase names switch once a word), high entropy."""
    if len(value) < 12 or value.isupper() or value.islower():
        return False
    letters = [c.isupper() for c in value if c.isalpha()]
    switches = sum(a != b for a, b in zip(letters, letters[1:], strict=False))
    if switches < 0.3 * len(letters):
        return False
    return entropy(value) >= 0.8 * math.log2(min(len(value), 64))


def _plausible_literal(value: str) -> bool:
    """A quoted value after a secret keyword: a literal, so identifiers count unless they
    are placeholders or a plain lowercase word (`mode = 'password'`, `kind: "token"`)."""
    if value.startswith("[redacted:") or _PLACEHOLDER.match(value) or _template(value):
        return False
    return not (value.isalpha() and value.islower() and len(value) < 12)


def entropy(value: str) -> float:
    """Shannon entropy in bits per character."""
    counts = Counter(value)
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def _high_entropy(value: str) -> bool:
    """Random-looking: mixed letter case and digits, and near the entropy a random string of
    that length has (identifiers, words and hex digests fall short or are excluded)."""
    if len(value) < 20 or _HEX.match(value) or _DOTTED_IDENTIFIER.match(value):
        return False
    if value.count("_") > 2 or _SEQUENCE.search(value):  # Snake_Case_0001, alphabets
        return False
    has = (
        any(c.islower() for c in value)
        + any(c.isupper() for c in value)
        + any(c.isdigit() for c in value)
    )
    if has < 3:
        return False
    return entropy(value) >= 0.75 * math.log2(min(len(value), 64))


Check = Callable[[str], bool] | None


class Entry:
    """One detector of the catalogue.

    `triggers`: lowercase substrings one of which the lowercased text must hold for the
    pattern to be tried at all (a substring test is far cheaper than a regex scan, and most
    events hold no secret); `cased`: the same, tested on the text as it is. `fold`: the
    pattern is written in lowercase and runs over the lowercased text — Python's `re` scans
    a case-insensitive alternation about 15x slower.
    """

    __slots__ = ("_compiled", "cased", "check", "flags", "fold", "kind", "source", "triggers")

    def __init__(
        self,
        kind: str,
        pattern: str,
        check: Check = None,
        triggers: tuple[str, ...] = (),
        *,
        cased: tuple[str, ...] = (),
        fold: bool = False,
        flags: int = 0,
    ) -> None:
        self.kind = kind
        self.check = check
        self.triggers = triggers
        self.cased = cased
        self.fold = fold
        self.source = pattern
        self.flags = flags
        # compiled on first use: a hook process redacts one event, whose text holds the
        # triggers of few detectors, so most patterns are never compiled at all
        self._compiled: dict[bool, re.Pattern[str]] = {}

    def compiled(self, ignore_case: bool = False) -> re.Pattern[str]:
        """The pattern; `ignore_case` for text whose lowercase differs in length (a few
        non-ASCII letters), where a folded pattern cannot run over the lowercased text."""
        pattern = self._compiled.get(ignore_case)
        if pattern is None:
            flags = self.flags | (re.IGNORECASE if ignore_case else 0)
            pattern = self._compiled[ignore_case] = re.compile(self.source, flags)
        return pattern


# Most specific first: where two matches overlap, the earlier kind wins. The secret is
# group "s" (or "q") when the pattern has one, else the whole match. Lookbehinds come
# after a literal so `re` can jump to the literal instead of trying every position.
CATALOGUE: list[Entry] = [
    Entry(
        "private-key",
        r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----.*?"
        r"(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|\Z)",
        triggers=("private key",),
        flags=re.DOTALL,
    ),
    Entry(
        "putty-key",
        r"PuTTY-User-Key-File-\d: .*?(?:Private-MAC: \S+|\Z)",
        triggers=("putty-user-key",),
        flags=re.DOTALL,
    ),
    Entry(
        "aws-access-key",
        r"A(?<![A-Za-z0-9]A)(?:3T[A-Z0-9]|BIA|CCA|KIA|SIA)[0-9A-Z]{16}(?![A-Za-z0-9])",
        triggers=("akia", "asia", "abia", "acca", "a3t"),
    ),
    Entry("gcp-api-key", r"AIza[0-9A-Za-z_\-]{35}(?![\w-])", triggers=("aiza",)),
    Entry(
        "azure-storage-key",
        r"accountkey=(?P<s>[a-z0-9+/=]{40,})",
        triggers=("accountkey",),
        fold=True,
    ),
    Entry("azure-sas", r"sig=(?<=[?&]sig=)(?P<s>[A-Za-z0-9%+/=]{30,})", triggers=("sig=",)),
    Entry(
        "azure-client-secret",
        r"Q~(?<=(?<![\w~.-])(?P<pre>[A-Za-z0-9_~.-]{3}\d)Q~)[A-Za-z0-9_~.-]{31,34}(?![\w~.-])",
        triggers=("q~",),
    ),
    Entry(
        "github-token",
        r"(?:gh[pousr]_[A-Za-z0-9_]{36,}|github_pat_[A-Za-z0-9_]{60,})(?!\w)",
        triggers=("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
    ),
    Entry(
        "gitlab-token",
        r"(?:gl(?:pat|dt|ft|soat|rt|cbt|imt|ptt|agent|oas)-[A-Za-z0-9_\-]{20,1024}"
        r"|GR1348941[A-Za-z0-9_\-]{20,50})(?![\w-])",
        triggers=("glpat-", "gldt-", "glft-", "glsoat-", "glrt-", "glcbt-", "glimt-")
        + ("glptt-", "glagent-", "gloas-", "gr1348941"),
    ),
    Entry("slack-token", r"xox[abposre]-[A-Za-z0-9-]{10,}", triggers=("xox",)),
    Entry(
        "slack-webhook",
        r"https://hooks\.slack\.com/(?:services|workflows)/[A-Za-z0-9_/]+",
        triggers=("hooks.slack.com",),
    ),
    Entry("npm-token", r"npm_[A-Za-z0-9]{36}(?!\w)", triggers=("npm_",)),
    Entry(
        "npm-token",  # .npmrc `//registry/:_authToken=…`, `_auth=…`
        r"_auth(?<![^:\s]_auth)(?:Token)?\s*=\s*(?P<s>[^\s\"']{8,})",
        triggers=("_auth",),
    ),
    Entry("pypi-token", r"pypi-Ag[A-Za-z0-9_\-]{50,}", triggers=("pypi-ag",)),
    Entry("anthropic-key", r"sk-ant-[A-Za-z0-9_\-]{20,}", triggers=("sk-ant-",)),
    Entry(
        "openai-key",
        r"sk-(?<![\w-]sk-)(?:proj-|svcacct-|admin-|None-)?[A-Za-z0-9_\-]{20,}",
        triggers=("sk-",),
    ),
    Entry("huggingface-token", r"hf_(?<!\whf_)[A-Za-z]{34}(?!\w)", triggers=("hf_",)),
    Entry(
        "stripe-key",
        r"k_(?<![\w][srp]k_)(?<=[srp]k_)(?:live|test)_[0-9A-Za-z]{24,}(?!\w)",
        triggers=("_live_", "_test_"),
    ),
    Entry("sendgrid-key", r"SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}(?![\w-])", triggers=("sg.",)),
    Entry(
        "twilio-key",
        r"(?:AC(?<!\wAC)|SK(?<!\wSK))[a-f0-9]{32}(?!\w)",
        cased=("AC", "SK"),
    ),
    Entry(
        "mailchimp-key",  # `<32 hex>-us<N>`: the hex part is the secret
        r"-us(?<=(?<![\w])(?P<s>[0-9a-f]{32})-us)[0-9]{1,2}(?!\w)",
        triggers=("-us",),
    ),
    Entry("square-token", r"sq0(?:csp|atp)-[0-9A-Za-z_\-]{22,43}", triggers=("sq0",)),
    Entry(
        "telegram-token",  # `<bot id>:AA…`: the part after the colon is the secret
        r":(?<=\d{8}:)(?P<s>AA[0-9A-Za-z_-]{33})(?!\w)",
        triggers=(":aa",),
    ),
    Entry(
        "discord-token",
        r"[MNO][A-Za-z\d_-]{23,25}\.[A-Za-z\d_-]{6}\.[A-Za-z\d_-]{27,38}(?![\w-])",
        lambda value: not _DOTTED_IDENTIFIER.match(value),
    ),
    Entry("artifactory-token", r"AKC(?<![\w-]AKC)[a-zA-Z0-9]{10,}(?![\w-])", triggers=("akc",)),
    Entry(
        "jwt",
        r"eyJ[A-Za-z0-9_-]{8,}={0,2}\.eyJ[A-Za-z0-9_-]{8,}={0,2}\.[A-Za-z0-9_\-+/=]*",
        triggers=("eyj",),
    ),
    Entry(
        "url-credentials",  # scheme://user:PASSWORD@host: the user stays readable
        r"://[^\s:/@]*:(?P<s>[^\s/@]+)@(?=[\w.\[-])",
        lambda value: not _PLACEHOLDER.match(value) and not _template(value),
        triggers=("://",),
    ),
    Entry(
        "authorization-header",
        r"(?:bearer|basic|token|digest)\s+(?P<s>[a-z0-9._~+/=\-]{12,})",
        lambda value: any(c.isdigit() for c in value) or _random_letters(value),
        triggers=("bearer", "basic", "token", "digest"),
        fold=True,
    ),
    Entry(
        "authorization-header",
        r"authorization\s*:\s*(?P<s>[^\s\"']{8,})",
        _plausible,
        triggers=("authorization",),
        fold=True,
    ),
    Entry(
        "curl-credentials",
        r"(?:\s-u|--user|--proxy-user)[\s=]+[\"']?[^\s:\"']+:[\"']?(?P<s>[^\s\"']+)",
        _plausible,
        cased=("-u", "--user", "--proxy-user"),
    ),
    Entry(
        # shell style, NAME=value with no spaces: any value that is not a reference
        "env-secret",
        _ENV_NAME + r"=(?P<s>[^\s\"'`;|&$(){}\[\]<>]{4,200}+)(?![(\[])",
        lambda value: not value.startswith("[redacted:") and not _PLACEHOLDER.match(value),
        cased=_ENV_TRIGGERS,
    ),
    Entry(
        "env-secret",
        _ENV_NAME + r"[\"']?\s*(?::|=)(?!=)\s*" + _VALUE,
        _plausible,
        cased=_ENV_TRIGGERS,
    ),
    Entry(
        "secret-assignment",
        r"(?:" + _KEYWORDS + r")" + _NAME_SUFFIX + r"[\"']?\s*(?::=|=>|:|=)(?!=)\s*" + _VALUE,
        _plausible,
        triggers=_KEYWORD_TRIGGERS,
        fold=True,
    ),
    Entry(
        "secret-assignment",  # <password>…</password>
        r"<(?P<tag>[\w:-]*(?:" + _KEYWORDS + r")[\w-]*)>(?P<s>[^<\s]{4,200})</(?P=tag)>",
        _plausible_literal,
        triggers=_KEYWORD_TRIGGERS,
        fold=True,
    ),
    Entry(
        "secret-flag",
        r"--(?:[a-z0-9-]*-)?(?:password|passwd|secret|token|api-key|apikey)(?:=|\s+)" + _VALUE,
        _plausible,
        triggers=("--",),
        fold=True,
    ),
    Entry(
        # a random-looking value right after `name =` / `name:` (optionally quoted)
        "high-entropy",
        r"[=:][ \t]*[\"'`]?(?P<s>[A-Za-z0-9+/_\-]{20,}+={0,2})(?![\w+/=-])",
        _high_entropy,
    ),
]


def _secret_span(match: re.Match[str]) -> tuple[int, int, bool]:
    """(start, end, quoted) of the secret in a match."""
    groups = match.re.groupindex
    for name in ("s", "q"):
        if name in groups and match.group(name) is not None:
            return (*match.span(name), name == "q")
    if "pre" in groups:  # the secret begins in a lookbehind
        return match.start("pre"), match.end(), False
    return (*match.span(), False)


def find_secrets(text: str) -> list[tuple[int, int, str]]:
    """(start, end, kind) of every secret in `text`, non-overlapping, in text order.

    Spans inside an existing `[redacted:…]` marker are skipped, so redaction is idempotent.
    """
    taken: list[tuple[int, int, str]] = []
    if "[redacted:" in text:
        taken = [(m.start(), m.end(), "") for m in ALREADY.finditer(text)]
    lower = text.lower()
    same_length = len(lower) == len(text)
    for entry in CATALOGUE:
        if entry.triggers and not any(t in lower for t in entry.triggers):
            continue
        if entry.cased and not any(t in text for t in entry.cased):
            continue
        if entry.fold:
            pattern = entry.compiled(ignore_case=not same_length)
            matches = pattern.finditer(lower if same_length else text)
        else:
            matches = entry.compiled().finditer(text)
        for match in matches:
            start, end, quoted = _secret_span(match)
            check = entry.check
            if quoted and check is _plausible:
                check = _plausible_literal
            if end <= start or (check is not None and not check(text[start:end])):
                continue
            if any(start < t_end and t_start < end for t_start, t_end, _ in taken):
                continue
            taken.append((start, end, entry.kind))
    return sorted(span for span in taken if span[2])


def _storable(text: str) -> str:
    """Text SQLite and PostgreSQL can store as it reads: lone surrogates (from invalid
    UTF-8 decoded with surrogateescape or JSON `\\udXXX`) and NULs are escaped visibly."""
    if "\x00" in text:
        text = text.replace("\x00", "\\x00")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def redact_text(text: str) -> tuple[str, Counter[str]]:
    """`text` with private spans dropped and secrets replaced by typed markers, and counts."""
    found: Counter[str] = Counter()
    text = _storable(text)
    if "<private>" in text.lower():
        text, n = PRIVATE_SPAN.subn("", text)
        found["private"] += n
    spans = find_secrets(text)
    if not spans:
        return text, found
    parts = []
    last = 0
    for start, end, kind in spans:
        parts.append(text[last:start])
        parts.append(MARKER.format(kind=kind))
        found[kind] += 1
        last = end
    parts.append(text[last:])
    return "".join(parts), found


def redact_bytes(data: bytes) -> tuple[str, Counter[str]]:
    """Raw tool output as storable text: invalid UTF-8 escaped (`\\xNN`), then redacted."""
    return redact_text(data.decode("utf-8", "backslashreplace"))


# A JSON key naming a secret: its string value is redacted whole (`{"password": "…"}`).
SECRET_KEY_NAME = re.compile(
    r"(?i)(?:^|[_\-.])(?:password|passwd|pwd|passphrase|secret|token|api[_-]?key|apikey"
    r"|access[_-]?key|private[_-]?key|client[_-]?secret|credentials?|auth)(?:$|[_\-.])"
)


def redact_json(value: Any) -> tuple[Any, Counter[str]]:
    """A JSON-like value with every string in it redacted (keys are kept); the string value
    of a secret-named key (`password`, `api_key`, `GITHUB_TOKEN`) is redacted whole."""
    found: Counter[str] = Counter()

    def walk(item: Any, key: str | None = None) -> Any:
        if (
            key is not None
            and isinstance(item, str)
            and SECRET_KEY_NAME.search(key)
            and len(item) >= 4
            and not item.startswith("[redacted:")
            and not _PLACEHOLDER.match(item)
            and not _template(item)
        ):
            found["secret-field"] += 1
            return MARKER.format(kind="secret-field")
        if isinstance(item, str):
            clean, counts = redact_text(item)
            found.update(counts)
            return clean
        if isinstance(item, bytes):
            clean, counts = redact_bytes(item)
            found.update(counts)
            return clean
        if isinstance(item, dict):
            return {k: walk(inner, str(k)) for k, inner in item.items()}
        if isinstance(item, list | tuple):
            return [walk(inner) for inner in item]
        return item

    return walk(value), found
