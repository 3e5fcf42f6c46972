"""Strategies are source transforms: `transform(source: str) -> str`.

The built-ins are real AST rewrites (ast.parse → NodeTransformer → ast.unparse):

- `conservative` adds argument validation at function entry: an `isinstance` check for
  each parameter whose annotation names builtin types (`int`, `float`, `str | None`,
  `Optional[list]`, ...), and a `None` check for parameters with other annotations that do
  not admit None. Calls that already behave still pass; the price is time.
- `balanced` returns the code unchanged.
- `aggressive` strips guard clauses: leading `if ...: raise ...` statements at the top of
  functions and methods, so bad input is no longer rejected.

Users add their own: a module defining `STRATEGIES = {"name": transform}` loaded with
`--strategy-module PATH`, or an entry point in the group `workbench.strategies` whose
object is a transform.
"""

from __future__ import annotations

import ast
import importlib.util
from collections.abc import Callable, Mapping
from importlib import metadata
from pathlib import Path

Transform = Callable[[str], str]
ENTRY_POINT_GROUP = "workbench.strategies"
DEFAULT_STRATEGIES = ("conservative", "balanced", "aggressive")

_TYPES = {
    "int": ("int",),
    "float": ("int", "float"),
    "complex": ("int", "float", "complex"),
    "str": ("str",),
    "bytes": ("bytes",),
    "bool": ("bool",),
    "list": ("list",),
    "dict": ("dict",),
    "tuple": ("tuple",),
    "set": ("set",),
    "frozenset": ("frozenset",),
}
_GENERIC_ALIASES = {"List": "list", "Dict": "dict", "Tuple": "tuple", "Set": "set"}


def _name_of(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):  # typing.Optional
        return node.attr
    return None


def _allowed_types(annotation: ast.expr | None) -> tuple[set[str], bool] | None:
    """(builtin type names, admits None) for an annotation we understand, else None."""
    if annotation is None:
        return None
    if isinstance(annotation, ast.Constant):
        if annotation.value is None:
            return set(), True
        if isinstance(annotation.value, str):  # a string annotation
            try:
                return _allowed_types(ast.parse(annotation.value, mode="eval").body)
            except SyntaxError:
                return None
        return None
    if isinstance(annotation, ast.BinOp) and isinstance(annotation.op, ast.BitOr):
        left, right = _allowed_types(annotation.left), _allowed_types(annotation.right)
        if left is None or right is None:
            return None
        return left[0] | right[0], left[1] or right[1]
    if isinstance(annotation, ast.Subscript):
        outer = _name_of(annotation.value)
        if outer == "Optional":
            inner = _allowed_types(annotation.slice)
            return None if inner is None else (inner[0], True)
        if outer == "Union":
            parts = annotation.slice.elts if isinstance(annotation.slice, ast.Tuple) else []
            results = [_allowed_types(p) for p in parts]
            if not results or any(r is None for r in results):
                return None
            return set().union(*(r[0] for r in results)), any(r[1] for r in results)  # type: ignore[index]
        outer = _GENERIC_ALIASES.get(outer or "", outer)
        if outer in _TYPES:  # list[int] -> list
            return set(_TYPES[outer]), False
        return None
    name = _name_of(annotation)
    if name is not None and isinstance(annotation, ast.Name) and name in _TYPES:
        return set(_TYPES[name]), False
    return None


def _raise_type_error(message: str) -> ast.Raise:
    return ast.Raise(
        exc=ast.Call(func=ast.Name("TypeError", ast.Load()), args=[ast.Constant(message)],
                     keywords=[]),
        cause=None,
    )  # fmt: skip


def _is_docstring(stmt: ast.stmt) -> bool:
    return (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Constant)
        and isinstance(stmt.value.value, str)
    )


class AddArgumentValidation(ast.NodeTransformer):
    """Insert type / None checks for annotated parameters at function entry."""

    def _checks(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.stmt]:
        args = node.args
        positional = [*args.posonlyargs, *args.args]
        defaults: dict[str, ast.expr | None] = {a.arg: None for a in positional}
        for arg, default in zip(positional[len(positional) - len(args.defaults):], args.defaults,
                                strict=True):  # fmt: skip
            defaults[arg.arg] = default
        for arg, default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
            defaults[arg.arg] = default
        checks: list[ast.stmt] = []
        for arg in [*positional, *args.kwonlyargs]:
            if arg.arg in ("self", "cls") or arg.annotation is None:
                continue
            default = defaults.get(arg.arg)
            default_none = isinstance(default, ast.Constant) and default.value is None
            allowed = _allowed_types(arg.annotation)
            value = ast.Name(arg.arg, ast.Load())
            if allowed is None:
                if default_none:
                    continue
                test: ast.expr = ast.Compare(value, [ast.Is()], [ast.Constant(None)])
                message = f"{node.name}(): {arg.arg} must not be None"
            else:
                names, admits_none = allowed
                if not names:
                    continue
                types = sorted(names)
                type_expr: ast.expr = (
                    ast.Name(types[0], ast.Load())
                    if len(types) == 1
                    else ast.Tuple([ast.Name(t, ast.Load()) for t in types], ast.Load())
                )
                test = ast.UnaryOp(
                    ast.Not(),
                    ast.Call(ast.Name("isinstance", ast.Load()), [value, type_expr], []),
                )
                if admits_none or default_none:
                    test = ast.BoolOp(
                        ast.And(),
                        [ast.Compare(value, [ast.IsNot()], [ast.Constant(None)]), test],
                    )
                message = f"{node.name}(): {arg.arg} must be {' | '.join(types)}"
            checks.append(ast.If(test=test, body=[_raise_type_error(message)], orelse=[]))
        return checks

    def _visit_function(self, node):
        self.generic_visit(node)
        checks = self._checks(node)
        if checks:
            at = 1 if node.body and _is_docstring(node.body[0]) else 0
            node.body[at:at] = checks
        return node

    visit_FunctionDef = _visit_function
    visit_AsyncFunctionDef = _visit_function


