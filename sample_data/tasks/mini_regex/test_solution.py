import re

import pytest

from solution import compile_pattern, fullmatch, search


def test_literal_and_dot_search():
    assert search("b.d", "abcde") == (1, 4)
    assert search("xyz", "abc") is None
    assert search("", "abc") == (0, 0)


def test_quantifiers_are_greedy_with_backtracking():
    assert search("a*b", "xaaab") == (1, 5)
    assert search("a.*c", "abcabc") == (0, 6)
    assert search("colou?r", "the color red") == (4, 9)
    assert search("x+y", "xxxz xy") == (5, 7)


def test_anchors():
    assert search("^ab", "abab") == (0, 2)
    assert search("^b", "ab") is None
    assert search("ab$", "abab") == (2, 4)
    assert search("^a*$", "aaa") == (0, 3)
    assert search("^a*$", "aab") is None


def test_escapes_make_metacharacters_literal():
    assert search(r"1\+1", "1+1=2") == (0, 3)
    assert search(r"\.txt$", "notes.txt") == (5, 9)
    assert search(r"\$5", "cost $5") == (5, 7)


def test_fullmatch_agrees_with_re():
    cases = [
        ("a.c", "abc"),
        ("a*", ""),
        ("ab?c", "ac"),
        ("a+b*", "aaabbb"),
        ("a+b*", "b"),
        (".*x", "abx"),
        ("ab", "abc"),
    ]
    for pattern, text in cases:
        assert fullmatch(pattern, text) == (re.fullmatch(pattern, text) is not None), (
            pattern
        )


def test_pathological_pattern_is_fast():
    assert fullmatch("a*a*a*a*a*a*a*b", "a" * 40) is False


def test_malformed_patterns_raise_value_error():
    for bad in ("*a", "a**", "a\\", "a^b", "a$b", "x" * 300):
        with pytest.raises(ValueError):
            compile_pattern(bad)


def test_fullmatch_rejects_explicit_anchors():
    with pytest.raises(ValueError):
        fullmatch("^abc$", "abc")


def test_non_string_arguments_raise_type_error():
    with pytest.raises(TypeError):
        search("a", b"a")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        fullmatch(None, "a")  # type: ignore[arg-type]
