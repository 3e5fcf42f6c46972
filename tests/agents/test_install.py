"""`workbench hooks install|uninstall` on a fixture settings file: merge, idempotence,
backup, refusal of a file that is not JSON, removal of only our entries."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.test_cli import assert_one_line_error
from workbench.agents import install
from workbench.cli import main

USER_SETTINGS = {
    "permissions": {"allow": ["Bash(npm run lint)"], "deny": ["Read(./.env)"]},
    "env": {"FOO": "bar"},
    "model": "opus",
    "hooks": {
        "PostToolUse": [
            {"matcher": "Write|Edit", "hooks": [{"type": "command", "command": "prettier -w"}]}
        ],
        "Notification": [{"hooks": [{"type": "command", "command": "notify-send hi"}]}],
    },
}


@pytest.fixture
def call(capsys):
    def run(*args: str) -> subprocess.CompletedProcess:
        code = main(list(args))
        out, err = capsys.readouterr()
        return subprocess.CompletedProcess(list(args), code, out, err)

    return run


@pytest.fixture
def project(tmp_path):
    settings = tmp_path / "proj" / ".claude" / "settings.json"
    settings.parent.mkdir(parents=True)
    settings.write_text(json.dumps(USER_SETTINGS, indent=2))
    return settings


def backups(settings):
    return sorted(settings.parent.glob("settings.json.bak-*"))


def test_install_merges_keeps_everything_and_backs_up(call, project, tmp_path):
    db = tmp_path / "w.db"
    result = call("hooks", "install", "--dir", str(project.parent.parent), "--db", str(db))
    assert result.returncode == 0, result.stderr
    data = json.loads(project.read_text())
    for key in ("permissions", "env", "model"):
        assert data[key] == USER_SETTINGS[key]
    post = data["hooks"]["PostToolUse"]
    assert post[0] == USER_SETTINGS["hooks"]["PostToolUse"][0]  # the user's group, untouched
    assert post[1]["matcher"] == "*"
    [ours] = post[1]["hooks"]
    assert ours["type"] == "command" and ours["timeout"] == install.TIMEOUT_S
    assert ours["command"].endswith(f"hooks run --db {db}")
    assert data["hooks"]["Notification"] == USER_SETTINGS["hooks"]["Notification"]
    assert {e for e, _ in install.EVENTS} <= set(data["hooks"])
    assert "matcher" not in data["hooks"]["Stop"][0]
    assert "--advise" not in project.read_text()
    [backup] = backups(project)
    assert json.loads(backup.read_text()) == USER_SETTINGS
    assert db.exists()  # the store the hooks name exists


def test_install_twice_changes_nothing(call, project, tmp_path):
    args = ("hooks", "install", "--dir", str(project.parent.parent), "--db", str(tmp_path / "w"))
    assert call(*args, "--advise").returncode == 0
    before = project.read_bytes()
    again = call(*args, "--advise")
    assert again.returncode == 0 and "unchanged" in again.stdout
    assert project.read_bytes() == before
    assert len(backups(project)) == 1
    data = json.loads(before)
    start = data["hooks"]["UserPromptSubmit"][0]["hooks"][0]["command"]
    assert start.endswith("--advise")
    assert not data["hooks"]["PreToolUse"][0]["hooks"][0]["command"].endswith("--advise")
    # a different choice replaces our entries instead of adding more
    assert call(*args).returncode == 0
    data = json.loads(project.read_text())
    assert len(data["hooks"]["UserPromptSubmit"]) == 1
    assert "--advise" not in project.read_text()


def test_uninstall_removes_only_ours(call, project, tmp_path):
    directory = str(project.parent.parent)
    assert call("hooks", "install", "--dir", directory, "--db", str(tmp_path / "w")).returncode == 0
    result = call("hooks", "uninstall", "--dir", directory)
    assert result.returncode == 0, result.stderr
    assert json.loads(project.read_text()) == USER_SETTINGS
    assert len(backups(project)) == 2
    again = call("hooks", "uninstall", "--dir", directory)
    assert "unchanged" in again.stdout and len(backups(project)) == 2


def test_not_json_is_refused_and_left_untouched(call, project):
    project.write_text('{"permissions": {"allow": [}')
    before = project.read_bytes()
    result = call("hooks", "install", "--dir", str(project.parent.parent))
    assert_one_line_error(result, "not valid JSON")
    assert "line 1 column" in result.stderr and str(project) in result.stderr
    assert project.read_bytes() == before
    assert backups(project) == []


@pytest.mark.parametrize(
    ("content", "fragment"),
    [('["a"]', "not a JSON object"), ('{"hooks": []}', "'hooks' is not an object"),
     ('{"hooks": {"Stop": {"x": 1}}}', "hooks.Stop"), (b"\xff\xfe{}", "not UTF-8")],
)  # fmt: skip
def test_unmergeable_settings_are_refused(call, project, content, fragment):
    if isinstance(content, bytes):
        project.write_bytes(content)
    else:
        project.write_text(content)
    before = project.read_bytes()
    assert_one_line_error(call("hooks", "install", "--dir", str(project.parent.parent)), fragment)
    assert project.read_bytes() == before


def test_dry_run_writes_nothing(call, tmp_path):
    directory = tmp_path / "fresh"
    directory.mkdir()
    result = call("hooks", "install", "--dir", str(directory), "--dry-run", "--json")
    assert result.returncode == 0
    shown = json.loads(result.stdout)
    assert shown["changed"] and "PreToolUse" in shown["settings"]["hooks"]
    assert not (directory / ".claude").exists()


def test_user_scope_writes_the_home_settings(call, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    result = call("hooks", "install", "--scope", "user", "--db", str(tmp_path / "w.db"))
    assert result.returncode == 0, result.stderr
    assert "SessionEnd" in json.loads((tmp_path / ".claude" / "settings.json").read_text())["hooks"]
    assert_one_line_error(call("hooks", "install", "--scope", "user", "--dir", "."), "--dir")


def test_own_entries_are_recognised_by_command():
    assert install.is_own({"command": "/opt/venv/bin/workbench hooks run --db /x.db"})
    assert install.is_own({"command": "'/my tools/workbench' hooks run --db '/a b.db' --advise"})
    assert install.is_own({"command": "workbench --db /x hooks run"})
    assert not install.is_own({"command": "my-workbench-wrapper run"})
    assert not install.is_own({"command": "prettier -w"})


def test_default_store_is_the_projects(call, tmp_path):
    directory = tmp_path / "proj2"
    directory.mkdir()
    assert call("hooks", "install", "--dir", str(directory)).returncode == 0
    store = directory / ".workbench" / "workbench.db"
    assert store.exists()
    text = (directory / ".claude" / "settings.json").read_text()
    assert f"--db {store}" in text
