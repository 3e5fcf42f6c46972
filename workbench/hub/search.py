"""Hub text search on the store's own full-text index (migration 0011).

SQLite: the FTS5 table `knowledge_fts` (external content over knowledge_items: title,
content, tags; porter stemming over unicode61), kept in sync by triggers and ranked by
FTS5's `bm25()` with column weights TITLE_WEIGHT, CONTENT_WEIGHT, TAGS_WEIGHT.
PostgreSQL: the generated `search` tsvector (title and tags weight A, content B) under a
GIN index, ranked by `ts_rank_cd` with PG_WEIGHTS and PG_NORMALIZATION.

A query is reduced to its words (letters and digits; stop words dropped, at most
MAX_TERMS), each quoted as a string and OR-ed together, so FTS5 operators in user text
(`"`, `*`, NEAR, AND, parentheses, column filters) are searched as plain words and never
reach the query parser. Ties in relevance go to higher priority, then popularity (useful
votes + applications), then the item id, as before.
"""

from __future__ import annotations

import re

import peewee

from workbench.hub.relevance import STOP_WORDS
from workbench.store.postgres import is_postgres

# bm25() column weights, chosen on the labelled query set (see BENCHMARKS.md): a word in
# the title or the tags says more about what an item is about than one in the content.
TITLE_WEIGHT = 2.0
CONTENT_WEIGHT = 1.0
TAGS_WEIGHT = 2.0
# ts_rank_cd weights for the labels {D, C, B, A} (title and tags are A, content B) and its
# normalization 1 (rank / (1 + log length)): the best of the variants tried on the labelled
# set. ts_rank_cd has no IDF, so on PostgreSQL nDCG@10 stays a little below BM25's (see
# BENCHMARKS.md); SQLite, the default store, ranks with FTS5's BM25.
PG_WEIGHTS = "{0.1, 0.2, 0.25, 1.0}"
PG_NORMALIZATION = 1
MAX_TERMS = 64
WORD = re.compile(r"[^\W_]+")


def query_terms(text: str) -> list[str]:
    """The distinct words of a query, lower-cased, stop words dropped, in order."""
    words = (w for w in WORD.findall(text.lower()) if w not in STOP_WORDS)
    return list(dict.fromkeys(words))[:MAX_TERMS]


def fts5_match(terms: list[str]) -> str:
    """An FTS5 MATCH expression: every term a quoted string, OR-ed. Quoting makes any
    operator or punctuation a literal (an inner `"` is doubled, though WORD admits none)."""
    return " OR ".join('"' + t.replace('"', '""') + '"' for t in terms)


def ranked_ids(
    db: peewee.Database,
    text: str,
    *,
    channel_id: int | None = None,
    min_priority: int | None = None,
    tag: str | None = None,
    include_archived: bool = False,
    limit: int = 10,
) -> list[tuple[int, float]]:
    """(item id, relevance) of the best `limit` items matching `text` after the filters,
    best first; relevance is positive, higher is better."""
    terms = query_terms(text)
    if not terms:
        return []
    p = db.param
    where, params = [], []
    if channel_id is not None:
        where.append(f"k.channel_id = {p}")
        params.append(channel_id)
    if min_priority is not None:
        where.append(f"k.priority >= {p}")
        params.append(min_priority)
    if not include_archived:
        where.append("k.state <> 'ARCHIVED'")
    postgres = is_postgres(db)
    if tag is not None:
        if postgres:
            where.append(f"k.tags::jsonb @> jsonb_build_array({p}::text)")
        else:
            where.append(f"EXISTS (SELECT 1 FROM json_each(k.tags) WHERE json_each.value = {p})")
        params.append(tag)
    filters = "".join(f" AND {w}" for w in where)
    order = "score DESC, k.priority DESC, k.useful_votes + k.applied_count DESC, k.uid"
    if postgres:
        sql = (
            f"SELECT k.id, ts_rank_cd('{PG_WEIGHTS}'::float4[], k.search, q, "
            f"{PG_NORMALIZATION}) AS score "
            f"FROM knowledge_items k, to_tsquery('english', {p}) q "
            f"WHERE k.search @@ q{filters} ORDER BY {order} LIMIT {p}"
        )
        match = " | ".join(terms)
    else:
        sql = (
            f"SELECT k.id, -bm25(knowledge_fts, {TITLE_WEIGHT}, {CONTENT_WEIGHT}, "
            f"{TAGS_WEIGHT}) AS score FROM knowledge_fts "
            f"JOIN knowledge_items k ON k.id = knowledge_fts.rowid "
            f"WHERE knowledge_fts MATCH {p}{filters} ORDER BY {order} LIMIT {p}"
        )
        match = fts5_match(terms)
    rows = db.execute_sql(sql, [match, *params, limit]).fetchall()
    return [(int(i), float(s)) for i, s in rows]
