from pathlib import Path

import pytest

from workbench import config


def test_db_precedence_cli_then_env_then_default(tmp_path):
    env = {"WORKBENCH_DB": str(tmp_path / "env.db")}
    assert config.resolve_db("cli.db", env, tmp_path) == config.StoreLocation(
        tmp_path / "cli.db", True
    )
    assert config.resolve_db(None, env, tmp_path).path == tmp_path / "env.db"
    default = config.resolve_db(None, {}, tmp_path)
    assert default.path == tmp_path / ".workbench" / "workbench.db"
    assert default.explicit is False


def test_busy_timeout_from_env():
    assert config.busy_timeout_ms({}) == config.DEFAULT_BUSY_TIMEOUT_MS
    assert config.busy_timeout_ms({"WORKBENCH_BUSY_TIMEOUT_MS": "250"}) == 250
    with pytest.raises(ValueError, match="WORKBENCH_BUSY_TIMEOUT_MS"):
        config.busy_timeout_ms({"WORKBENCH_BUSY_TIMEOUT_MS": "soon"})


def test_settings_roundtrip_and_merge(tmp_path):
    path = tmp_path / "nested" / "config.json"
    assert config.load_settings(path) == {}
    config.save_settings({"theme": "workbench-light"}, path)
    config.save_settings({"other": 1}, path)
    assert config.load_settings(path) == {"theme": "workbench-light", "other": 1}
    assert [p.name for p in path.parent.iterdir()] == ["config.json"]  # no temp files left


def test_corrupt_settings_file_gives_defaults(tmp_path):
    path = tmp_path / "config.json"
    path.write_text("{not json")
    assert config.load_settings(path) == {}


def test_config_file_location(tmp_path):
    assert config.config_file({"WORKBENCH_CONFIG": str(tmp_path / "c.json")}) == Path(
        tmp_path / "c.json"
    )
    assert config.config_file({"XDG_CONFIG_HOME": str(tmp_path)}) == (
        tmp_path / "workbench" / "config.json"
    )


def test_kernel_backend_from_env():
    assert config.kernel_backend({}) == "wasm"
    assert config.kernel_backend({"WORKBENCH_BACKEND": "numpy"}) == "numpy"
    with pytest.raises(ValueError, match="WORKBENCH_BACKEND must be one of wasm, numpy"):
        config.kernel_backend({"WORKBENCH_BACKEND": "cuda"})


def test_atomic_write_leaves_the_old_file_on_failure(tmp_path, monkeypatch):
    from workbench import fsutil

    target = tmp_path / "f.json"
    target.write_text("old")

    def full_disk(_fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(fsutil.os, "fsync", full_disk)
    with pytest.raises(OSError, match="No space left"), fsutil.atomic_write(target, "w") as fh:
        fh.write("new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.json"]
