import pytest

from solution import decode, encode


def test_encode_basic_runs():
    assert encode("aaabccdddd") == "3a1b2c4d"


def test_encode_empty_and_single():
    assert encode("") == ""
    assert encode("z") == "1z"


def test_multi_digit_counts_round_trip():
    text = "x" * 12 + " " + "yy"
    assert encode(text) == "12x1 2y"
    assert decode(encode(text)) == text


def test_decode_is_case_sensitive():
    assert decode("2a2A") == "aaAA"


def test_encode_text_with_digits_raises_value_error():
    with pytest.raises(ValueError):
        encode("a1")


def test_malformed_encoded_text_raises_value_error():
    with pytest.raises(ValueError):
        decode("a3")
    with pytest.raises(ValueError):
        decode("3a2")
    with pytest.raises(ValueError):
        decode("0a")


def test_non_string_raises_type_error():
    with pytest.raises(TypeError):
        encode(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        decode(b"3a")  # type: ignore[arg-type]
