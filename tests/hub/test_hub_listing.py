"""The Hub listing reads (`items`, `agents`) read plain rows in one statement each; what
they return must equal what the model objects say (issue 16 part 3: the Hub pane reads
them after every commit)."""

from __future__ import annotations

import peewee
import pytest

from workbench.hub.service import HubService
from workbench.store import models as m


@pytest.fixture
def hub(fixture_engine):
    hub = fixture_engine.hub
    hub.vote("fx-1", "reviewer")
    hub.mark_applied("fx-3", "optimizer", False)
    hub.share("testing", "solution", "Pin the seed", "Flaky tests replay.", agent="newcomer",
              priority="CRITICAL", tags=["tests", "seed"])  # fmt: skip
    return hub


def by_models(channel: str | None = None) -> list[dict]:
    """Every item's summary as built from its model object."""
    query = m.KnowledgeItem.select(m.KnowledgeItem, m.Channel.name).join(m.Channel)
    if channel is not None:
        query = query.where(m.Channel.name == channel)
    return [HubService._summary(i, i.channel.name) for i in query]


def test_items_match_the_model_summaries(hub):
    listed = hub.items()
    assert {i["id"] for i in listed} == {i.uid for i in m.KnowledgeItem.select()}
    models = {i["id"]: i for i in by_models()}
    assert listed == [models[i["id"]] for i in listed]  # every field, every key, in order
    new = next(i for i in listed if i["title"] == "Pin the seed")
    assert (new["priority"], new["tags"], new["channel"]) == (
        "CRITICAL",
        ["seed", "tests"],  # stored sorted
        "testing",
    )
    for channel in ("testing", "general"):
        assert [i["id"] for i in hub.items(channel)] == [
            i["id"] for i in listed if i["channel"] == channel
        ]
    assert len(hub.items(limit=2)) == 2


def test_items_keep_the_order_priority_popularity_views_uid(hub):
    listed = hub.items()
    keys = [(i["priority"], i["popularity"], i["views"], i["id"]) for i in listed]
    rank = {"CRITICAL": 4, "HIGH": 3, "MEDIUM": 2, "LOW": 1}
    assert keys == sorted(keys, key=lambda k: (-rank[k[0]], -k[1], -k[2], k[3]))


def test_agents_are_every_subscriber_author_voter_and_applier(hub):
    expected = set()
    expected |= {s.agent for s in m.Subscription.select()}
    expected |= {i.source_agent for i in m.KnowledgeItem.select() if i.source_agent}
    expected |= {v.agent for v in m.KnowledgeVote.select()}
    expected |= {a.agent for a in m.KnowledgeApplication.select()}
    assert hub.agents() == sorted(expected)
    assert {"newcomer", "reviewer", "optimizer"} <= set(hub.agents())


def test_the_pane_reads_walk_indexes_not_sorts(hub, fixture_engine, monkeypatch):
    """`items` reads the ranking index in order and stops at its limit, and `agents`
    reads item authors from an index (migration 0016): a change to the ORDER BY that no
    longer matches the index expression shows here as a scan and a temporary sort."""
    if not isinstance(fixture_engine.db, peewee.SqliteDatabase):
        pytest.skip("SQLite query plans")
    captured: list[tuple[str, tuple]] = []
    db = fixture_engine.db
    original = db.execute_sql

    def capture(sql, params=None, *args, **kwargs):
        captured.append((sql, tuple(params or ())))
        return original(sql, params, *args, **kwargs)

    monkeypatch.setattr(db, "execute_sql", capture)
    hub.items()
    hub.agents()
    plans = {
        sql: " | ".join(row[3] for row in original(f"EXPLAIN QUERY PLAN {sql}", params))
        for sql, params in captured
    }
    items_plan = next(plan for sql, plan in plans.items() if "ORDER BY" in sql)
    assert "USING INDEX knowledge_items_ranking" in items_plan, items_plan
    assert "TEMP B-TREE" not in items_plan, items_plan
    agents_plan = next(plan for sql, plan in plans.items() if "UNION" in sql)
    assert "COVERING INDEX knowledge_items_source_agent" in agents_plan, agents_plan
