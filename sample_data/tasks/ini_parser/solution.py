"""A small, strict INI parser."""

from __future__ import annotations


class IniError(ValueError):
    """Malformed INI input; ``lineno`` is 1-based."""

    def __init__(self, lineno: int, message: str) -> None:
        super().__init__(f"line {lineno}: {message}")
        self.lineno = lineno


def parse_ini(
    text: str,
    comment_prefixes: tuple[str, ...] = ("#", ";"),
    lowercase_keys: bool = True,
) -> dict[str, dict[str, str]]:
    """Return ``{section: {key: value}}`` for ``text``.

    Blank lines and lines starting with a comment prefix are ignored. Keys
    are stripped (and lowercased by default); values are stripped. A key
    outside any section, a repeated section, a repeated key within a section
    or a line that is neither a header nor a pair raises :class:`IniError`.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be str, not {type(text).__name__}")
    if not isinstance(comment_prefixes, tuple):
        raise TypeError("comment_prefixes must be a tuple of str")
    if any(not isinstance(p, str) or not p.strip() for p in comment_prefixes):
        raise ValueError("comment prefixes must be non-blank strings")
    if not isinstance(lowercase_keys, bool):
        raise TypeError("lowercase_keys must be a bool")

    result: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith(comment_prefixes):
            continue
        if line.startswith("["):
            if not line.endswith("]") or not line[1:-1].strip():
                raise IniError(lineno, f"bad section header {line!r}")
            name = line[1:-1].strip()
            if name in result:
                raise IniError(lineno, f"duplicate section {name!r}")
            current = result[name] = {}
            continue
        cut = min((i for i in (line.find("="), line.find(":")) if i >= 0), default=-1)
        if cut <= 0:
            raise IniError(lineno, f"expected key=value, got {line!r}")
        if current is None:
            raise IniError(lineno, "key outside of any section")
        key = line[:cut].strip()
        key = key.lower() if lowercase_keys else key
        if key in current:
            raise IniError(lineno, f"duplicate key {key!r}")
        current[key] = line[cut + 1 :].strip()
    return result
