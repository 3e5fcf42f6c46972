"""RFC 6901 JSON Pointer resolution and updates."""

from __future__ import annotations

import copy
import re
from typing import Any

_INDEX = re.compile(r"^(0|[1-9][0-9]*)$")


class PointerError(LookupError):
    """The pointer is well formed but does not match the document."""


def escape(token: str) -> str:
    if not isinstance(token, str):
        raise TypeError("token must be str")
    return token.replace("~", "~0").replace("/", "~1")


def parse_pointer(pointer: str) -> list[str]:
    """Split ``pointer`` into unescaped reference tokens."""
    if not isinstance(pointer, str):
        raise TypeError(f"pointer must be str, not {type(pointer).__name__}")
    if pointer and not pointer.startswith("/"):
        raise ValueError("a non-empty pointer must start with '/'")
    if re.search(r"~(?![01])", pointer):
        raise ValueError("'~' must be followed by '0' or '1'")
    if not pointer:
        return []
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/")]


def _step(node: Any, token: str, pointer: str) -> Any:
    if isinstance(node, dict):
        if token not in node:
            raise PointerError(f"{pointer}: missing key {token!r}")
        return node[token]
    if isinstance(node, list):
        if not _INDEX.match(token) or int(token) >= len(node):
            raise PointerError(f"{pointer}: bad array index {token!r}")
        return node[int(token)]
    raise PointerError(f"{pointer}: cannot descend into {type(node).__name__}")


def resolve(doc: Any, pointer: str) -> Any:
    """Return the value ``pointer`` refers to inside ``doc``."""
    node = doc
    for token in parse_pointer(pointer):
        node = _step(node, token, pointer)
    return node


def set_value(doc: Any, pointer: str, value: Any) -> Any:
    """Return a deep copy of ``doc`` with ``value`` stored at ``pointer``.

    The parent must exist. In arrays, an index up to the length or "-"
    inserts (appends at the end); in objects the key is added or replaced.
    """
    if pointer == "":
        raise ValueError("cannot set the document root; use the value directly")

    tokens = parse_pointer(pointer)
    result = copy.deepcopy(doc)
    parent = result
    for token in tokens[:-1]:
        parent = _step(parent, token, pointer)
    last = tokens[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        if last == "-":
            parent.append(value)
        elif _INDEX.match(last) and int(last) <= len(parent):
            parent.insert(int(last), value)
        else:
            raise PointerError(f"{pointer}: bad array index {last!r}")
    else:
        raise PointerError(f"{pointer}: parent is not a container")
    return result


def remove(doc: Any, pointer: str) -> Any:
    """Return a deep copy of ``doc`` without the value at ``pointer``."""
    if pointer == "":
        raise ValueError("cannot remove the document root")

    tokens = parse_pointer(pointer)
    result = copy.deepcopy(doc)
    parent = result
    for token in tokens[:-1]:
        parent = _step(parent, token, pointer)
    _step(parent, tokens[-1], pointer)
    if isinstance(parent, dict):
        del parent[tokens[-1]]
    else:
        del parent[int(tokens[-1])]
    return result
