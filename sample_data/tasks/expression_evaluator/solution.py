"""A safe arithmetic expression evaluator (tokenizer + recursive descent).

Grammar (lowest to highest precedence)::

    expr   := term (('+' | '-') term)*
    term   := unary (('*' | '/' | '%') unary)*
    unary  := ('+' | '-') unary | power
    power  := atom ('^' unary)?          # right-associative; -2^2 == -4
    atom   := NUMBER | NAME | '(' expr ')'
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from numbers import Real


class ExpressionError(ValueError):
    """Raised for malformed expressions; ``position`` is a 0-based column."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(f"{message} at position {position}")
        self.position = position


@dataclass(frozen=True)
class Token:
    kind: str  # "num", "name", "op", "lparen", "rparen", "end"
    text: str
    position: int


_OPERATORS = set("+-*/%^")


def tokenize(source: str) -> list[Token]:
    if not isinstance(source, str):
        raise TypeError("source must be str")

    tokens: list[Token] = []
    i = 0
    while i < len(source):
        char = source[i]
        if char.isspace():
            i += 1
        elif char.isdigit() or char == ".":
            start = i
            while i < len(source) and (source[i].isdigit() or source[i] == "."):
                i += 1
            text = source[start:i]
            if text.count(".") > 1 or text == ".":
                raise ExpressionError(f"malformed number {text!r}", start)
            tokens.append(Token("num", text, start))
        elif char.isalpha() or char == "_":
            start = i
            while i < len(source) and (source[i].isalnum() or source[i] == "_"):
                i += 1
            tokens.append(Token("name", source[start:i], start))
        elif char in _OPERATORS:
            tokens.append(Token("op", char, i))
            i += 1
        elif char == "(":
            tokens.append(Token("lparen", char, i))
            i += 1
        elif char == ")":
            tokens.append(Token("rparen", char, i))
            i += 1
        else:
            raise ExpressionError(f"unexpected character {char!r}", i)
    tokens.append(Token("end", "", len(source)))
    return tokens


class _Parser:
    def __init__(self, tokens: list[Token], variables: Mapping[str, float]) -> None:
        self.tokens = tokens
        self.index = 0
        self.variables = variables

    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def at_op(self, *ops: str) -> bool:
        return self.current.kind == "op" and self.current.text in ops

    def parse(self) -> float:
        value = self.expr()
        if self.current.kind != "end":
            raise ExpressionError(f"unexpected {self.current.text!r}", self.current.position)
        return value

    def expr(self) -> float:
        value = self.term()
        while self.at_op("+", "-"):
            op = self.advance().text
            right = self.term()
            value = value + right if op == "+" else value - right
        return value

    def term(self) -> float:
        value = self.unary()
        while self.at_op("*", "/", "%"):
            op = self.advance()
            right = self.unary()
            if op.text == "*":
                value *= right
            elif right == 0:
                raise ZeroDivisionError(f"division by zero at position {op.position}")
            elif op.text == "/":
                value /= right
            else:
                value %= right
        return value

    def unary(self) -> float:
        if self.at_op("+", "-"):
            op = self.advance().text
            operand = self.unary()
            return -operand if op == "-" else operand
        return self.power()

    def power(self) -> float:
        base = self.atom()
        if self.at_op("^"):
            op = self.advance()
            exponent = self.unary()
            try:
                result = base**exponent
            except OverflowError:
                raise ExpressionError("result too large", op.position) from None
            if isinstance(result, complex):
                raise ExpressionError("result is not a real number", op.position)
            return result
        return base

    def atom(self) -> float:
        token = self.current
        if token.kind == "num":
            self.advance()
            return float(token.text)
        if token.kind == "name":
            self.advance()
            if token.text not in self.variables:
                raise NameError(f"unknown variable {token.text!r}")
            return float(self.variables[token.text])
        if token.kind == "lparen":
            self.advance()
            value = self.expr()
            if self.current.kind != "rparen":
                raise ExpressionError("expected ')'", self.current.position)
            self.advance()
            return value
        found = "end of input" if token.kind == "end" else repr(token.text)
        raise ExpressionError(f"expected a number, name or '(' but found {found}", token.position)


def evaluate(expression: str, variables: Mapping[str, float] | None = None) -> float:
    """Evaluate ``expression`` and return a float. Never calls ``eval``."""
    if not isinstance(expression, str):
        raise TypeError(f"expression must be str, not {type(expression).__name__}")
    if not expression.strip():
        raise ValueError("expression must not be empty")
    if variables is not None and not isinstance(variables, Mapping):
        raise TypeError("variables must be a mapping of name -> number")
    if variables and any(
        isinstance(value, bool) or not isinstance(value, Real) for value in variables.values()
    ):
        raise TypeError("every variable must be a real number")
    if variables and any(not math.isfinite(v) for v in variables.values()):
        raise ValueError("every variable must be finite")
    return _Parser(tokenize(expression), dict(variables or {})).parse()
