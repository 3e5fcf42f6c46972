import pytest

from solution import slugify


def test_basic_sentence():
    assert slugify("Hello, World!") == "hello-world"


def test_accents_are_transliterated():
    assert slugify("Crème Brûlée à la carte") == "creme-brulee-a-la-carte"


def test_runs_of_punctuation_collapse_and_edges_are_trimmed():
    assert slugify("  --Agent__Memory :: v2--  ") == "agent-memory-v2"


def test_custom_separator():
    assert slugify("Token Bucket Limiter", separator="_") == "token_bucket_limiter"


def test_max_length_does_not_leave_trailing_separator():
    assert slugify("merge the intervals", max_length=10) == "merge-the"
    assert slugify("merge the intervals", max_length=0) == ""


def test_text_without_ascii_letters_gives_empty_slug():
    assert slugify("¿¡…!?") == ""


def test_non_string_text_raises_type_error():
    with pytest.raises(TypeError):
        slugify(42)  # type: ignore[arg-type]


def test_invalid_separator_raises_value_error():
    with pytest.raises(ValueError):
        slugify("a b", separator="")
    with pytest.raises(ValueError):
        slugify("a b", separator="x")


def test_negative_max_length_raises_value_error():
    with pytest.raises(ValueError):
        slugify("a b", max_length=-1)
