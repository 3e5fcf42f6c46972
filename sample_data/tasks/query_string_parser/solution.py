"""Parse and build URL query strings without urllib."""

from __future__ import annotations

import string

_SAFE = set(string.ascii_letters + string.digits + "-._~")
_HEX = set("0123456789abcdefABCDEF")


def _decode(part: str) -> str:
    raw = bytearray()
    i = 0
    while i < len(part):
        ch = part[i]
        if ch == "%":
            code = part[i + 1 : i + 3]
            if len(code) != 2 or not set(code) <= _HEX:
                raise ValueError(f"bad percent escape at {part[i : i + 3]!r}")
            raw.append(int(code, 16))
            i += 3
            continue
        raw.extend(b" " if ch == "+" else ch.encode("utf-8"))
        i += 1
    return raw.decode("utf-8")


def _encode(text: str) -> str:
    out = []
    for byte in text.encode("utf-8"):
        ch = chr(byte)
        if ch in _SAFE:
            out.append(ch)
        elif ch == " ":
            out.append("+")
        else:
            out.append(f"%{byte:02X}")
    return "".join(out)


def parse_query(query: str, keep_blank: bool = False) -> dict[str, list[str]]:
    """Return ``{key: [values...]}`` preserving value order per key.

    A leading "?" is ignored. ``a`` without "=" has the value "". Pairs with
    an empty value are dropped unless ``keep_blank`` is true.
    """
    if not isinstance(query, str):
        raise TypeError(f"query must be str, not {type(query).__name__}")
    if not isinstance(keep_blank, bool):
        raise TypeError("keep_blank must be a bool")

    result: dict[str, list[str]] = {}
    for pair in query.removeprefix("?").split("&"):
        if not pair:
            continue
        key, _, value = pair.partition("=")
        key, value = _decode(key), _decode(value)
        if not key:
            raise ValueError(f"empty key in pair {pair!r}")
        if value or keep_blank:
            result.setdefault(key, []).append(value)
    return result


def build_query(params: dict[str, str | list[str]]) -> str:
    """Encode ``params`` as ``k=v&k=v2`` with keys in insertion order."""
    if not isinstance(params, dict):
        raise TypeError("params must be a dict")
    if any(not isinstance(key, str) or not key for key in params):
        raise ValueError("keys must be non-empty strings")
    if any(
        not isinstance(v, (str, list))
        or (isinstance(v, list) and not all(isinstance(x, str) for x in v))
        for v in params.values()
    ):
        raise TypeError("values must be str or list of str")

    pairs = []
    for key, value in params.items():
        for item in [value] if isinstance(value, str) else value:
            pairs.append(f"{_encode(key)}={_encode(item)}")
    return "&".join(pairs)
