import pytest

from solution import MinStack


def test_lifo_order():
    stack = MinStack()
    for n in (1, 2, 3):
        stack.push(n)
    assert [stack.pop(), stack.pop(), stack.pop()] == [3, 2, 1]
    assert len(stack) == 0


def test_min_tracks_pushes_and_pops():
    stack = MinStack()
    mins = []
    for n in (5, 7, 3, 3, 8, 1):
        stack.push(n)
        mins.append(stack.min())
    assert mins == [5, 5, 3, 3, 3, 1]
    stack.pop()
    assert stack.min() == 3
    stack.pop()
    stack.pop()
    assert stack.min() == 3
    stack.pop()
    assert stack.min() == 5


def test_peek_does_not_remove():
    stack = MinStack()
    stack.push("b")
    stack.push("a")
    assert stack.peek() == "a"
    assert len(stack) == 2
    assert stack.min() == "a"


def test_full_stack_raises_overflow_error():
    stack = MinStack(max_size=2)
    stack.push(1)
    stack.push(2)
    with pytest.raises(OverflowError):
        stack.push(3)
    assert len(stack) == 2


def test_empty_stack_operations_raise_index_error():
    stack = MinStack()
    with pytest.raises(IndexError):
        stack.pop()
    with pytest.raises(IndexError):
        stack.min()


def test_invalid_max_size_raises():
    with pytest.raises(ValueError):
        MinStack(0)
    with pytest.raises(TypeError):
        MinStack(2.5)  # type: ignore[arg-type]


def test_pushing_none_raises_value_error():
    stack = MinStack()
    with pytest.raises(ValueError):
        stack.push(None)
