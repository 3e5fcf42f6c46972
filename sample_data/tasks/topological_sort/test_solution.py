import pytest

from solution import CycleError, topological_sort


def test_linear_chain():
    assert topological_sort({"c": ["b"], "b": ["a"], "a": []}) == ["a", "b", "c"]


def test_ties_are_broken_alphabetically():
    graph = {"app": ["db", "cache"], "db": [], "cache": [], "log": []}
    assert topological_sort(graph) == ["cache", "db", "app", "log"]


def test_dependencies_missing_as_keys_are_included():
    assert topological_sort({"b": ("a",)}) == ["a", "b"]


def test_every_node_follows_its_dependencies():
    graph = {"e": ["d", "b"], "d": ["c"], "c": ["a"], "b": ["a"], "f": set()}
    order = topological_sort(graph)
    assert sorted(order) == ["a", "b", "c", "d", "e", "f"]
    for node, node_deps in graph.items():
        assert all(order.index(dep) < order.index(node) for dep in node_deps)


def test_empty_graph():
    assert topological_sort({}) == []


def test_cycle_raises_cycle_error_with_cycle_nodes():
    with pytest.raises(CycleError) as info:
        topological_sort({"a": ["b"], "b": ["c"], "c": ["a"], "d": []})
    cycle = info.value.cycle
    assert cycle[0] == cycle[-1]
    assert set(cycle) == {"a", "b", "c"}
    assert isinstance(info.value, ValueError)


def test_string_dependencies_raise_type_error():
    with pytest.raises(TypeError):
        topological_sort({"build": "ab"})


def test_non_mapping_raises_type_error():
    with pytest.raises(TypeError):
        topological_sort([("a", "b")])  # type: ignore[arg-type]
