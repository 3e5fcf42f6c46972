"""An agent's deliveries in display form (the Hub pane's inbox) and marking them read."""

from __future__ import annotations

import pytest

from tests.conftest import FROZEN_NOW
from tests.hub.test_hub_service import share


@pytest.fixture
def hub(fixture_engine):
    return fixture_engine.hub


def test_deliveries_show_read_votes_and_applications_of_that_agent_only(hub):
    hub.subscribe("reviewer", "testing")
    first = share(hub, agent="coder", title="First tip")["id"]
    second = share(hub, agent="coder", title="Second tip", priority="HIGH")["id"]
    hub.vote(first, "tester")
    hub.mark_applied(first, "tester", True)
    hub.mark_applied(first, "tester", False)
    hub.mark_applied(first, "reviewer", True)  # another agent's use is not tester's
    hub.acknowledge("tester", [first])

    rows = hub.deliveries("tester")
    # the same clock for both: newest delivery (higher id) first
    assert [r["id"] for r in rows] == [second, first]
    new, old = rows
    assert (new["read"], new["voted"], new["applied"]) == (False, False, 0)
    assert (new["priority"], new["channel"], new["from"]) == ("HIGH", "testing", "coder")
    assert (old["read"], old["voted"]) == (True, True)
    assert (old["applied"], old["worked"], old["failed"]) == (2, 1, 1)
    assert old["acknowledged"] == FROZEN_NOW.isoformat()
    assert old["state"] == "EXPERIMENTAL"
    assert [r["id"] for r in hub.deliveries("reviewer")] == [second, first]
    assert hub.deliveries("reviewer")[1]["worked"] == 1
    # the CLI's inbox agrees: one unread left for tester
    assert [r["id"] for r in hub.inbox("tester")] == [second]


def test_acknowledge_all_and_twice(hub):
    share(hub, agent="coder")
    share(hub, agent="coder", title="Another")
    assert hub.acknowledge("tester") == 2
    assert hub.acknowledge("tester") == 0
    assert all(r["read"] for r in hub.deliveries("tester"))


def test_acknowledge_an_item_not_delivered_is_refused_and_changes_nothing(hub):
    uid = share(hub, agent="coder")["id"]
    with pytest.raises(ValueError, match="'fx-1' was not delivered to tester"):
        hub.acknowledge("tester", [uid, "fx-1"])
    assert hub.deliveries("tester")[0]["read"] is False


def test_deliveries_need_an_agent_and_an_unknown_agent_has_none(hub):
    with pytest.raises(ValueError, match="an agent name is needed"):
        hub.deliveries("  ")
    assert hub.deliveries("nobody") == []
