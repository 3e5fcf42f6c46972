import pytest

from solution import fizzbuzz


def test_classic_first_fifteen():
    result = fizzbuzz(15)
    assert result[:5] == ["1", "2", "Fizz", "4", "Buzz"]
    assert result[14] == "FizzBuzz"
    assert len(result) == 15


def test_zero_gives_empty_list():
    assert fizzbuzz(0) == []


def test_custom_rules_are_applied_in_ascending_divisor_order():
    rules = {7: "Bazz", 2: "Foo"}
    assert fizzbuzz(14, rules)[13] == "FooBazz"
    assert fizzbuzz(7, rules) == ["1", "Foo", "3", "Foo", "5", "Foo", "Bazz"]


def test_empty_rules_give_plain_numbers():
    assert fizzbuzz(3, {}) == ["1", "2", "3"]


def test_negative_n_raises_value_error():
    with pytest.raises(ValueError):
        fizzbuzz(-1)


def test_non_integer_n_raises_type_error():
    with pytest.raises(TypeError):
        fizzbuzz(2.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        fizzbuzz(True)


def test_invalid_rules_raise_value_error():
    with pytest.raises(ValueError):
        fizzbuzz(5, {0: "Zero"})
    with pytest.raises(ValueError):
        fizzbuzz(5, {3: ""})
