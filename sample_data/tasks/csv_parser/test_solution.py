import pytest

from solution import CsvError, parse_csv, to_csv


def test_simple_rows_and_trailing_newline():
    assert parse_csv("a,b,c\n1,2,3\n") == [["a", "b", "c"], ["1", "2", "3"]]
    assert parse_csv("") == []


def test_quoted_fields_with_delimiters_quotes_and_newlines():
    text = 'name,quote\r\n"Smith, J","He said ""hi""\nthen left"\r\n'
    assert parse_csv(text) == [
        ["name", "quote"],
        ["Smith, J", 'He said "hi"\nthen left'],
    ]


def test_empty_fields_are_kept():
    assert parse_csv(",a,,\n") == [["", "a", "", ""]]
    assert parse_csv('""\n') == [[""]]


def test_custom_delimiter():
    assert parse_csv("a;'b;c'\n", delimiter=";", quote="'") == [["a", "b;c"]]


def test_round_trip_through_writer():
    rows = [["id", "text"], ["1", 'say "x", y'], ["2", "multi\nline"], [""]]
    text = to_csv(rows)
    assert text.startswith('id,text\r\n1,"say ""x"", y"\r\n')
    assert parse_csv(text) == rows


def test_malformed_quoting_raises_csv_error():
    with pytest.raises(CsvError):
        parse_csv('a,"unterminated\n')
    with pytest.raises(CsvError):
        parse_csv('ab"c,d\n')
    with pytest.raises(CsvError) as info:
        parse_csv('ok\n"x"y\n')
    assert info.value.line == 2


def test_invalid_dialect_raises_value_error():
    with pytest.raises(ValueError):
        parse_csv("a,b", delimiter='"')
    with pytest.raises(ValueError):
        parse_csv("a,b", delimiter="::")
    with pytest.raises(ValueError):
        to_csv([["a"]], delimiter="\n")


def test_wrong_types_raise_type_error():
    with pytest.raises(TypeError):
        parse_csv(b"a,b")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        to_csv([[1, 2]])  # type: ignore[list-item]
