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
BM25_WEIGHTS = f"{TITLE_WEIGHT}, {CONTENT_WEIGHT}, {TAGS_WEIGHT}"
# The fast path: FTS5 ranks this many matches (sorting more costs FTS5 next to nothing:
# it scores every match anyway), then the filters look at the item rows of the best
# PREFIX of them (plus ties) first.
FETCH = 400
PREFIX = 50
MAX_CANDIDATES = 2000
MAX_TERMS = 64
ORDER = "score DESC, k.priority DESC, k.useful_votes + k.applied_count DESC, k.uid"
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
    if postgres:
        sql = (
            f"SELECT k.id, ts_rank_cd('{PG_WEIGHTS}'::float4[], k.search, q, "
            f"{PG_NORMALIZATION}) AS score "
            f"FROM knowledge_items k, to_tsquery('english', {p}) q "
            f"WHERE k.search @@ q{filters} ORDER BY {ORDER} LIMIT {p}"
        )
        rows = db.execute_sql(sql, [" | ".join(terms), *params, limit]).fetchall()
        return [(int(i), float(s)) for i, s in rows]
    match = fts5_match(terms)
    found = _sqlite_top_candidates(db, match, filters, params, limit)
    return found if found is not None else sqlite_full_ranking(db, match, filters, params, limit)


def sqlite_full_ranking(
    db: peewee.Database, match: str, filters: str, params: list, limit: int
) -> list[tuple[int, float]]:
    """Every match joined to its item, filtered and ordered in SQL: always right, and
    slower than the fast path on common words (it reads every matching item row)."""
    sql = (
        f"SELECT k.id, -bm25(knowledge_fts, {BM25_WEIGHTS}) AS score FROM knowledge_fts "
        f"JOIN knowledge_items k ON k.id = knowledge_fts.rowid "
        f"WHERE knowledge_fts MATCH ?{filters} ORDER BY {ORDER} LIMIT ?"
    )
    rows = db.execute_sql(sql, [match, *params, limit]).fetchall()
    return [(int(i), float(s)) for i, s in rows]


def _sqlite_top_candidates(
    db: peewee.Database, match: str, filters: str, params: list, limit: int
) -> list[tuple[int, float]] | None:
    """The fast path: FTS5's own top-`FETCH` by bm25() (ranked inside the index, touching
    no item rows), then the filters and tie-breaks on a prefix of them only.

    The prefix is the best `PREFIX` candidates extended over any tie at its edge, so
    every candidate left out scores strictly worse than every one kept: when `limit`
    kept items pass the filters, nothing left out can reach the top, whatever its
    priority. Short of that the whole fetch is filtered; when even that cannot prove the
    answer (the fetch ends inside a tie, or the filters pass too few), the matches tied
    at the fetch's edge are read, or None is returned and the caller runs the full join."""
    fetch = max(FETCH, 8 * limit)
    if fetch > MAX_CANDIDATES:  # a long list: one SQL query does it better
        return None
    bm25 = f"bm25(knowledge_fts, {BM25_WEIGHTS})"
    candidates = db.execute_sql(
        f"SELECT rowid, {bm25} AS s FROM knowledge_fts WHERE knowledge_fts MATCH ? "
        "ORDER BY s LIMIT ?",
        (match, fetch),
    ).fetchall()
    if not candidates:
        return []
    complete = len(candidates) < fetch
    cut = min(len(candidates), max(PREFIX, 4 * limit))
    while cut < len(candidates) and candidates[cut][1] == candidates[cut - 1][1]:
        cut += 1
    top = _filter_and_order(db, candidates[:cut], filters, params, limit)
    if len(top) < limit and cut < len(candidates):
        cut = len(candidates)
        top = _filter_and_order(db, candidates, filters, params, limit)
    if (cut < len(candidates) and len(top) == limit) or complete:
        return [(i, -s) for i, s in top]
    edge = candidates[-1][1]
    if len(top) < limit:
        return None
    if top[-1][1] < edge:
        return [(i, -s) for i, s in top]
    ties = db.execute_sql(
        f"SELECT rowid, {bm25} AS s FROM knowledge_fts WHERE knowledge_fts MATCH ? "
        f"AND {bm25} <= ? LIMIT ?",
        (match, edge, MAX_CANDIDATES + 1),
    ).fetchall()
    if len(ties) > MAX_CANDIDATES:
        return None
    return [(i, -s) for i, s in _filter_and_order(db, ties, filters, params, limit)]


def _filter_and_order(
    db: peewee.Database, scored: list[tuple], filters: str, params: list, limit: int
) -> list[tuple[int, float]]:
    """(id, bm25) of the best `limit` of `scored` items that pass the filters, in the
    hub's order: bm25 (lower is better), priority, popularity, uid."""
    if not scored:
        return []
    score = dict(scored)
    marks = ", ".join("?" * len(score))
    rows = db.execute_sql(
        f"SELECT k.id, k.priority, k.useful_votes + k.applied_count, k.uid "
        f"FROM knowledge_items k WHERE k.id IN ({marks}){filters}",
        [*score, *params],
    ).fetchall()
    rows.sort(key=lambda r: (score[r[0]], -r[1], -r[2], r[3]))
    return [(int(r[0]), float(score[r[0]])) for r in rows[:limit]]
