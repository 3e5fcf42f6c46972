import pytest

from solution import FeatureFlags, UnknownFlagError


def test_default_value_is_used():
    flags = FeatureFlags()
    flags.define("new-ui")
    flags.define("beta.search", default=True)
    assert flags.is_enabled("new-ui") is False
    assert flags.is_enabled("beta.search", user="ann") is True
    assert flags.flags() == ["beta.search", "new-ui"]


def test_user_override_beats_global_override():
    flags = FeatureFlags()
    flags.define("dark_mode")
    flags.set("dark_mode", True)
    flags.set("dark_mode", False, user="bob")
    assert flags.is_enabled("dark_mode") is True
    assert flags.is_enabled("dark_mode", user="ann") is True
    assert flags.is_enabled("dark_mode", user="bob") is False


def test_clear_restores_previous_layer():
    flags = FeatureFlags()
    flags.define("x")
    flags.set("x", True, user="ann")
    flags.set("x", True)
    flags.clear("x")
    assert flags.is_enabled("x") is False
    assert flags.is_enabled("x", user="ann") is True
    flags.clear("x", user="ann")
    assert flags.is_enabled("x", user="ann") is False


def test_unknown_flag_raises_unknown_flag_error():
    flags = FeatureFlags()
    with pytest.raises(UnknownFlagError):
        flags.is_enabled("missing")
    with pytest.raises(UnknownFlagError):
        flags.set("missing", True)


def test_duplicate_definition_raises_value_error():
    flags = FeatureFlags()
    flags.define("x", default=True)
    with pytest.raises(ValueError):
        flags.define("x")
    assert flags.is_enabled("x") is True


def test_invalid_name_raises_value_error():
    flags = FeatureFlags()
    with pytest.raises(ValueError):
        flags.define("Has Spaces")
    with pytest.raises(ValueError):
        flags.define("")


def test_non_bool_values_raise_type_error():
    flags = FeatureFlags()
    with pytest.raises(TypeError):
        flags.define("x", default=1)  # type: ignore[arg-type]
    flags.define("y")
    with pytest.raises(TypeError):
        flags.set("y", "yes")  # type: ignore[arg-type]
