import pytest

from solution import build_query, parse_query


def test_parse_repeated_keys_and_leading_question_mark():
    assert parse_query("?tag=a&tag=b&page=2") == {"tag": ["a", "b"], "page": ["2"]}


def test_percent_and_plus_decoding():
    assert parse_query("q=caf%C3%A9+au+lait&x=%2B1") == {
        "q": ["café au lait"],
        "x": ["+1"],
    }


def test_blank_values_dropped_unless_requested():
    assert parse_query("a=&b&c=1") == {"c": ["1"]}
    assert parse_query("a=&b&c=1", keep_blank=True) == {
        "a": [""],
        "b": [""],
        "c": ["1"],
    }


def test_build_and_round_trip():
    params = {"q": "a b&c", "tag": ["x", "é"], "n": "1"}
    query = build_query(params)
    assert query == "q=a+b%26c&tag=x&tag=%C3%A9&n=1"
    assert parse_query(query) == {"q": ["a b&c"], "tag": ["x", "é"], "n": ["1"]}


def test_empty_query():
    assert parse_query("") == {}
    assert build_query({}) == ""


def test_malformed_escape_raises_value_error():
    with pytest.raises(ValueError):
        parse_query("a=%zz")
    with pytest.raises(ValueError):
        parse_query("a=100%")


def test_empty_key_raises_value_error():
    with pytest.raises(ValueError):
        parse_query("=value")
    with pytest.raises(ValueError):
        build_query({"": "x"})


def test_wrong_types_raise_type_error():
    with pytest.raises(TypeError):
        parse_query(b"a=1")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        build_query({"a": 1})  # type: ignore[dict-item]
