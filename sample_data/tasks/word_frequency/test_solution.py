import pytest

from solution import word_frequency


def test_counts_are_case_insensitive_and_sorted():
    text = "The cat and the hat. THE end, cat!"
    assert word_frequency(text) == [
        ("the", 3),
        ("cat", 2),
        ("and", 1),
        ("end", 1),
        ("hat", 1),
    ]


def test_top_limits_result():
    assert word_frequency("b a b c a b", top=2) == [("b", 3), ("a", 2)]
    assert word_frequency("b a b", top=0) == []


def test_stopwords_are_skipped_case_insensitively():
    assert word_frequency("To be or not to be", stopwords=["TO", "or"]) == [
        ("be", 2),
        ("not", 1),
    ]


def test_apostrophes_inside_words_are_kept():
    assert word_frequency("Don't stop; don't 'quote'") == [
        ("don't", 2),
        ("quote", 1),
        ("stop", 1),
    ]


def test_empty_text_gives_empty_list():
    assert word_frequency("  ...  ") == []


def test_negative_top_raises_value_error():
    with pytest.raises(ValueError):
        word_frequency("a b c", top=-1)


def test_non_string_text_raises_type_error():
    with pytest.raises(TypeError):
        word_frequency(["a", "b"])  # type: ignore[arg-type]


def test_string_stopwords_raises_type_error():
    with pytest.raises(TypeError):
        word_frequency("the a", stopwords="the")
