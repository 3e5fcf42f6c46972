"""Knowledge-base evolution: the usage-driven state machine and the JSON exchange format.

States follow recorded usage (applications with a reported outcome):

- EXPERIMENTAL until an item has MIN_USES uses;
- VALIDATED once it has ≥ MIN_USES uses and a success rate ≥ VALIDATE_RATE;
- DEPRECATED once it has ≥ MIN_USES uses and a success rate < DEPRECATE_RATE;
- between the two rates an item keeps its state (hysteresis: a validated item is not
  demoted by one failure, a deprecated one is not revived by one success);
- ARCHIVED is set by pruning (stale items) or by hand and is final.

The exchange file is JSON: {"format": "workbench-knowledge", "format_version": 1,
"channels": [...], "items": [...]}; each item carries its versions, the agents that voted
for it and its applications, so counters are re-derived on import rather than trusted.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from workbench.hub import KNOWLEDGE_TYPES, PRIORITIES, STATES

MIN_USES = 5
VALIDATE_RATE = 0.80
DEPRECATE_RATE = 0.40
FORMAT = "workbench-knowledge"
FORMAT_VERSION = 1


def next_state(current: str, successes: int, failures: int) -> str:
    """The state an item moves to after its usage counts changed."""
    if current == "ARCHIVED":
        return current
    uses = successes + failures
    if uses < MIN_USES:
        return current
    rate = successes / uses
    if rate >= VALIDATE_RATE:
        return "VALIDATED"
    if rate < DEPRECATE_RATE:
        return "DEPRECATED"
    return current


def state_note(state: str, successes: int, failures: int) -> str:
    """Why an item is in its state and what would move it, in one sentence."""
    uses = successes + failures
    if state == "ARCHIVED":
        return "archived: kept as a record; pruning deletes it after the stale period"
    if uses < MIN_USES:
        return (
            f"{uses} of {MIN_USES} reported uses needed before usage can validate "
            f"(≥ {VALIDATE_RATE:.0%} success) or deprecate (< {DEPRECATE_RATE:.0%}) it"
        )
    rate = successes / uses
    if state == "VALIDATED":
        return f"{rate:.0%} success over {uses} uses; deprecated below {DEPRECATE_RATE:.0%}"
    if state == "DEPRECATED":
        return f"{rate:.0%} success over {uses} uses; validated again at {VALIDATE_RATE:.0%}"
    return f"{rate:.0%} success over {uses} uses: between the deprecate and validate rates"


def _fail(where: str, text: str) -> None:
    # One line even when an id or key from the file holds a line break.
    raise ValueError(f"{where}: {text}".replace("\r", "\\r").replace("\n", "\\n"))


def _text(obj: dict, key: str, where: str, *, empty: bool = False) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or (not empty and not value.strip()):
        _fail(where, f"{key!r} must be a {'string' if empty else 'non-empty string'}")
    return value


def _count(obj: dict, key: str, where: str, default: int | None = None) -> int:
    value = obj.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        _fail(where, f"{key!r} must be a whole number ≥ 0")
    return value


def _time(obj: dict, key: str, where: str, *, optional: bool = False) -> dt.datetime | None:
    value = obj.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, str):
        _fail(where, f"{key!r} must be an ISO date-time string")
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        _fail(where, f"{key!r} is not an ISO date-time: {value!r}")
    return parsed.replace(tzinfo=None) if parsed.tzinfo is None else _naive_utc(parsed)


def _naive_utc(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC).replace(tzinfo=None)


def iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def validate_document(doc: Any, known_channels: set[str]) -> dict:
    """Check a whole exchange document; return it normalised, or raise ValueError naming
    the first problem (nothing is written before this passes)."""
    if not isinstance(doc, dict):
        _fail("knowledge file", "expected a JSON object")
    if doc.get("format") != FORMAT:
        _fail("knowledge file", f"'format' must be {FORMAT!r}")
    if doc.get("format_version") != FORMAT_VERSION:
        _fail("knowledge file", f"unsupported format_version {doc.get('format_version')!r}")
    raw_channels = doc.get("channels", [])
    if not isinstance(raw_channels, list):
        _fail("knowledge file", "'channels' must be a list")
    channels = []
    for index, channel in enumerate(raw_channels):
        where = f"channels[{index}]"
        if not isinstance(channel, dict):
            _fail(where, "expected an object")
        channels.append(
            {
                "name": _text(channel, "name", where),
                "description": _text(channel, "description", where, empty=True)
                if "description" in channel
                else "",
            }
        )
    available = known_channels | {c["name"] for c in channels}
    raw_items = doc.get("items")
    if not isinstance(raw_items, list):
        _fail("knowledge file", "'items' must be a list")
    items, seen = [], set()
    for index, raw in enumerate(raw_items):
        items.append(_validate_item(raw, f"items[{index}]", available))
        if items[-1]["id"] in seen:
            _fail(f"items[{index}]", f"duplicate id {items[-1]['id']!r}")
        seen.add(items[-1]["id"])
    return {"channels": channels, "items": items}


def _validate_item(raw: Any, where: str, channels: set[str]) -> dict:
    if not isinstance(raw, dict):
        _fail(where, "expected an object")
    item = {"id": _text(raw, "id", where)}
    where = f"{where} ({item['id']})"
    item["channel"] = _text(raw, "channel", where)
    if item["channel"] not in channels:
        _fail(where, f"unknown channel {item['channel']!r}")
    item["type"] = _text(raw, "type", where)
    if item["type"] not in KNOWLEDGE_TYPES:
        _fail(where, f"'type' must be one of {', '.join(KNOWLEDGE_TYPES)}")
    item["title"] = _text(raw, "title", where)
    item["content"] = _text(raw, "content", where)
    context = raw.get("context", {})
    if not isinstance(context, dict):
        _fail(where, "'context' must be an object")
    item["context"] = context
    if not isinstance(raw.get("priority"), str) or raw["priority"] not in PRIORITIES:
        _fail(where, f"'priority' must be one of {', '.join(PRIORITIES)}")
    item["priority"] = raw["priority"]
    tags = raw.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) and t.strip() for t in tags):
        _fail(where, "'tags' must be a list of non-empty strings")
    item["tags"] = sorted(set(tags))
    item["source_agent"] = _text(raw, "source_agent", where, empty=True)
    item["views"] = _count(raw, "views", where, 0)
    if raw.get("state") not in STATES:
        _fail(where, f"'state' must be one of {', '.join(STATES)}")
    item["state"] = raw["state"]
    item["version"] = _count(raw, "version", where)
    item["created"] = _time(raw, "created", where)
    item["updated"] = _time(raw, "updated", where)
    item["last_used"] = _time(raw, "last_used", where, optional=True)
    item["versions"] = _validate_versions(raw.get("versions"), where, item)
    item["votes"] = _validate_votes(raw.get("votes", []), where)
    item["applications"] = _validate_applications(raw.get("applications", []), where)
    return item


def _validate_versions(raw: Any, where: str, item: dict) -> list[dict]:
    if not isinstance(raw, list) or not raw:
        _fail(where, "'versions' must be a non-empty list")
    versions = []
    for index, version in enumerate(raw):
        at = f"{where} versions[{index}]"
        if not isinstance(version, dict):
            _fail(at, "expected an object")
        versions.append(
            {
                "version": _count(version, "version", at),
                "title": _text(version, "title", at),
                "content": _text(version, "content", at),
                "change_note": _text(version, "change_note", at, empty=True),
                "created": _time(version, "created", at),
            }
        )
    numbers = sorted(v["version"] for v in versions)
    if numbers != list(range(1, len(numbers) + 1)):
        _fail(where, f"versions must be numbered 1..{len(numbers)} without gaps")
    latest = max(versions, key=lambda v: v["version"])
    if item["version"] != latest["version"]:
        _fail(where, f"'version' is {item['version']} but the latest version is {numbers[-1]}")
    if (latest["title"], latest["content"]) != (item["title"], item["content"]):
        _fail(where, "title and content must equal the latest version's")
    return sorted(versions, key=lambda v: v["version"])


def _validate_votes(raw: Any, where: str) -> list[dict]:
    if not isinstance(raw, list):
        _fail(where, "'votes' must be a list")
    votes, agents = [], set()
    for index, vote in enumerate(raw):
        at = f"{where} votes[{index}]"
        if not isinstance(vote, dict):
            _fail(at, "expected an object")
        agent = _text(vote, "agent", at)
        if agent in agents:
            _fail(at, f"agent {agent!r} votes twice")
        agents.add(agent)
        votes.append({"agent": agent, "created": _time(vote, "created", at)})
    return votes


def _validate_applications(raw: Any, where: str) -> list[dict]:
    if not isinstance(raw, list):
        _fail(where, "'applications' must be a list")
    applications = []
    for index, application in enumerate(raw):
        at = f"{where} applications[{index}]"
        if not isinstance(application, dict):
            _fail(at, "expected an object")
        success = application.get("success")
        if success is not None and not isinstance(success, bool):
            _fail(at, "'success' must be true, false or null")
        applications.append(
            {
                "agent": _text(application, "agent", at),
                "success": success,
                "created": _time(application, "created", at),
            }
        )
    return applications
