import pytest

from solution import ExpressionError, evaluate


def test_precedence_and_parentheses():
    assert evaluate("1 + 2 * 3") == 7
    assert evaluate("(1 + 2) * 3") == 9
    assert evaluate("10 - 4 - 3") == 3
    assert evaluate("7 % 4 + 8 / 2") == 7


def test_power_is_right_associative_and_binds_tighter_than_unary_minus():
    assert evaluate("2 ^ 3 ^ 2") == 512
    assert evaluate("-2 ^ 2") == -4
    assert evaluate("2 ^ -1") == 0.5


def test_unary_signs_and_decimals():
    assert evaluate("--3 + +.5") == 3.5
    assert evaluate("-(1.25 * 4)") == -5


def test_variables_are_substituted():
    assert evaluate("rate * (elapsed + 0.5)", {"rate": 2, "elapsed": 1.5}) == 4


def test_division_by_zero_raises():
    with pytest.raises(ZeroDivisionError):
        evaluate("1 / (2 - 2)")
    with pytest.raises(ZeroDivisionError):
        evaluate("5 % 0")


def test_syntax_errors_report_position():
    with pytest.raises(ExpressionError) as info:
        evaluate("2 * (3 + 4")
    assert info.value.position == 10
    for bad in ["1 +", "* 2", "1 2", "3..4", "2 $ 3", "()"]:
        with pytest.raises(ExpressionError):
            evaluate(bad)


def test_unknown_variable_raises_name_error():
    with pytest.raises(NameError):
        evaluate("x + 1", {"y": 2})


def test_invalid_arguments_are_rejected():
    with pytest.raises(TypeError):
        evaluate(3)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        evaluate("   ")
    with pytest.raises(TypeError):
        evaluate("x", {"x": "1"})
    with pytest.raises(ValueError):
        evaluate("x", {"x": float("nan")})


def test_does_not_execute_python():
    with pytest.raises((ExpressionError, NameError)):
        evaluate("__import__('os')")