def _is_guard(stmt: ast.stmt) -> bool:
    return (
        isinstance(stmt, ast.If)
        and not stmt.orelse
        and len(stmt.body) == 1
        and isinstance(stmt.body[0], ast.Raise)
    )


class StripGuardClauses(ast.NodeTransformer):
    """Remove the leading `if ...: raise ...` statements of every function."""

    def _visit_function(self, node):
        self.generic_visit(node)
        start = 1 if node.body and _is_docstring(node.body[0]) else 0
        end = start
        while end < len(node.body) and _is_guard(node.body[end]):
            end += 1
        del node.body[start:end]
        if not node.body:
            node.body = [ast.Pass()]
        return node

    visit_FunctionDef = _visit_function
    visit_AsyncFunctionDef = _visit_function


def _apply(transformer: ast.NodeTransformer, source: str) -> str:
    tree = transformer.visit(ast.parse(source))
    return ast.unparse(ast.fix_missing_locations(tree)) + "\n"


def conservative(source: str) -> str:
    """Add argument validation at every function entry."""
    return _apply(AddArgumentValidation(), source)


def balanced(source: str) -> str:
    """Leave the code as written."""
    return source


def aggressive(source: str) -> str:
    """Strip the guard clauses at the top of every function."""
    return _apply(StripGuardClauses(), source)


BUILTIN_STRATEGIES: dict[str, Transform] = {
    "conservative": conservative,
    "balanced": balanced,
    "aggressive": aggressive,
}


class StrategyRegistry:
    """Name → transform: the built-ins, installed entry points and user modules."""

    def __init__(self, *, entry_points: bool = True) -> None:
        self._strategies: dict[str, Transform] = dict(BUILTIN_STRATEGIES)
        if entry_points:
            self._load_entry_points()

    def _load_entry_points(self) -> None:
        for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
            try:
                self.register(ep.name, ep.load())
            except Exception as exc:  # a broken plugin must not stop the pipeline
                raise ValueError(f"strategy entry point {ep.name!r}: {exc}") from None

    def register(self, name: str, transform: Transform) -> None:
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"strategy name {name!r} must be an identifier")
        if not callable(transform):
            raise ValueError(f"strategy {name!r} is not callable")
        self._strategies[name] = transform

    def load_module(self, path: str | Path) -> list[str]:
        """Import a .py file defining STRATEGIES = {name: transform}; returns the names."""
        path = Path(path)
        if path.suffix != ".py" or not path.is_file():
            raise ValueError(f"{path}: strategy module must be an existing .py file")
        spec = importlib.util.spec_from_file_location(f"wb_strategies_{path.stem}", path)
        if spec is None or spec.loader is None:
            raise ValueError(f"{path}: cannot import")
        module = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(module)
        except Exception as exc:
            raise ValueError(f"{path}: import failed: {type(exc).__name__}: {exc}") from None
        strategies = getattr(module, "STRATEGIES", None)
        if not isinstance(strategies, Mapping) or not strategies:
            raise ValueError(f"{path}: must define STRATEGIES = {{'name': transform}}")
        for name, transform in strategies.items():
            try:
                self.register(name, transform)
            except ValueError as exc:
                raise ValueError(f"{path}: {exc}") from None
        return list(strategies)

    def names(self) -> list[str]:
        return list(self._strategies)

    def get(self, name: str) -> Transform:
        try:
            return self._strategies[name]
        except KeyError:
            raise ValueError(
                f"unknown strategy {name!r} (known: {', '.join(self._strategies)})"
            ) from None

    def apply(self, name: str, source: str) -> str:
        """Run one transform; a transform that fails or returns non-text is a ValueError."""
        try:
            out = self.get(name)(source)
        except ValueError:
            raise
        except Exception as exc:
            raise ValueError(f"strategy {name!r} failed: {type(exc).__name__}: {exc}") from None
        if not isinstance(out, str):
            raise ValueError(f"strategy {name!r} returned {type(out).__name__}, not str")
        return out
