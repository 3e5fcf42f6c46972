"""The Engine: the one API the CLI, the UI and the tests use.

It opens (and migrates) the store, seeds it, answers the store-wide questions panes ask
(counts, recent rows, groupings) and hands out change feeds. It never imports Textual.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import peewee

from workbench import config, fsutil
from workbench.store import leases
from workbench.store import models as m
from workbench.store.db import LATEST_VERSION, open_database, translate_errors
from workbench.store.errors import StoreError

if TYPE_CHECKING:
    from workbench.store.feed import ChangeFeed

# Seeding (numpy, the kernels) and the change feed (watchfiles) are imported where they are
# used: a CLI call that only reads pays for neither (benchmarks/cli_startup.py).

SEEDED_KEY = "seeded_at"
CHANGE_LOG_KEEP = 50_000


class Engine:
    """Facade over one open store."""

    def __init__(
        self,
        db: str | Path | None = None,
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        clock: Callable[[], dt.datetime] = m.utcnow,
        migrate_to: int | None = None,
        embedder: str | None = None,
        long_lived: bool = False,
    ) -> None:
        # long_lived: a process that stays up (the UI, the MCP server) trains a large vector
        # namespace's index in a background thread; a short one (CLI, hook) scans exactly
        # and leaves training to `memory optimize` (no call waits minutes for k-means).
        self.long_lived = long_lived
        location = config.resolve_db(str(db) if db is not None else None, env, cwd)
        self.busy_timeout_ms = config.busy_timeout_ms(env)
        self.backend_name = config.kernel_backend(env)
        # The embedder spec is resolved (and the settings file read) only when memory is
        # first used: a store or hook call never pays the file read, and a bad spec fails
        # memory commands, not all.
        self._embedder_arg = embedder
        self._env = env
        # db_path: the SQLite file, or for a PostgreSQL URL a local directory standing for it
        # (checkpoints and other files kept next to a store go beside it).
        self.db_path = location.path
        self.store_target = location.target  # what reopens the store: path or URL
        self.store_label = location.label  # for messages: the URL without its password
        self.store_name = location.short_label  # for the header
        self.clock = clock
        own_dir = not location.explicit or location.is_postgres
        if not location.explicit:
            self._check_owner(self.db_path.parent, "store directory")
            self._make_dir(self.db_path.parent)
        if not location.is_postgres:
            self._check_owner(self.db_path, "database file")
        self.db, applied = open_database(location.target, self.busy_timeout_ms, migrate_to)
        if location.is_postgres:
            # A directory, so that anything opening it as a SQLite file fails loudly.
            self._make_dir(self.db_path)
        # One-line warnings for the faces to show (stderr, a notification); never a chmod.
        self.warnings: list[str] = self._permission_warnings(own_dir, location.is_postgres)
        self.created = 1 in applied
        # Work a killed process left `running` is marked interrupted (see store/leases.py).
        self.interrupted: dict[str, list[int]] = {}
        if migrate_to is None or migrate_to >= leases.SCHEMA_VERSION:
            with self.guard():
                self.interrupted = leases.reap(clock)
        self._neural = None
        self._pipeline = None
        self._patterns = None
        self._hub = None
        self._adaptive = None
        self._memory = None
        self._agents = None
        self.applied_migrations = applied

    # -- plumbing --------------------------------------------------------------------

    @staticmethod
    def _make_dir(path: Path) -> None:
        """Create a directory of ours 0700: it holds agent sessions."""
        try:
            fsutil.private_mkdir(path)
        except OSError as exc:
            raise StoreError(f"cannot create {path}: {exc.strerror or exc}") from None

    @staticmethod
    def _check_owner(path: Path, what: str) -> None:
        uid = fsutil.foreign_owner(path)
        if uid is not None:
            raise StoreError(
                f"{what} belongs to another user (uid {uid}), refusing to keep private "
                f"agent data there: {path} (choose a store of your own with --db)"
            )

    def _permission_warnings(self, own_dir: bool, is_postgres: bool) -> list[str]:
        path = self.db_path
        paths = [] if is_postgres else [path, Path(f"{path}-wal"), Path(f"{path}-shm")]
        if own_dir:
            paths.insert(0, path if is_postgres else path.parent)
        wide = fsutil.wide_permissions(paths)
        if not wide:
            return []
        return [
            f"store is readable by other users: {', '.join(wide)} — the workbench does not "
            "change modes itself: chmod 700 the directory, 600 the files"
        ]

    def guard(self) -> contextlib.AbstractContextManager[None]:
        """Translate database failures of an operation into one-line StoreErrors."""
        return translate_errors(self.store_label, self.busy_timeout_ms)

    def close(self) -> None:
        if not self.db.is_closed():
            self.db.close()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        with self.guard():
            return m.SchemaVersion.select(peewee.fn.MAX(m.SchemaVersion.version)).scalar() or 0

    @property
    def neural(self):
        """Neural models: training into the registry, prediction, export/import, quantize."""
        if self._neural is None:
            from workbench.neural.service import NeuralService

            root = self.db_path.parent / f"{self.db_path.stem}-checkpoints"
            self._neural = NeuralService(root, backend=self.backend_name)
        return self._neural

    def doctor(self) -> list[dict]:
        """`workbench doctor` rows (label, value, status, detail) from every contributor."""
        from workbench import doctor

        return doctor.gather(self)

    @property
    def pipeline(self):
        """Training pipeline: sandboxed runs of tasks × strategies, profiles, selection."""
        if self._pipeline is None:
            from workbench.pipeline.service import PipelineService

            self._pipeline = PipelineService(self.db, clock=self.clock)
        return self._pipeline

    @property
    def hub(self):
        """Knowledge hub: channels, sharing with delivery, queries, votes, evolution."""
        if self._hub is None:
            from workbench.hub.service import HubService

            self._hub = HubService(self.db, clock=self.clock)
        return self._hub

    @property
    def adaptive(self):
        """Adaptive strategy (analysis, choice, outcomes) and the performance optimizer."""
        if self._adaptive is None:
            from workbench.adaptive.service import AdaptiveService

            self._adaptive = AdaptiveService(self.db, clock=self.clock)
        return self._adaptive

    @property
    def embedder_spec(self) -> str:
        """The memory embedder's spec: the constructor's, else the environment/settings file's."""
        return self._embedder_arg or config.embedder_spec(self._env)

    @property
    def memory(self):
        """Four-tier memory: vector search, episodes, facts, the working set, consolidation."""
        if self._memory is None:
            from workbench.memory.embedder import make_embedder
            from workbench.memory.service import MemoryService

            self._memory = MemoryService(
                self.db,
                clock=self.clock,
                backend=self.backend_name,
                embedder=make_embedder(self.embedder_spec),
            )
            if self.long_lived:
                self._memory.vector.training = "background"
        return self._memory

    @property
    def patterns(self):
        """Patterns: classifier, learning from outcomes, learnings, continuous learning."""
        if self._patterns is None:
            from workbench.patterns.service import PatternsService

            self._patterns = PatternsService(
                self.db_path,
                self.neural,
                clock=self.clock,
                busy_timeout_ms=self.busy_timeout_ms,
                store_target=self.store_target,
                memory=self.memory,
            )
        return self._patterns

    @property
    def learnings(self):
        """The learnings store alone (patterns/learning.py): what advice reads. Lighter than
        `patterns`, which builds the neural service and continuous learning (the hook's
        advise path: benchmarks/hooks_latency.py)."""
        if self._patterns is not None:
            return self._patterns.engine
        from workbench.patterns.learning import LearningEngine

        return LearningEngine(self.clock)

    @property
    def agents(self):
        """Recorded agent sessions: hook events, transcript import, outcomes, advice."""
        if self._agents is None:
            from workbench.agents.service import AgentsService

            # the other services are built only when a session stops or advice is asked
            self._agents = AgentsService(
                self.db, clock=self.clock, services=lambda name: getattr(self, name)
            )
        return self._agents

    def train_catalog_models(
        self,
        names: str | Sequence[str],
        *,
        workers: int | None = None,
        executor: str | None = None,
        epochs: int | None = None,
        backend: str | None = None,
        on_done: Callable[[dict], None] | None = None,
        on_poll: Callable[[], None] | None = None,
    ) -> list[dict]:
        """Train catalog models in parallel (threads here, or Dask worker processes).
        `names`: "all" (every trainable one), "a,b" or a list."""
        from workbench.neural import parallel

        trainable = [e["name"] for e in self.neural.catalog() if e["trainable"]]
        if isinstance(names, str):
            names = (
                trainable
                if names.strip() == "all"
                else [n.strip() for n in names.split(",") if n.strip()]
            )
        names = list(dict.fromkeys(names))
        if not names:
            raise ValueError("no catalog model to train (none is trainable yet)")
        from workbench.neural import catalog

        for name in names:
            catalog.get(name)  # an unknown name fails here, before any process starts
        count = workers or parallel.default_workers()
        with parallel.training_executor(executor, count) as pool:
            return parallel.train_many(
                names, target=str(self.store_target), checkpoint_root=self.neural.checkpoint_root,
                busy_timeout_ms=self.busy_timeout_ms, executor=pool, epochs=epochs,
                backend=backend or self.backend_name, on_done=on_done, on_poll=on_poll,
                service=self.neural,
            )  # fmt: skip

    # -- seeding ---------------------------------------------------------------------

    def is_seeded(self) -> bool:
        with self.guard():
            return m.StoreMeta.select().where(m.StoreMeta.key == SEEDED_KEY).exists()

    def seed(self, sample_dir: Path | None = None) -> dict[str, int]:
        """Insert the sample data the store lacks; returns rows added per table."""
        from workbench.seed import seed_store  # numpy and the kernels: not on the hook path

        sample_dir = config.SAMPLE_DATA_DIR if sample_dir is None else sample_dir
        with self.guard():
            before = self.stats()
            with self.db.atomic():
                from workbench.seed import seed_store

                seed_store(sample_dir, self.clock)
                stamp = self.clock().isoformat(timespec="seconds")
                m.StoreMeta.insert(key=SEEDED_KEY, value=stamp).on_conflict_ignore().execute()
            after = self.stats()
        return {t: after[t] - before[t] for t in after if after[t] != before[t]}

    def ensure_seeded(self, sample_dir: Path | None = None) -> dict[str, int]:
        """Seed on first start only; a store that was seeded once is left as the user made it."""
        return {} if self.is_seeded() else self.seed(sample_dir)

    # -- reading ---------------------------------------------------------------------

    def stats(self) -> dict[str, int]:
        """Row count of every domain table."""
        with self.guard():
            return {t: m.MODELS_BY_TABLE[t].select().count() for t in m.DOMAIN_TABLES}

    def count(self, table: str) -> int:
        with self.guard():
            return _model(table).select().count()

    def recent(self, table: str, columns: Sequence[str], limit: int = 20) -> list[dict]:
        """The newest rows of a table (highest id first), only the named columns."""
        model = _model(table)
        fields = [_field(model, c) for c in columns]
        with self.guard():
            query = model.select(*fields).order_by(model._meta.primary_key.desc()).limit(limit)
            rows = [_plain(row) for row in query.dicts()]
            for field in fields:
                if isinstance(field, peewee.ForeignKeyField):
                    _label_foreign_keys(rows, field)
            return rows

    def group_counts(self, table: str, column: str) -> list[tuple[str, int]]:
        """(value, rows) for each distinct value of a column, most frequent first."""
        model = _model(table)
        field = _field(model, column)
        count = peewee.fn.COUNT(model._meta.primary_key)
        with self.guard():
            query = (
                model.select(field, count.alias("n"))
                .group_by(field)
                .order_by(count.desc(), field)
                .tuples()
            )
            return [(str(value), int(n)) for value, n in query]

    # -- the change feed -------------------------------------------------------------

    def change_feed(self, start_at_end: bool = True) -> ChangeFeed:
        from workbench.store.feed import ChangeFeed

        with self.guard():
            return ChangeFeed(start_at_end=start_at_end)

    def poll_changes(self, feed: ChangeFeed) -> set[str]:
        with self.guard():
            return feed.poll()

    def watch_changes(self, feed: ChangeFeed, stop_event=None) -> Iterator[set[str]]:
        """Blocking: the tables changed by each commit, from any process, on either backend."""
        from workbench.store.feed import watch_store

        return watch_store(self.store_target, feed, self.busy_timeout_ms, stop_event)

    def awatch_changes(self, feed: ChangeFeed, stop_event=None) -> AsyncIterator[set[str]]:
        """Async twin of `watch_changes` (the UI's watcher worker)."""
        from workbench.store.feed import awatch_store

        return awatch_store(self.store_target, feed, self.busy_timeout_ms, stop_event)

    def prune_change_log(self, keep: int = CHANGE_LOG_KEEP) -> int:
        """Drop all but the newest `keep` change_log rows; feeds only read forward."""
        from workbench.store.feed import ChangeFeed

        with self.guard():
            newest = ChangeFeed.latest_id()
            if newest <= keep:
                return 0
            return m.ChangeLog.delete().where(m.ChangeLog.id <= newest - keep).execute()


