import pytest

from solution import Rational


def test_normalises_sign_and_common_factors():
    r = Rational(6, -8)
    assert (r.numerator, r.denominator) == (-3, 4)
    assert str(Rational(0, -5)) == "0"
    assert Rational(10, 5) == 2


def test_arithmetic_with_rationals_and_ints():
    half, third = Rational(1, 2), Rational(1, 3)
    assert half + third == Rational(5, 6)
    assert half - third == Rational(1, 6)
    assert half * third == Rational(1, 6)
    assert half / third == Rational(3, 2)
    assert 1 - half == half
    assert 2 / Rational(4) == Rational(1, 2)
    assert -half == Rational(-1, 2)


def test_comparisons_and_sorting():
    values = [Rational(2, 3), Rational(-1, 2), 1, Rational(1, 3)]
    assert sorted(values) == [Rational(-1, 2), Rational(1, 3), Rational(2, 3), 1]
    assert Rational(1, 2) <= Rational(2, 4)
    assert Rational(1, 2) != Rational(1, 3)


def test_hash_is_consistent_with_equality():
    assert len({Rational(1, 2), Rational(2, 4), Rational(3, 1), 3}) == 2
    assert float(Rational(3, 8)) == 0.375


def test_parse_accepts_integers_and_fractions():
    assert Rational.parse(" -3 / 4 ") == Rational(-3, 4)
    assert Rational.parse("+7") == 7
    with pytest.raises(ValueError):
        Rational.parse("1/2/3")
    with pytest.raises(ValueError):
        Rational.parse("1.5")


def test_zero_denominator_raises_zero_division_error():
    with pytest.raises(ZeroDivisionError):
        Rational(3, 0)
    with pytest.raises(ZeroDivisionError):
        Rational.parse("1/0")
    with pytest.raises(ZeroDivisionError):
        Rational(1, 2) / Rational(0)


def test_non_integer_parts_raise_type_error():
    with pytest.raises(TypeError):
        Rational(1.5, 2)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Rational(1, True)


def test_mixing_with_float_is_unsupported():
    with pytest.raises(TypeError):
        Rational(1, 2) + 0.5  # type: ignore[operator]
