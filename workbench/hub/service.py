"""The knowledge hub service: channels, subscriptions, sharing with delivery to
subscribers, relevance queries, votes, applications, versions, export/import and pruning.

Every write is one transaction; bad input raises ValueError before anything is written.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path

import peewee

from workbench.fsutil import atomic_write
from workbench.hub import KNOWLEDGE_TYPES, PRIORITY_NAMES, parse_priority, search
from workbench.hub.evolution import (
    FORMAT,
    FORMAT_VERSION,
    iso,
    next_state,
    state_note,
    validate_document,
)
from workbench.store import models as m

CHANNEL_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
STALE_DAYS = 90
MAX_IMPORT_BYTES = 50 * 1024 * 1024


# the columns `HubService._summary` reads
SUMMARY_COLUMNS = (
    "uid", "type", "title", "priority", "tags", "source_agent", "views", "useful_votes",
    "applied_count", "success_count", "failure_count", "state", "version",
)  # fmt: skip


def popularity(item: m.KnowledgeItem | dict) -> int:
    """Useful votes plus applications: what other agents found worth using."""
    get = item.get if isinstance(item, dict) else lambda k: getattr(item, k)
    return int(get("useful_votes")) + int(get("applied_count"))


def _agent(agent: str) -> str:
    agent = (agent or "").strip()
    if not agent:
        raise ValueError("an agent name is needed")
    return agent


class HubService:
    """Knowledge hub over the open store."""

    def __init__(self, db: peewee.Database, clock: Callable[[], dt.datetime] = m.utcnow) -> None:
        self.db = db
        self.clock = clock

    # -- channels and subscriptions ----------------------------------------------------

    def channels(self, agent: str | None = None) -> list[dict]:
        """Every channel with its item and subscriber counts (and whether `agent` is in)."""
        items = dict(
            m.KnowledgeItem.select(m.KnowledgeItem.channel, peewee.fn.COUNT(m.KnowledgeItem.id))
            .group_by(m.KnowledgeItem.channel)
            .tuples()
        )
        subscribers: dict[int, set[str]] = {}
        for channel_id, who in m.Subscription.select(
            m.Subscription.channel, m.Subscription.agent
        ).tuples():
            subscribers.setdefault(channel_id, set()).add(who)
        return [
            {
                "name": c.name,
                "description": c.description,
                "items": int(items.get(c.id, 0)),
                "subscribers": sorted(subscribers.get(c.id, set())),
                "subscribed": agent in subscribers.get(c.id, set()) if agent else None,
            }
            for c in m.Channel.select().order_by(m.Channel.id)
        ]

    def create_channel(self, name: str, description: str = "") -> dict:
        name = name.strip()
        if not CHANNEL_NAME.match(name):
            raise ValueError(
                f"channel name must be 1-40 lower-case letters, digits, '-' or '_': {name!r}"
            )
        if m.Channel.select().where(m.Channel.name == name).exists():
            raise ValueError(f"channel already exists: {name}")
        m.Channel.create(name=name, description=description.strip(), created=self.clock())
        return {"name": name, "description": description.strip()}

    def _channel(self, name: str) -> m.Channel:
        channel = m.Channel.get_or_none(m.Channel.name == name)
        if channel is None:
            known = ", ".join(c.name for c in m.Channel.select().order_by(m.Channel.id))
            raise ValueError(f"unknown channel {name!r} (channels: {known})")
        return channel

    def agents(self) -> list[str]:
        """Every agent the hub knows: subscribers, authors, voters and appliers."""
        # one UNION statement (the Hub pane reads this after every commit)
        query = (
            m.Subscription.select(m.Subscription.agent)
            | m.KnowledgeItem.select(m.KnowledgeItem.source_agent)
            | m.KnowledgeVote.select(m.KnowledgeVote.agent)
            | m.KnowledgeApplication.select(m.KnowledgeApplication.agent)
        )
        return sorted({name for (name,) in query.tuples() if name})

    def subscribe(self, agent: str, channel: str) -> bool:
        """Subscribe; False when the agent already was."""
        agent, target = _agent(agent), self._channel(channel)
        with self.db.atomic():
            exists = (
                m.Subscription.select()
                .where((m.Subscription.agent == agent) & (m.Subscription.channel == target))
                .exists()
            )
            if not exists:
                m.Subscription.create(agent=agent, channel=target, created=self.clock())
        return not exists

    def unsubscribe(self, agent: str, channel: str) -> bool:
        agent, target = _agent(agent), self._channel(channel)
        deleted = (
            m.Subscription.delete()
            .where((m.Subscription.agent == agent) & (m.Subscription.channel == target))
            .execute()
        )
        return bool(deleted)

    def toggle_subscription(self, agent: str, channel: str) -> bool:
        """Flip a subscription; returns whether the agent is subscribed afterwards."""
        with self.db.atomic():
            if self.unsubscribe(agent, channel):
                return False
            self.subscribe(agent, channel)
            return True

    # -- sharing and the inbox ---------------------------------------------------------

    def share(
        self,
        channel: str,
        type: str,
        title: str,
        content: str,
        *,
        priority: str | int = "MEDIUM",
        tags: Iterable[str] = (),
        agent: str = "",
        context: dict | None = None,
        broadcast: bool = False,
    ) -> dict:
        """Add an item (version 1) and deliver it to the channel's subscribers — or, with
        `broadcast`, to every agent subscribed to any channel. The author is not sent its
        own item."""
        target = self._channel(channel)
        type = type.strip().lower()
        if type not in KNOWLEDGE_TYPES:
            raise ValueError(f"type must be one of {', '.join(KNOWLEDGE_TYPES)} (got {type!r})")
        title, content = title.strip(), content.strip()
        if not title:
            raise ValueError("title must not be empty")
        if not content:
            raise ValueError("content must not be empty")
        number = parse_priority(priority)
        clean_tags = sorted({t.strip().lower() for t in tags if t.strip()})
        if context is not None and not isinstance(context, dict):
            raise ValueError("context must be a JSON object")
        now = self.clock()
        with self.db.atomic():
            item = m.KnowledgeItem.create(
                uid=f"kb-{uuid.uuid4().hex[:10]}",
                channel=target,
                type=type,
                title=title,
                content=content,
                context=json.dumps(context or {}, sort_keys=True),
                priority=number,
                tags=json.dumps(clean_tags),
                source_agent=agent.strip(),
                created=now,
                updated=now,
            )
            m.KnowledgeVersion.create(
                item=item,
                version=1,
                title=title,
                content=content,
                change_note="shared",
                created=now,
            )
            recipients = self._deliver(item, broadcast, now)
        return {**self.item(item.uid, count_view=False), "delivered_to": recipients}

    def _deliver(self, item: m.KnowledgeItem, broadcast: bool, now: dt.datetime) -> list[str]:
        query = m.Subscription.select(m.Subscription.agent).distinct()
        if not broadcast:
            query = query.where(m.Subscription.channel == item.channel_id)
        recipients = sorted({a for (a,) in query.tuples()} - {item.source_agent})
        rows = [{"item": item.id, "agent": a, "delivered": now} for a in recipients]
        if rows:
            m.KnowledgeDelivery.insert_many(rows).on_conflict_ignore().execute()
        return recipients

    def inbox(
        self, agent: str, *, unread_only: bool = True, acknowledge: bool = False
    ) -> list[dict]:
        """Items delivered to an agent, newest first; `acknowledge` marks them read."""
        agent = _agent(agent)
        query = (
            m.KnowledgeDelivery.select(m.KnowledgeDelivery, m.KnowledgeItem)
            .join(m.KnowledgeItem)
            .where(m.KnowledgeDelivery.agent == agent)
            .order_by(m.KnowledgeDelivery.delivered.desc(), m.KnowledgeDelivery.id.desc())
        )
        if unread_only:
            query = query.where(m.KnowledgeDelivery.acknowledged.is_null())
        rows = [
            {
                "id": d.item.uid,
                "title": d.item.title,
                "priority": PRIORITY_NAMES[d.item.priority],
                "from": d.item.source_agent,
                "delivered": iso(d.delivered),
                "acknowledged": iso(d.acknowledged),
            }
            for d in query
        ]
        if acknowledge and rows:
            ids = [d.id for d in query]
            m.KnowledgeDelivery.update(acknowledged=self.clock()).where(
                m.KnowledgeDelivery.id.in_(ids)
            ).execute()
        return rows

    def deliveries(self, agent: str, *, limit: int = 500) -> list[dict]:
        """Everything delivered to an agent, read or not, newest first, with what the
        agent did with each (read, voted, applied and the outcomes it reported) — the
        inbox as the Hub pane and `hub inbox --all` show it."""
        agent = _agent(agent)
        d, k = m.KnowledgeDelivery, m.KnowledgeItem
        rows = list(
            d.select(d, k, m.Channel.name)
            .join(k)
            .join(m.Channel)
            .where(d.agent == agent)
            .order_by(d.delivered.desc(), d.id.desc())
            .limit(limit)
        )
        item_ids = [r.item_id for r in rows]
        voted: set[int] = set()
        outcomes: dict[int, list[bool | None]] = {}
        if item_ids:
            votes = m.KnowledgeVote.select(m.KnowledgeVote.item).where(
                (m.KnowledgeVote.agent == agent) & m.KnowledgeVote.item.in_(item_ids)
            )
            voted = {item_id for (item_id,) in votes.tuples()}
            a = m.KnowledgeApplication
            uses = (
                a.select(a.item, a.success)
                .where((a.agent == agent) & a.item.in_(item_ids))
                .order_by(a.id)
            )
            for item_id, success in uses.tuples():
                outcomes.setdefault(item_id, []).append(success)
        out = []
        for r in rows:
            item, used = r.item, outcomes.get(r.item_id, [])
            out.append(
                {
                    "id": item.uid,
                    "title": item.title,
                    "channel": item.channel.name,
                    "priority": PRIORITY_NAMES[item.priority],
                    "state": item.state,
                    "from": item.source_agent,
                    "delivered": iso(r.delivered),
                    "acknowledged": iso(r.acknowledged),
                    "read": r.acknowledged is not None,
                    "voted": r.item_id in voted,
                    "applied": len(used),
                    "worked": sum(1 for s in used if s is True),
                    "failed": sum(1 for s in used if s is False),
                }
            )
        return out

    def acknowledge(self, agent: str, uids: Iterable[str] | None = None) -> int:
        """Mark an agent's deliveries read: the named items, or every unread one. Returns
        how many changed; naming an item that was never delivered to the agent is an error
        and changes nothing."""
        agent = _agent(agent)
        d = m.KnowledgeDelivery
        query = d.select(d.id).where((d.agent == agent) & d.acknowledged.is_null())
        if uids is not None:
            wanted = list(dict.fromkeys(uids))
            known = {
                uid
                for (uid,) in d.select(m.KnowledgeItem.uid)
                .join(m.KnowledgeItem)
                .where((d.agent == agent) & m.KnowledgeItem.uid.in_(wanted))
                .tuples()
            }
            missing = [u for u in wanted if u not in known]
            if missing:
                raise ValueError(f"{missing[0]!r} was not delivered to {agent}")
            ids = m.KnowledgeItem.select(m.KnowledgeItem.id).where(m.KnowledgeItem.uid.in_(wanted))
            query = query.where(d.item.in_(ids))
        with self.db.atomic():
            ids = [i for (i,) in query.tuples()]
            if ids:
                d.update(acknowledged=self.clock()).where(d.id.in_(ids)).execute()
        return len(ids)

    # -- reading -----------------------------------------------------------------------

    def _item(self, uid: str) -> m.KnowledgeItem:
        item = m.KnowledgeItem.get_or_none(m.KnowledgeItem.uid == uid)
        if item is None:
            raise ValueError(f"no knowledge item {uid!r}")
        return item

    @staticmethod
    def _summary(item: m.KnowledgeItem | dict, channel: str) -> dict:
        """An item's list entry, from its model or from a row of `SUMMARY_COLUMNS`."""
        get = item.get if isinstance(item, dict) else lambda k: getattr(item, k)
        return {
            "id": get("uid"),
            "channel": channel,
            "type": get("type"),
            "title": get("title"),
            "priority": PRIORITY_NAMES[get("priority")],
            "tags": json.loads(get("tags")),
            "source_agent": get("source_agent"),
            "views": get("views"),
            "useful_votes": get("useful_votes"),
            "applied_count": get("applied_count"),
            "success_count": get("success_count"),
            "failure_count": get("failure_count"),
            "state": get("state"),
            "version": get("version"),
            "popularity": popularity(item),
        }

    def items(
        self, channel: str | None = None, *, include_archived: bool = True, limit: int = 500
    ) -> list[dict]:
        """Items by priority (CRITICAL first), then popularity, then views. Reads only the
        summary's columns as plain rows (not the content, not model objects): the Hub pane
        reads the top 500 after every commit, and at 10k items building 500 models with
        their content was most of that read."""
        query = (
            m.KnowledgeItem.select(
                *(getattr(m.KnowledgeItem, c) for c in SUMMARY_COLUMNS),
                m.Channel.name.alias("channel_name"),
            )
            .join(m.Channel)
            .dicts()
        )
        if channel is not None:
            query = query.where(m.KnowledgeItem.channel == self._channel(channel))
        if not include_archived:
            query = query.where(m.KnowledgeItem.state != "ARCHIVED")
        pop = m.KnowledgeItem.useful_votes + m.KnowledgeItem.applied_count
        query = query.order_by(
            m.KnowledgeItem.priority.desc(),
            pop.desc(),
            m.KnowledgeItem.views.desc(),
            m.KnowledgeItem.uid,
        ).limit(limit)
        return [self._summary(row, row["channel_name"]) for row in query]

    def popular(self, limit: int = 10) -> list[dict]:
        """Most useful votes + applications first; items nobody used are left out."""
        pop = m.KnowledgeItem.useful_votes + m.KnowledgeItem.applied_count
        query = (
            m.KnowledgeItem.select(m.KnowledgeItem, m.Channel.name)
            .join(m.Channel)
            .where((pop > 0) & (m.KnowledgeItem.state != "ARCHIVED"))
            .order_by(pop.desc(), m.KnowledgeItem.views.desc(), m.KnowledgeItem.uid)
            .limit(limit)
        )
        return [self._summary(i, i.channel.name) for i in query]

    def item(self, uid: str, *, count_view: bool = False) -> dict:
        """One item with its content, context, version history, voters and applications."""
        item = self._item(uid)
        if count_view:
            m.KnowledgeItem.update(views=m.KnowledgeItem.views + 1).where(
                m.KnowledgeItem.id == item.id
            ).execute()
            item = self._item(uid)
        out = self._summary(item, item.channel.name)
        uses = item.success_count + item.failure_count
        out.update(
            content=item.content,
            context=json.loads(item.context),
            created=iso(item.created),
            updated=iso(item.updated),
            last_used=iso(item.last_used),
            success_rate=item.success_count / uses if uses else None,
            state_note=state_note(item.state, item.success_count, item.failure_count),
            versions=[
                {
                    "version": v.version,
                    "title": v.title,
                    "change_note": v.change_note,
                    "created": iso(v.created),
                }
                for v in item.versions.order_by(m.KnowledgeVersion.version.desc())
            ],
            voters=[v.agent for v in item.votes.order_by(m.KnowledgeVote.agent)],
            delivered=item.deliveries.count(),
        )
        return out

    def query(
        self,
        text: str,
        *,
        channel: str | None = None,
        min_priority: str | int | None = None,
        tag: str | None = None,
        limit: int = 10,
        include_archived: bool = False,
        count_views: bool = True,
    ) -> list[dict]:
        """Items matching `text`, best first, after the filters: ranked in the store by its
        full-text index (FTS5 bm25 / PostgreSQL ts_rank_cd, see `search`). Returned items
        count a view each."""
        if limit < 1:
            raise ValueError("limit must be at least 1")
        ranked = search.ranked_ids(
            self.db,
            text,
            channel_id=self._channel(channel).id if channel is not None else None,
            min_priority=parse_priority(min_priority) if min_priority is not None else None,
            tag=tag.strip().lower() if tag and tag.strip() else None,
            include_archived=include_archived,
            limit=limit,
        )
        ids = [item_id for item_id, _ in ranked]
        item = m.KnowledgeItem
        if count_views and ids:
            item.update(views=item.views + 1).where(item.id.in_(ids)).execute()
        found = {
            i.id: i
            for i in item.select(item, m.Channel.name).join(m.Channel).where(item.id.in_(ids))
        }
        out = []
        for item_id, score in ranked:
            if item_id not in found:  # deleted by another process in between
                continue
            summary = self._summary(found[item_id], found[item_id].channel.name)
            summary["score"] = round(score, 4)
            out.append(summary)
        return out

    # -- engagement and usage ----------------------------------------------------------

    def vote(self, uid: str, agent: str) -> dict:
        """One useful vote per agent and item; a second vote is refused."""
        agent, item = _agent(agent), self._item(uid)
        with self.db.atomic():
            voted = (
                m.KnowledgeVote.select()
                .where((m.KnowledgeVote.item == item) & (m.KnowledgeVote.agent == agent))
                .exists()
            )
            if voted:
                raise ValueError(f"{agent} already voted for {uid}")
            try:
                m.KnowledgeVote.create(item=item, agent=agent, created=self.clock())
            except peewee.IntegrityError:  # another process voted for this agent meanwhile
                raise ValueError(f"{agent} already voted for {uid}") from None
            m.KnowledgeItem.update(useful_votes=m.KnowledgeItem.useful_votes + 1).where(
                m.KnowledgeItem.id == item.id
            ).execute()
        return self.item(uid)

    def mark_applied(self, uid: str, agent: str, success: bool | None = None) -> dict:
        """Record that an agent applied an item; a reported outcome drives its state."""
        agent, item = _agent(agent), self._item(uid)
        now = self.clock()
        with self.db.atomic():
            m.KnowledgeApplication.create(item=item, agent=agent, success=success, created=now)
            successes = item.success_count + (success is True)
            failures = item.failure_count + (success is False)
            state = next_state(item.state, successes, failures)
            m.KnowledgeItem.update(
                applied_count=m.KnowledgeItem.applied_count + 1,
                success_count=successes,
                failure_count=failures,
                state=state,
                last_used=now,
            ).where(m.KnowledgeItem.id == item.id).execute()
        return {**self.item(uid), "previous_state": item.state}

    def update(
        self,
        uid: str,
        *,
        note: str,
        title: str | None = None,
        content: str | None = None,
    ) -> dict:
        """Change title and/or content: a new version with the change note."""
        item = self._item(uid)
        note = note.strip()
        if not note:
            raise ValueError("a change note is needed")
        new_title = item.title if title is None else title.strip()
        new_content = item.content if content is None else content.strip()
        if not new_title or not new_content:
            raise ValueError("title and content must not be empty")
        if (new_title, new_content) == (item.title, item.content):
            raise ValueError(f"{uid}: nothing changed (same title and content)")
        now = self.clock()
        with self.db.atomic():
            version = item.version + 1
            m.KnowledgeVersion.create(
                item=item,
                version=version,
                title=new_title,
                content=new_content,
                change_note=note,
                created=now,
            )
            m.KnowledgeItem.update(
                title=new_title, content=new_content, version=version, updated=now
            ).where(m.KnowledgeItem.id == item.id).execute()
        return self.item(uid)

    def archive(self, uid: str) -> dict:
        item = self._item(uid)
        if item.state != "ARCHIVED":
            m.KnowledgeItem.update(state="ARCHIVED", updated=self.clock()).where(
                m.KnowledgeItem.id == item.id
            ).execute()
        return self.item(uid)

    def state_counts(self) -> dict[str, int]:
        counts = dict(
            m.KnowledgeItem.select(m.KnowledgeItem.state, peewee.fn.COUNT(m.KnowledgeItem.id))
            .group_by(m.KnowledgeItem.state)
            .tuples()
        )
        return {
            s: int(counts.get(s, 0))
            for s in ("EXPERIMENTAL", "VALIDATED", "DEPRECATED", "ARCHIVED")
        }

    # -- pruning -----------------------------------------------------------------------

    def prune(self, stale_days: int = STALE_DAYS, *, dry_run: bool = False) -> dict:
        """Archive stale items, delete archived ones that stayed untouched as long.

        Stale: DEPRECATED, or EXPERIMENTAL and never used, with no activity (update or
        use) for `stale_days`. Archived items whose last activity is older than
        `stale_days` are deleted with their versions and records; archiving counts as
        activity, so an item is kept archived for `stale_days` before it goes.
        """
        if stale_days < 0:
            raise ValueError("stale days must be ≥ 0")
        now = self.clock()
        cutoff = now - dt.timedelta(days=stale_days)
        to_archive, to_delete = [], []
        for item in m.KnowledgeItem.select().order_by(m.KnowledgeItem.uid):
            last = max(t for t in (item.updated, item.last_used, item.created) if t is not None)
            if last > cutoff:
                continue
            if item.state == "ARCHIVED":
                to_delete.append(item)
            elif item.state == "DEPRECATED" or (
                item.state == "EXPERIMENTAL" and item.applied_count == 0
            ):
                to_archive.append(item)
        if not dry_run:
            with self.db.atomic():
                if to_archive:
                    m.KnowledgeItem.update(state="ARCHIVED", updated=now).where(
                        m.KnowledgeItem.id.in_([i.id for i in to_archive])
                    ).execute()
                for item in to_delete:
                    item.delete_instance()
        return {
            "stale_days": stale_days,
            "dry_run": dry_run,
            "archived": [{"id": i.uid, "title": i.title, "was": i.state} for i in to_archive],
            "deleted": [{"id": i.uid, "title": i.title} for i in to_delete],
            "remaining": m.KnowledgeItem.select().count() - (len(to_delete) if dry_run else 0),
        }

    # -- export and import -------------------------------------------------------------

    def export_data(self) -> dict:
        """The whole knowledge base as an exchange document (see `evolution`)."""
        items = []
        query = (
            m.KnowledgeItem.select(m.KnowledgeItem, m.Channel.name)
            .join(m.Channel)
            .order_by(m.KnowledgeItem.uid)
        )
        for item in query:
            items.append(
                {
                    "id": item.uid,
                    "channel": item.channel.name,
                    "type": item.type,
                    "title": item.title,
                    "content": item.content,
                    "context": json.loads(item.context),
                    "priority": PRIORITY_NAMES[item.priority],
                    "tags": json.loads(item.tags),
                    "source_agent": item.source_agent,
                    "views": item.views,
                    "state": item.state,
                    "version": item.version,
                    "created": iso(item.created),
                    "updated": iso(item.updated),
                    "last_used": iso(item.last_used),
                    "versions": [
                        {
                            "version": v.version,
                            "title": v.title,
                            "content": v.content,
                            "change_note": v.change_note,
                            "created": iso(v.created),
                        }
                        for v in item.versions.order_by(m.KnowledgeVersion.version)
                    ],
                    "votes": [
                        {"agent": v.agent, "created": iso(v.created)}
                        for v in item.votes.order_by(m.KnowledgeVote.agent)
                    ],
                    "applications": [
                        {"agent": a.agent, "success": a.success, "created": iso(a.created)}
                        for a in item.applications.order_by(
                            m.KnowledgeApplication.created, m.KnowledgeApplication.id
                        )
                    ],
                }
            )
        channels = [
            {"name": c.name, "description": c.description}
            for c in m.Channel.select().order_by(m.Channel.name)
        ]
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "channels": channels,
            "items": items,
        }

    def export_file(self, path: str | Path) -> dict:
        dest = Path(path)
        if dest.is_dir():
            raise ValueError(f"export path is a directory: {dest}")
        if not dest.parent.is_dir():
            raise ValueError(f"export directory does not exist: {dest.parent}")
        doc = self.export_data()
        with atomic_write(dest, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, indent=2, sort_keys=True, ensure_ascii=False)
            fh.write("\n")
        return {"path": str(dest), "items": len(doc["items"]), "channels": len(doc["channels"])}

    def import_file(self, path: str | Path) -> dict:
        source = Path(path)
        if not source.is_file():
            raise ValueError(f"no such file: {source}")
        if source.stat().st_size > MAX_IMPORT_BYTES:
            raise ValueError(f"{source}: larger than {MAX_IMPORT_BYTES // 2**20} MB")
        try:
            doc = json.loads(source.read_text(encoding="utf-8"))
        except UnicodeDecodeError:
            raise ValueError(f"{source}: not UTF-8 text") from None
        except json.JSONDecodeError as exc:
            raise ValueError(f"{source}: invalid JSON ({exc.msg}, line {exc.lineno})") from None
        try:
            return self.import_data(doc)
        except ValueError as exc:
            raise ValueError(f"{source}: {exc}") from None

    def import_data(self, doc: object) -> dict:
        """Validate everything, then write in one transaction. An id already in the store
        is merged: versions, votes and applications are united, the newer item's fields
        win, counters are re-derived from the records and the state re-evaluated."""
        known = {c.name for c in m.Channel.select(m.Channel.name)}
        clean = validate_document(doc, known)
        report = {"channels_added": 0, "items_added": 0, "items_merged": 0, "versions_added": 0}
        with self.db.atomic():
            for channel in clean["channels"]:
                if channel["name"] not in known:
                    m.Channel.create(
                        name=channel["name"],
                        description=channel["description"],
                        created=self.clock(),
                    )
                    known.add(channel["name"])
                    report["channels_added"] += 1
            channel_ids = {c.name: c.id for c in m.Channel.select()}
            for incoming in clean["items"]:
                existing = m.KnowledgeItem.get_or_none(m.KnowledgeItem.uid == incoming["id"])
                if existing is None:
                    self._insert_imported(incoming, channel_ids)
                    report["items_added"] += 1
                    report["versions_added"] += len(incoming["versions"])
                else:
                    report["versions_added"] += self._merge_imported(
                        existing, incoming, channel_ids
                    )
                    report["items_merged"] += 1
        return report

    def _insert_imported(self, data: dict, channel_ids: dict[str, int]) -> None:
        item = m.KnowledgeItem.create(
            uid=data["id"],
            channel=channel_ids[data["channel"]],
            type=data["type"],
            title=data["title"],
            content=data["content"],
            context=json.dumps(data["context"], sort_keys=True),
            priority=parse_priority(data["priority"]),
            tags=json.dumps(data["tags"]),
            source_agent=data["source_agent"],
            views=data["views"],
            state=data["state"],
            version=data["version"],
            created=data["created"],
            updated=data["updated"],
            last_used=data["last_used"],
        )
        for version in data["versions"]:
            m.KnowledgeVersion.create(item=item, **version)
        self._add_records(item, data)
        self._recount(item, data["state"])

    def _merge_imported(self, item: m.KnowledgeItem, data: dict, channel_ids: dict) -> int:
        have = {v.version for v in item.versions}
        added = 0
        for version in data["versions"]:
            if version["version"] not in have:
                m.KnowledgeVersion.create(item=item, **version)
                added += 1
        incoming_newer = (data["version"], data["updated"]) > (item.version, item.updated)
        fields: dict = {"views": max(item.views, data["views"])}
        if data["last_used"] is not None and (
            item.last_used is None or data["last_used"] > item.last_used
        ):
            fields["last_used"] = data["last_used"]
        state = item.state
        if incoming_newer:
            latest = max(item.version, data["version"])
            top = m.KnowledgeVersion.get(
                (m.KnowledgeVersion.item == item) & (m.KnowledgeVersion.version == latest)
            )
            state = data["state"]
            fields.update(
                channel=channel_ids[data["channel"]],
                type=data["type"],
                title=top.title,
                content=top.content,
                context=json.dumps(data["context"], sort_keys=True),
                priority=parse_priority(data["priority"]),
                tags=json.dumps(data["tags"]),
                version=latest,
                updated=max(item.updated, data["updated"]),
            )
        m.KnowledgeItem.update(**fields).where(m.KnowledgeItem.id == item.id).execute()
        self._add_records(item, data)
        self._recount(item, state)
        return added

    @staticmethod
    def _add_records(item: m.KnowledgeItem, data: dict) -> None:
        if data["votes"]:
            m.KnowledgeVote.insert_many(
                [{"item": item.id, **v} for v in data["votes"]]
            ).on_conflict_ignore().execute()
        have = {(a.agent, a.success, a.created) for a in item.applications}
        for application in data["applications"]:
            key = (application["agent"], application["success"], application["created"])
            if key not in have:
                m.KnowledgeApplication.create(item=item, **application)
                have.add(key)

    @staticmethod
    def _recount(item: m.KnowledgeItem, state: str) -> None:
        """Counters from the per-agent records, then the state they imply."""
        votes = item.votes.count()
        outcomes = [a.success for a in item.applications]
        successes = sum(1 for s in outcomes if s is True)
        failures = sum(1 for s in outcomes if s is False)
        m.KnowledgeItem.update(
            useful_votes=votes,
            applied_count=len(outcomes),
            success_count=successes,
            failure_count=failures,
            state=next_state(state, successes, failures),
        ).where(m.KnowledgeItem.id == item.id).execute()
