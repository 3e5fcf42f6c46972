"""AgentsService: the engine's entry to recorded agent sessions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import peewee

from workbench.agents import purge as purging
from workbench.agents.views import AgentViews
from workbench.store import models as m


class AgentsService(AgentViews):
    """Records agent events (hooks, transcripts, neutral events) and answers questions on them."""

    def __init__(self, db: peewee.Database, *, clock: Callable[[], dt.datetime] = m.utcnow):
        self.db = db
        self.clock = clock

    # -- privacy: forget for good, redact what was stored before redaction -----------------

    def purge_preview(
        self,
        session: str | None = None,
        before: dt.datetime | None = None,
        project: str | None = None,
    ) -> list[dict[str, Any]]:
        """The sessions `purge` with the same arguments would remove (nothing is removed)."""
        return purging.preview(self.db, purging.Selection(session, before, project))

    def purge(
        self,
        session: str | None = None,
        before: dt.datetime | None = None,
        project: str | None = None,
    ) -> purging.PurgeReport:
        """Remove sessions and everything derived from them in one transaction, and leave
        no copy of their text in the database file. A selection matching nothing removes
        nothing and says so (`report.matched` is False)."""
        return purging.purge(self.db, purging.Selection(session, before, project), self.clock)

    def redact_existing(self) -> dict[str, Any]:
        """Redact agent text stored before redaction existed (or recorded with it off)."""
        return purging.redact_existing(self.db, self.clock)

    def last_purge(self) -> dict[str, Any] | None:
        """When the last purge ran and what it removed (for `workbench doctor`)."""
        with self.db.atomic():
            return purging.get_meta(purging.LAST_PURGE_KEY)

    def redaction_totals(self) -> tuple[int, int]:
        """(redactions recorded, sessions with any) over the stored sessions."""
        s = m.AgentSession
        with self.db.atomic():
            total = s.select(peewee.fn.COALESCE(peewee.fn.SUM(s.redactions), 0)).scalar()
            sessions = s.select().where(s.redactions > 0).count()
        return int(total or 0), sessions
