import pytest

from solution import convert, temperature_table


def test_known_conversions():
    assert convert(100, "C") == 212
    assert convert(-40, "F") == -40
    assert round(convert(98.6, "F"), 2) == 37.0


def test_celsius_table_is_inclusive():
    assert temperature_table(0, 20, 10) == [(0, 32.0), (10, 50.0), (20, 68.0)]


def test_fahrenheit_table_with_fractional_step():
    rows = temperature_table(32, 33, 0.5, scale="F")
    assert rows == [(32, 0.0), (32.5, 0.28), (33.0, 0.56)]


def test_single_row_when_start_equals_stop():
    assert temperature_table(5, 5, 1) == [(5, 41.0)]


def test_zero_step_raises_value_error():
    with pytest.raises(ValueError):
        temperature_table(0, 10, 0)


def test_reversed_range_raises_value_error():
    with pytest.raises(ValueError):
        temperature_table(10, 0, 1)


def test_below_absolute_zero_and_bad_scale_raise_value_error():
    with pytest.raises(ValueError):
        convert(-300, "C")
    with pytest.raises(ValueError):
        convert(10, "K")


def test_non_numeric_input_raises_type_error():
    with pytest.raises(TypeError):
        temperature_table("0", 10, 1)  # type: ignore[arg-type]
