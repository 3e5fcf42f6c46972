import math

import pytest

from solution import shortest_path

CITY = {
    "A": {"B": 4, "C": 1},
    "B": {"D": 1},
    "C": {"B": 2, "D": 5},
    "D": {"E": 3},
    "E": {},
}


def test_finds_cheaper_indirect_route():
    assert shortest_path(CITY, "A", "D") == (4, ["A", "C", "B", "D"])


def test_source_equals_target():
    assert shortest_path(CITY, "B", "B") == (0, ["B"])


def test_unreachable_target_returns_inf_and_empty_path():
    cost, path = shortest_path(CITY, "E", "A")
    assert math.isinf(cost)
    assert path == []


def test_node_only_listed_as_neighbour_is_valid_target():
    graph = {"s": {"t": 2.5}}
    assert shortest_path(graph, "s", "t") == (2.5, ["s", "t"])


def test_zero_weight_edges_and_mixed_node_types():
    graph = {1: {(2, "x"): 0}, (2, "x"): {3: 0.5}, 3: {}}
    assert shortest_path(graph, 1, 3) == (0.5, [1, (2, "x"), 3])


def test_negative_weight_is_rejected():
    with pytest.raises(ValueError):
        shortest_path({"a": {"b": -1}}, "a", "b")


def test_non_finite_weight_is_rejected():
    with pytest.raises(ValueError):
        shortest_path({"a": {"b": math.nan}}, "a", "b")
    with pytest.raises(ValueError):
        shortest_path({"a": {"b": math.inf}}, "a", "b")


def test_non_numeric_weight_raises_type_error():
    with pytest.raises(TypeError):
        shortest_path({"a": {"b": "3"}}, "a", "b")


def test_unknown_endpoints_raise_key_error():
    with pytest.raises(KeyError):
        shortest_path(CITY, "Z", "A")
    with pytest.raises(KeyError):
        shortest_path(CITY, "A", "Z")


def test_graph_must_be_a_mapping():
    with pytest.raises(TypeError):
        shortest_path([("a", "b", 1)], "a", "b")  # type: ignore[arg-type]
