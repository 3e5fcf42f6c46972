"""A hand-written CSV reader and writer (RFC 4180 flavoured)."""

from __future__ import annotations

from collections.abc import Sequence


class CsvError(ValueError):
    """Malformed CSV; ``line`` is the 1-based physical line of the problem."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line


def _check_dialect(delimiter: str, quote: str) -> None:
    if not isinstance(delimiter, str) or not isinstance(quote, str):
        raise TypeError("delimiter and quote must be str")
    if len(delimiter) != 1 or len(quote) != 1:
        raise ValueError("delimiter and quote must be single characters")
    if delimiter == quote or delimiter in "\r\n" or quote in "\r\n":
        raise ValueError("delimiter and quote must differ and must not be line breaks")


def parse_csv(text: str, delimiter: str = ",", quote: str = '"') -> list[list[str]]:
    """Return the rows of ``text``; a trailing line break does not add a row."""
    if not isinstance(text, str):
        raise TypeError(f"text must be str, not {type(text).__name__}")
    if len(delimiter) != 1 or len(quote) != 1:
        raise ValueError("delimiter and quote must be single characters")
    if delimiter == quote or delimiter in "\r\n" or quote in "\r\n":
        raise ValueError("delimiter and quote must differ and must not be line breaks")

    rows: list[list[str]] = []
    row: list[str] = []
    field: list[str] = []
    in_quotes = False
    was_quoted = False
    line = 1
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if in_quotes:
            if ch == quote:
                if i + 1 < n and text[i + 1] == quote:
                    field.append(quote)
                    i += 2
                    continue
                in_quotes = False
            else:
                if ch == "\n":
                    line += 1
                field.append(ch)
            i += 1
            continue
        if ch == quote:
            if field or was_quoted:
                raise CsvError(line, "quote inside an unquoted field")
            in_quotes = was_quoted = True
        elif ch == delimiter:
            row.append("".join(field))
            field, was_quoted = [], False
        elif ch in "\r\n":
            if ch == "\r" and (i + 1 >= n or text[i + 1] != "\n"):
                raise CsvError(line, "bare carriage return")
            if ch == "\r":
                i += 1
            row.append("".join(field))
            rows.append(row)
            row, field, was_quoted = [], [], False
            line += 1
        else:
            if was_quoted:
                raise CsvError(line, "text after closing quote")
            field.append(ch)
        i += 1
    if in_quotes:
        raise CsvError(line, "unterminated quoted field")
    if field or row or was_quoted:
        row.append("".join(field))
        rows.append(row)
    return rows


def to_csv(
    rows: Sequence[Sequence[str]], delimiter: str = ",", quote: str = '"'
) -> str:
    """Serialise ``rows``, quoting only fields that need it; lines end in CRLF."""
    if isinstance(rows, str) or not isinstance(rows, (list, tuple)):
        raise TypeError("rows must be a list or tuple of rows")
    if any(not isinstance(f, str) for r in rows for f in r):
        raise TypeError("every field must be str")

    _check_dialect(delimiter, quote)
    special = {delimiter, quote, "\r", "\n"}
    lines = []
    for r in rows:
        cells = []
        for f in r:
            if special & set(f) or (len(r) == 1 and f == ""):
                f = quote + f.replace(quote, quote * 2) + quote
            cells.append(f)
        lines.append(delimiter.join(cells) + "\r\n")
    return "".join(lines)
