import pytest

from solution import from_roman, to_roman

KNOWN_PAIRS = [
    (1, "I"),
    (4, "IV"),
    (9, "IX"),
    (14, "XIV"),
    (40, "XL"),
    (90, "XC"),
    (400, "CD"),
    (1994, "MCMXCIV"),
    (2024, "MMXXIV"),
    (3999, "MMMCMXCIX"),
]


def test_known_pairs_convert_both_ways():
    for number, numeral in KNOWN_PAIRS:
        assert to_roman(number) == numeral
        assert from_roman(numeral) == number


def test_round_trip_over_whole_range():
    assert all(from_roman(to_roman(n)) == n for n in range(1, 4000))


def test_parsing_is_case_insensitive_and_ignores_surrounding_space():
    assert from_roman("  mcmlxxxiv ") == 1984


def test_non_canonical_numerals_are_rejected():
    for bad in ["IIII", "VX", "IC", "MMMM", "XM", "VV"]:
        with pytest.raises(ValueError):
            from_roman(bad)


def test_unknown_characters_are_rejected():
    with pytest.raises(ValueError):
        from_roman("XIZ")


def test_out_of_range_numbers_raise_value_error():
    for bad in [0, -5, 4000]:
        with pytest.raises(ValueError):
            to_roman(bad)


def test_wrong_types_raise_type_error():
    with pytest.raises(TypeError):
        to_roman(3.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        to_roman(True)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        from_roman(12)  # type: ignore[arg-type]


def test_empty_numeral_raises_value_error():
    with pytest.raises(ValueError):
        from_roman("   ")
