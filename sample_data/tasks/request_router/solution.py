"""A tiny in-memory request router.

Interface
---------
``router.add(method, pattern, handler)`` registers ``handler(**params)`` for an
HTTP method and a path pattern. Pattern segments are literals, ``{name}``
(any non-empty segment, passed as str) or ``{name:int}`` (digits, passed as
int). ``router.dispatch(method, path)`` returns a :class:`Response`:

* the handler's return value as ``body`` with status 200 (a handler may also
  return a ``Response`` itself);
* 404 when no pattern matches the path;
* 405 with an ``allow`` tuple when the path matches but not for this method.

Literal segments win over parameter segments, so ``/users/me`` can coexist
with ``/users/{id}``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})
_PARAM = re.compile(r"^\{([A-Za-z_][A-Za-z0-9_]*)(?::(int|str))?\}$")


@dataclass(frozen=True)
class Response:
    status: int
    body: Any = None
    allow: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class _Segment:
    literal: str | None
    name: str | None = None
    kind: str = "str"


@dataclass
class _Route:
    segments: tuple[_Segment, ...]
    handlers: dict[str, Callable[..., Any]] = field(default_factory=dict)


def _split(path: str) -> list[str]:
    return [part for part in path.strip("/").split("/") if part]


def _parse_pattern(pattern: str) -> tuple[_Segment, ...]:
    segments: list[_Segment] = []
    seen: set[str] = set()
    for part in _split(pattern):
        match = _PARAM.match(part)
        if match is None:
            if "{" in part or "}" in part:
                raise ValueError(f"malformed parameter segment: {part!r}")
            segments.append(_Segment(literal=part))
            continue
        name, kind = match.group(1), match.group(2) or "str"
        if name in seen:
            raise ValueError(f"duplicate parameter name: {name!r}")
        seen.add(name)
        segments.append(_Segment(literal=None, name=name, kind=kind))
    return tuple(segments)


class Router:
    def __init__(self) -> None:
        self._routes: list[_Route] = []

    def add(self, method: str, pattern: str, handler: Callable[..., Any]) -> None:
        if not isinstance(method, str) or not isinstance(pattern, str):
            raise TypeError("method and pattern must be strings")
        if method.upper() not in METHODS:
            raise ValueError(f"unsupported method: {method!r}")
        if not pattern.startswith("/"):
            raise ValueError("pattern must start with '/'")
        if not callable(handler):
            raise TypeError("handler must be callable")

        method = method.upper()
        segments = _parse_pattern(pattern)
        shape = tuple((s.literal, s.kind) for s in segments)
        for route in self._routes:
            if tuple((s.literal, s.kind) for s in route.segments) == shape:
                if method in route.handlers:
                    raise ValueError(f"route already registered: {method} {pattern}")
                route.handlers[method] = handler
                return
        self._routes.append(_Route(segments=segments, handlers={method: handler}))

    def _match(self, route: _Route, parts: list[str]) -> dict[str, Any] | None:
        if len(parts) != len(route.segments):
            return None
        params: dict[str, Any] = {}
        for segment, part in zip(route.segments, parts, strict=True):
            if segment.literal is not None:
                if segment.literal != part:
                    return None
            elif segment.kind == "int":
                if not part.isdigit():
                    return None
                params[segment.name] = int(part)  # type: ignore[index]
            else:
                params[segment.name] = part  # type: ignore[index]
        return params

    def dispatch(self, method: str, path: str) -> Response:
        if not isinstance(method, str) or not isinstance(path, str):
            raise TypeError("method and path must be strings")
        if not path.startswith("/"):
            raise ValueError("path must start with '/'")

        method = method.upper()
        parts = _split(path)
        candidates: list[tuple[tuple[int, ...], _Route, dict[str, Any]]] = []
        for route in self._routes:
            params = self._match(route, parts)
            if params is not None:
                # Literal segments rank before parameters, segment by segment.
                rank = tuple(0 if s.literal is not None else 1 for s in route.segments)
                candidates.append((rank, route, params))
        if not candidates:
            return Response(404, {"error": "not found", "path": path})

        candidates.sort(key=lambda item: item[0])
        for _, route, params in candidates:
            if method in route.handlers:
                result = route.handlers[method](**params)
                return result if isinstance(result, Response) else Response(200, result)
        allowed = sorted({m for _, route, _ in candidates for m in route.handlers})
        return Response(405, {"error": "method not allowed"}, allow=tuple(allowed))
