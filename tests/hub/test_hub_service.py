"""Hub service: sharing and delivery, votes, applications and the state machine,
versions, export/import and pruning — over the frozen fixture store."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from tests.conftest import FROZEN_NOW
from workbench.hub.evolution import DEPRECATE_RATE, MIN_USES, VALIDATE_RATE, next_state
from workbench.store import models as m


@pytest.fixture
def hub(fixture_engine):
    return fixture_engine.hub


def share(hub, **overrides):
    args = dict(
        channel="testing",
        type="solution",
        title="Seed the RNG in conftest",
        content="Flaky tests replay when the random seed is fixed in conftest.",
        agent="coder",
    )
    args.update(overrides)
    channel, type_, title, content = (args.pop(k) for k in ("channel", "type", "title", "content"))
    return hub.share(channel, type_, title, content, **args)


# -- state machine ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "successes", "failures", "expected"),
    [
        ("EXPERIMENTAL", 4, 0, "EXPERIMENTAL"),  # 4 uses: below MIN_USES
        ("EXPERIMENTAL", 4, 1, "VALIDATED"),  # 5 uses, 80% exactly
        ("EXPERIMENTAL", 3, 1, "EXPERIMENTAL"),  # 4 uses
        ("EXPERIMENTAL", 7, 3, "EXPERIMENTAL"),  # 70%: between the rates
        ("EXPERIMENTAL", 2, 3, "EXPERIMENTAL"),  # 40% exactly is not < 40%
        ("EXPERIMENTAL", 1, 4, "DEPRECATED"),  # 20%
        ("VALIDATED", 7, 3, "VALIDATED"),  # hysteresis: stays between the rates
        ("VALIDATED", 3, 5, "DEPRECATED"),  # 37.5% < 40%
        ("DEPRECATED", 5, 5, "DEPRECATED"),
        ("DEPRECATED", 9, 1, "VALIDATED"),  # usage can bring an item back
        ("ARCHIVED", 10, 0, "ARCHIVED"),  # archived is final
    ],
)
def test_state_thresholds(current, successes, failures, expected):
    assert (MIN_USES, VALIDATE_RATE, DEPRECATE_RATE) == (5, 0.80, 0.40)
    assert next_state(current, successes, failures) == expected


def test_recorded_usage_drives_validation_at_the_fifth_use(hub):
    uid = share(hub)["id"]
    for _ in range(3):
        hub.mark_applied(uid, "tester", success=True)
    hub.mark_applied(uid, "reviewer", success=False)
    assert hub.item(uid)["state"] == "EXPERIMENTAL"  # 4 uses
    result = hub.mark_applied(uid, "tester", success=True)  # 5 uses, 4/5 = 80%
    assert (result["previous_state"], result["state"]) == ("EXPERIMENTAL", "VALIDATED")
    assert (result["success_count"], result["failure_count"], result["applied_count"]) == (4, 1, 5)


def test_failures_deprecate_and_outcome_free_applications_do_not_count(hub):
    uid = share(hub)["id"]
    for _ in range(3):
        hub.mark_applied(uid, "tester", success=None)
    hub.mark_applied(uid, "tester", success=True)
    for _ in range(3):
        hub.mark_applied(uid, "tester", success=False)
    assert hub.item(uid)["state"] == "EXPERIMENTAL"  # 4 reported uses
    after = hub.mark_applied(uid, "coder", success=False)  # 1/5 = 20%
    assert after["state"] == "DEPRECATED"
    assert after["applied_count"] == 8
    assert after["last_used"] == FROZEN_NOW.isoformat()


# -- sharing, delivery, subscriptions --------------------------------------------------


def test_share_delivers_once_to_each_channel_subscriber_but_not_the_author(hub):
    hub.subscribe("coder", "testing")
    hub.subscribe("reviewer", "testing")
    result = share(hub, agent="coder")
    assert result["delivered_to"] == ["reviewer", "tester"]
    assert [r["id"] for r in hub.inbox("tester")] == [result["id"]]
    assert hub.inbox("coder") == []
    assert hub.inbox("optimizer") == []  # subscribed to optimizations only


def test_broadcast_reaches_every_subscriber_exactly_once(hub):
    for channel in ("testing", "warnings", "debugging"):
        hub.subscribe("architect", channel)  # one agent on three channels
    result = share(hub, channel="general", agent="", broadcast=True)
    subscribers = {s.agent for s in m.Subscription.select()}
    assert set(result["delivered_to"]) == subscribers
    rows = [
        d.agent
        for d in m.KnowledgeDelivery.select()
        .join(m.KnowledgeItem)
        .where(m.KnowledgeItem.uid == result["id"])
    ]
    assert sorted(rows) == sorted(subscribers)  # once each, the unique index holds
    for agent in subscribers:
        assert [r["id"] for r in hub.inbox(agent)] == [result["id"]]


def test_inbox_acknowledge_marks_read(hub):
    uid = share(hub, agent="coder")["id"]
    assert [r["id"] for r in hub.inbox("tester", acknowledge=True)] == [uid]
    assert hub.inbox("tester") == []
    assert hub.inbox("tester", unread_only=False)[0]["acknowledged"] == FROZEN_NOW.isoformat()


def test_subscribe_toggle_and_user_channels(hub):
    hub.create_channel("security", "threats and fixes")
    assert hub.subscribe("coder", "security") is True
    assert hub.subscribe("coder", "security") is False
    assert hub.toggle_subscription("coder", "security") is False
    assert hub.toggle_subscription("coder", "security") is True
    channel = next(c for c in hub.channels("coder") if c["name"] == "security")
    assert channel == {
        "name": "security",
        "description": "threats and fixes",
        "items": 0,
        "subscribers": ["coder"],
        "subscribed": True,
    }
    with pytest.raises(ValueError, match="already exists"):
        hub.create_channel("security")
    with pytest.raises(ValueError, match="channel name"):
        hub.create_channel("Bad Name!")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"channel": "nope"}, "unknown channel 'nope'"),
        ({"type": "rumour"}, "type must be one of"),
        ({"title": "  "}, "title must not be empty"),
        ({"content": ""}, "content must not be empty"),
        ({"priority": "URGENT"}, "priority must be one of LOW, MEDIUM, HIGH, CRITICAL"),
    ],
)
def test_bad_share_is_refused_and_writes_nothing(hub, overrides, message):
    before = m.KnowledgeItem.select().count()
    with pytest.raises(ValueError, match=message):
        share(hub, **overrides)
    assert m.KnowledgeItem.select().count() == before


# -- votes, views, popularity ----------------------------------------------------------


def test_vote_once_per_agent(hub):
    uid = share(hub)["id"]
    assert hub.vote(uid, "tester")["useful_votes"] == 1
    with pytest.raises(ValueError, match="tester already voted for"):
        hub.vote(uid, "tester")
    assert hub.vote(uid, "reviewer")["useful_votes"] == 2
    assert hub.item(uid)["voters"] == ["reviewer", "tester"]
    with pytest.raises(ValueError, match="no knowledge item"):
        hub.vote("kb-missing", "tester")


def test_popular_orders_by_votes_plus_applications(hub):
    a = share(hub, title="first")["id"]
    b = share(hub, title="second")["id"]
    hub.vote(a, "tester")
    for agent in ("tester", "reviewer"):
        hub.mark_applied(b, agent, success=True)
    assert [p["id"] for p in hub.popular()] == [b, a]
    assert [p["popularity"] for p in hub.popular()] == [2, 1]


def test_items_sort_by_priority_then_popularity(hub):
    low = share(hub, title="low", priority="LOW")["id"]
    crit = share(hub, title="crit", priority="CRITICAL")["id"]
    crit2 = share(hub, title="crit2", priority="CRITICAL")["id"]
    hub.vote(crit2, "tester")
    order = [i["id"] for i in hub.items("testing")]
    assert order.index(crit2) < order.index(crit) < order.index(low)


# -- versions --------------------------------------------------------------------------


def test_every_content_change_is_a_version_with_its_note(hub):
    uid = share(hub)["id"]
    hub.update(uid, note="name numpy too", content="Seed random and numpy in conftest.")
    item = hub.update(uid, note="clearer title", title="Seed every RNG in conftest")
    assert item["version"] == 3
    assert [(v["version"], v["change_note"]) for v in item["versions"]] == [
        (3, "clearer title"),
        (2, "name numpy too"),
        (1, "shared"),
    ]
    assert item["content"] == "Seed random and numpy in conftest."
    with pytest.raises(ValueError, match="nothing changed"):
        hub.update(uid, note="again", title="Seed every RNG in conftest")
    with pytest.raises(ValueError, match="change note"):
        hub.update(uid, note=" ", title="x")


# -- export / import -------------------------------------------------------------------


def _exercise(hub):
    uid = share(hub, tags=["pytest", "flaky"], context={"lang": "python"})["id"]
    hub.update(uid, note="more", content="Fix the seed in conftest; replay is exact.")
    hub.vote(uid, "tester")
    hub.mark_applied(uid, "tester", success=True)
    hub.mark_applied(uid, "reviewer", success=None)
    hub.create_channel("security", "threats")
    return uid


def test_export_import_round_trip_is_equal(hub, tmp_path):
    from workbench.engine import Engine

    _exercise(hub)
    exported = tmp_path / "kb.json"
    hub.export_file(exported)
    other = Engine(tmp_path / "other.db", clock=lambda: FROZEN_NOW)
    try:
        report = other.hub.import_file(exported)
        assert report["items_added"] == len(json.loads(exported.read_text())["items"])
        again = tmp_path / "again.json"
        other.hub.export_file(again)
        assert json.loads(again.read_text()) == json.loads(exported.read_text())
    finally:
        other.close()


def test_import_twice_merges_by_id_and_doubles_nothing(hub, tmp_path):
    _exercise(hub)
    path = tmp_path / "kb.json"
    hub.export_file(path)
    counts = {
        t: t.select().count()
        for t in (m.KnowledgeItem, m.KnowledgeVersion, m.KnowledgeVote, m.KnowledgeApplication)
    }
    report = hub.import_file(path)
    assert report["items_added"] == 0 and report["versions_added"] == 0
    assert report["items_merged"] == counts[m.KnowledgeItem]
    assert {t: t.select().count() for t in counts} == counts


def test_import_merges_a_newer_version_and_new_records(hub, tmp_path):
    uid = _exercise(hub)
    doc = hub.export_data()
    item = next(i for i in doc["items"] if i["id"] == uid)
    item["versions"].append(
        {"version": 3, "title": item["title"], "content": "v3 text", "change_note": "from B",
         "created": "2026-01-16T10:00:00"}
    )  # fmt: skip
    item.update(version=3, content="v3 text", updated="2026-01-16T10:00:00")
    item["votes"].append({"agent": "architect", "created": "2026-01-16T10:00:00"})
    item["applications"].append(
        {"agent": "architect", "success": True, "created": "2026-01-16T10:00:00"}
    )
    report = hub.import_data(doc)
    assert report["versions_added"] == 1
    merged = hub.item(uid)
    assert (merged["version"], merged["content"]) == (3, "v3 text")
    assert merged["useful_votes"] == 2 and merged["applied_count"] == 3
    assert merged["success_count"] == 2


def _bad(doc, path):
    path.write_text(json.dumps(doc))
    return path


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.update(format="other"), "'format' must be"),
        (lambda d: d["items"][-1].update(priority="URGENT"), "'priority' must be one of"),
        (lambda d: d["items"][-1].update(state="GOLD"), "'state' must be one of"),
        (lambda d: d["items"][-1].update(channel="nowhere"), "unknown channel 'nowhere'"),
        (lambda d: d["items"][-1]["versions"].pop(0), "numbered 1..1 without gaps"),
        (lambda d: d["items"][-1].update(version=9), "'version' is 9"),
        (lambda d: d["items"][-1].update(created="yesterday"), "not an ISO date-time"),
        (lambda d: d["items"][-1]["votes"].append(dict(d["items"][-1]["votes"][0])), "votes twice"),
        (lambda d: d["items"].append(dict(d["items"][0])), "duplicate id"),
        (lambda d: d["items"][-1]["applications"][0].update(success="yes"), "'success' must be"),
    ],
)
def test_malformed_import_changes_nothing(hub, tmp_path, mutate, message):
    _exercise(hub)
    doc = hub.export_data()
    # a good new item first, so a partial write would be visible
    fresh = json.loads(json.dumps(doc["items"][0]))
    fresh["id"] = "kb-new-one"
    doc["items"].insert(0, fresh)
    doc["items"].append(json.loads(json.dumps(next(i for i in doc["items"] if i["votes"]))))
    doc["items"][-1]["id"] = "kb-last"
    mutate(doc)
    before = hub.export_data()
    with pytest.raises(ValueError, match=message):
        hub.import_file(_bad(doc, tmp_path / "bad.json"))
    assert hub.export_data() == before


def test_import_of_a_file_that_is_not_json(hub, tmp_path):
    path = tmp_path / "x.json"
    path.write_text("{not json")
    with pytest.raises(ValueError, match="invalid JSON"):
        hub.import_file(path)
    with pytest.raises(ValueError, match="no such file"):
        hub.import_file(tmp_path / "missing.json")


# -- pruning ---------------------------------------------------------------------------


def test_prune_archives_stale_items_then_deletes_long_archived_ones(fixture_engine):
    hub = fixture_engine.hub
    used = share(hub, title="used")["id"]
    hub.mark_applied(used, "tester", success=True)
    share(hub, title="never used")
    later = FROZEN_NOW + dt.timedelta(days=100)
    fixture_engine.hub.clock = lambda: later
    dry = hub.prune(90, dry_run=True)
    assert dry["dry_run"] and len(dry["archived"]) == 4  # 3 seeded + 1 shared, never used
    assert hub.state_counts()["ARCHIVED"] == 0
    report = hub.prune(90)
    assert used not in {a["id"] for a in report["archived"]}
    assert hub.state_counts()["ARCHIVED"] == 4 and report["deleted"] == []
    assert hub.prune(90)["deleted"] == []  # archived just now: kept for the grace period
    hub.clock = lambda: later + dt.timedelta(days=91)
    report = hub.prune(90)
    assert len(report["deleted"]) == 4
    assert {i["id"] for i in hub.items()} == {used}  # used once: not stale, kept EXPERIMENTAL
    assert report["archived"] == []