def _model(table: str) -> type[peewee.Model]:
    model = m.MODELS_BY_TABLE.get(table)
    if model is None or table not in m.DOMAIN_TABLES:
        raise StoreError(f"unknown table: {table}")
    return model


def _field(model: type[peewee.Model], column: str) -> peewee.Field:
    fields = model._meta.fields
    if column not in fields:
        raise StoreError(f"table {model._meta.table_name} has no column {column!r}")
    return fields[column]


LABEL_FIELDS = ("name", "title", "uid", "model_name")


def _label_foreign_keys(rows: list[dict], field: peewee.ForeignKeyField) -> None:
    """Replace foreign-key ids with the referenced row's name or title, in one query."""
    target = field.rel_model
    label = next((target._meta.fields[f] for f in LABEL_FIELDS if f in target._meta.fields), None)
    ids = {row[field.name] for row in rows if row.get(field.name) is not None}
    if label is None or not ids:
        return
    pk = target._meta.primary_key
    names = dict(target.select(pk, label).where(pk.in_(list(ids))).tuples())
    for row in rows:
        if row.get(field.name) in names:
            row[field.name] = names[row[field.name]]


def _plain(row: dict) -> dict:
    """JSON-friendly values: blobs become their size, datetimes ISO strings."""
    out = {}
    for key, value in row.items():
        if isinstance(value, bytes | memoryview):
            out[key] = f"<{len(value)} bytes>"
        elif isinstance(value, dt.datetime):
            out[key] = value.isoformat(sep=" ", timespec="seconds")
        else:
            out[key] = value
    return out


@contextlib.contextmanager
def open_engine(db: str | Path | None = None, **kwargs: object) -> Iterator[Engine]:
    engine = Engine(db, **kwargs)  # type: ignore[arg-type]
    try:
        yield engine
    finally:
        engine.close()


def to_json(obj: object) -> str:
    return json.dumps(obj, indent=2, sort_keys=True, default=str)


__all__ = ["LATEST_VERSION", "Engine", "StoreError", "open_engine", "to_json"]
