import pytest

from solution import MinHeap


def test_pops_in_sorted_order():
    heap = MinHeap()
    for n in (5, 1, 8, 3, 9, 2, 7):
        heap.push(n)
    assert [heap.pop() for _ in range(len(heap))] == [1, 2, 3, 5, 7, 8, 9]


def test_heapify_from_iterable():
    values = [15, 3, 9, 1, 12, 6, 0, 4]
    heap = MinHeap(values)
    assert len(heap) == 8
    assert heap.peek() == 0
    assert [heap.pop() for _ in range(8)] == sorted(values)


def test_key_function_and_stable_ties():
    heap = MinHeap(key=len)
    for word in ("ccc", "a", "bb", "x", "dd"):
        heap.push(word)
    assert [heap.pop() for _ in range(5)] == ["a", "x", "bb", "dd", "ccc"]


def test_pushpop_returns_smaller_of_item_and_top():
    heap = MinHeap([4, 6])
    assert heap.pushpop(1) == 1
    assert heap.pushpop(5) == 4
    assert sorted(heap.nsmallest(10)) == [5, 6]


def test_nsmallest_does_not_modify_heap():
    heap = MinHeap([7, 2, 9, 4])
    assert heap.nsmallest(2) == [2, 4]
    assert heap.nsmallest(0) == []
    assert len(heap) == 4


def test_empty_heap_raises_index_error():
    heap = MinHeap()
    with pytest.raises(IndexError):
        heap.pop()
    with pytest.raises(IndexError):
        heap.peek()


def test_negative_k_raises_value_error():
    with pytest.raises(ValueError):
        MinHeap([1, 2, 3]).nsmallest(-1)


def test_bad_constructor_arguments_raise_type_error():
    with pytest.raises(TypeError):
        MinHeap(key="len")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        MinHeap("cab")
