import pytest

from solution import RingBuffer


def test_push_and_pop_in_fifo_order():
    buf = RingBuffer(3)
    for item in "abc":
        buf.push(item)
    assert [buf.pop(), buf.pop(), buf.pop()] == ["a", "b", "c"]
    assert len(buf) == 0


def test_overwrites_oldest_when_full_and_returns_it():
    buf = RingBuffer(3)
    assert [buf.push(n) for n in (1, 2, 3)] == [None, None, None]
    assert buf.is_full()
    assert buf.push(4) == 1
    assert buf.push(5) == 2
    assert buf.to_list() == [3, 4, 5]


def test_wraparound_after_mixed_operations():
    buf = RingBuffer(4)
    for n in range(4):
        buf.push(n)
    buf.pop()
    buf.pop()
    for n in range(4, 7):
        buf.push(n)
    assert buf.to_list() == [3, 4, 5, 6]
    assert buf.peek() == 3
    assert len(buf) == 4


def test_capacity_one_keeps_latest_item():
    buf = RingBuffer(1)
    buf.push("first")
    assert buf.push("second") == "first"
    assert buf.to_list() == ["second"]


def test_pop_and_peek_on_empty_raise_index_error():
    buf = RingBuffer(2)
    with pytest.raises(IndexError):
        buf.pop()
    with pytest.raises(IndexError):
        buf.peek()


def test_non_positive_capacity_raises_value_error():
    with pytest.raises(ValueError):
        RingBuffer(0)
    with pytest.raises(ValueError):
        RingBuffer(-3)


def test_non_integer_capacity_raises_type_error():
    with pytest.raises(TypeError):
        RingBuffer(2.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        RingBuffer("8")  # type: ignore[arg-type]
