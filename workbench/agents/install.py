"""`workbench hooks install|uninstall`: our entries in a Claude Code settings file.

The hooks live under `"hooks"` of `.claude/settings.json` (project) or `~/.claude/
settings.json` (user): event → list of matcher groups → list of handlers. Install merges one
group per event, keeping every other key, group and handler; running it twice changes
nothing (the file is not even rewritten). A changed file is backed up first (next to it,
`settings.json.bak-<UTC time>`) and written atomically. A file that is not valid JSON, or
whose `hooks` is not shaped as above, is refused and left untouched. Our handlers are
recognized by their command (`… workbench hooks run …`); uninstall removes only those.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
import shlex
import shutil
from pathlib import Path
from typing import Any

from workbench.fsutil import atomic_write

# (event, takes a tool matcher)
EVENTS = (
    ("SessionStart", False),
    ("UserPromptSubmit", False),
    ("PreToolUse", True),
    ("PostToolUse", True),
    ("PostToolUseFailure", True),
    ("Stop", False),
    ("SubagentStop", False),
    ("SessionEnd", False),
)
ADVISED = frozenset({"SessionStart", "UserPromptSubmit"})
TIMEOUT_S = 10
OWN_COMMAND = re.compile(
    r"(?:^|[\s/\\\"'])workbench(?:\.exe)?[\"']?\s+(?:--db\S*\s+\S+\s+)?hooks\s+run\b"
)


class SettingsError(ValueError):
    """A settings file we refuse to touch (one line, naming the file)."""


def settings_path(scope: str, directory: Path | None, home: Path | None = None) -> Path:
    """Where the hooks go: the project's `.claude/settings.json` or the user's."""
    if scope == "user":
        return (home or Path.home()) / ".claude" / "settings.json"
    return (directory or Path.cwd()) / ".claude" / "settings.json"


def hook_command(db: str, advise: bool, executable: str | None = None) -> str:
    """The shell command Claude Code runs: this workbench, on this store."""
    exe = executable or shutil.which("workbench") or "workbench"
    command = f"{shlex.quote(exe)} hooks run --db {shlex.quote(db)}"
    return command + " --advise" if advise else command


def is_own(handler: Any) -> bool:
    return (
        isinstance(handler, dict)
        and isinstance(handler.get("command"), str)
        and bool(OWN_COMMAND.search(handler["command"]))
    )


def read_settings(path: Path) -> dict[str, Any]:
    """The settings file as an object ({} when missing); refuses anything we cannot merge."""
    if not path.exists():
        return {}
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise SettingsError(f"{path}: not UTF-8 text (byte {exc.start}); left untouched") from None
    except OSError as exc:
        raise SettingsError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SettingsError(
            f"{path}: not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno}); "
            "left untouched"
        ) from None
    if not isinstance(data, dict):
        raise SettingsError(f"{path}: not a JSON object; left untouched")
    hooks = data.get("hooks", {})
    if not isinstance(hooks, dict):
        raise SettingsError(f"{path}: 'hooks' is not an object; left untouched")
    for event, groups in hooks.items():
        if not isinstance(groups, list) or not all(
            isinstance(g, dict) and isinstance(g.get("hooks", []), list) for g in groups
        ):
            raise SettingsError(
                f"{path}: hooks.{event} is not a list of matcher groups; left untouched"
            )
    return data


def _strip_own(groups: list[dict]) -> list[dict]:
    """The groups without our handlers; a group left with no handler is dropped."""
    out = []
    for group in groups:
        handlers = group.get("hooks", [])
        kept = [h for h in handlers if not is_own(h)]
        if len(kept) == len(handlers):
            out.append(group)
        elif kept:
            out.append({**group, "hooks": kept})
    return out


def _own_handlers(groups: list[dict]) -> list[tuple[dict, dict]]:
    return [(g, h) for g in groups for h in g.get("hooks", []) if is_own(h)]


def merged(settings: dict[str, Any], db: str, advise: bool, executable: str | None = None):
    """The settings with our hook group for every event (a new object)."""
    new = copy.deepcopy(settings)
    hooks = new.setdefault("hooks", {})
    for event, tool_event in EVENTS:
        command = hook_command(db, advise and event in ADVISED, executable)
        handler = {"type": "command", "command": command, "timeout": TIMEOUT_S}
        group: dict[str, Any] = {"hooks": [handler]}
        if tool_event:
            group = {"matcher": "*", **group}
        groups = hooks.get(event, [])
        own = _own_handlers(groups)
        if (
            len(own) == 1
            and own[0][1] == handler
            and own[0][0].get("matcher") == group.get("matcher")
        ):
            continue  # already installed as asked: leave it where it is
        hooks[event] = _strip_own(groups) + [group]
    return new


def removed(settings: dict[str, Any]) -> dict[str, Any]:
    """The settings without our handlers (containers we emptied are dropped)."""
    new = copy.deepcopy(settings)
    hooks = new.get("hooks")
    if not isinstance(hooks, dict):
        return new
    for event in list(hooks):
        if not _own_handlers(hooks[event]):
            continue
        kept = _strip_own(hooks[event])
        if kept:
            hooks[event] = kept
        else:
            del hooks[event]
    if not hooks and "hooks" in settings and settings["hooks"]:
        del new["hooks"]
    return new


def write_settings(path: Path, old: dict[str, Any], new: dict[str, Any], now: dt.datetime):
    """Back up the previous file (if any), then write `new` atomically; returns the backup."""
    backup = None
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        stamp = now.strftime("%Y%m%dT%H%M%S")
        backup = path.with_name(f"{path.name}.bak-{stamp}")
        n = 1
        while backup.exists():
            n += 1
            backup = path.with_name(f"{path.name}.bak-{stamp}-{n}")
        shutil.copy2(path, backup)
    with atomic_write(path, "w", encoding="utf-8") as fh:
        fh.write(json.dumps(new, indent=2, ensure_ascii=False) + "\n")
    return backup


def apply(
    path: Path,
    change,
    *,
    dry_run: bool = False,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """Read, change (a function of the settings), and write the file if it changed."""
    old = read_settings(path)
    new = change(old)
    result: dict[str, Any] = {"file": str(path), "changed": new != old, "backup": None}
    if dry_run:
        result["dry_run"] = True
        result["settings"] = new
        return result
    if new != old:
        backup = write_settings(path, old, new, now or dt.datetime.now(dt.UTC))
        result["backup"] = str(backup) if backup else None
    return result
