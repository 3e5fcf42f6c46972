"""AgentsService: the engine's entry to recorded agent sessions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import peewee

from workbench.agents.views import AgentViews
from workbench.store import models as m


class AgentsService(AgentViews):
    """Records agent events (hooks, transcripts, neutral events) and answers questions on them."""

    def __init__(self, db: peewee.Database, *, clock: Callable[[], dt.datetime] = m.utcnow):
        self.db = db
        self.clock = clock
