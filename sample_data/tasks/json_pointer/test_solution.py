import pytest

from solution import PointerError, escape, parse_pointer, remove, resolve, set_value

DOC = {
    "foo": ["bar", "baz"],
    "": 0,
    "a/b": 1,
    "m~n": 8,
    "nested": {"list": [{"id": 7}]},
}


def test_rfc_examples():
    assert resolve(DOC, "") is DOC
    assert resolve(DOC, "/foo") == ["bar", "baz"]
    assert resolve(DOC, "/foo/0") == "bar"
    assert resolve(DOC, "/") == 0
    assert resolve(DOC, "/a~1b") == 1
    assert resolve(DOC, "/m~0n") == 8
    assert resolve(DOC, "/nested/list/0/id") == 7


def test_escape_round_trip():
    assert escape("a/~b") == "a~1~0b"
    assert parse_pointer("/" + escape("a/~b")) == ["a/~b"]
    assert parse_pointer("/~01") == ["~1"]


def test_missing_paths_raise_pointer_error():
    for pointer in ("/nope", "/foo/2", "/foo/01", "/foo/-", "/foo/0/x"):
        with pytest.raises(PointerError):
            resolve(DOC, pointer)


def test_set_value_returns_updated_copy():
    updated = set_value(DOC, "/foo/-", "qux")
    updated = set_value(updated, "/foo/0", "first")
    updated = set_value(updated, "/nested/new", {"x": 1})
    assert updated["foo"] == ["first", "bar", "baz", "qux"]
    assert updated["nested"]["new"] == {"x": 1}
    assert DOC["foo"] == ["bar", "baz"]


def test_remove_returns_copy_without_value():
    updated = remove(DOC, "/nested/list/0")
    assert updated["nested"]["list"] == []
    assert DOC["nested"]["list"] == [{"id": 7}]
    with pytest.raises(PointerError):
        remove(DOC, "/missing")


def test_pointer_without_leading_slash_raises_value_error():
    with pytest.raises(ValueError):
        resolve({"foo": {"bar": 1}}, "foo/bar")


def test_bad_escape_raises_value_error():
    with pytest.raises(ValueError):
        resolve({"a~2": 1}, "/a~2")
    with pytest.raises(ValueError):
        parse_pointer("/trailing~")


def test_root_updates_and_non_string_pointer_raise():
    with pytest.raises(ValueError):
        set_value(DOC, "", 1)
    with pytest.raises(ValueError):
        remove(DOC, "")
    with pytest.raises(TypeError):
        resolve(DOC, ["foo"])  # type: ignore[arg-type]
