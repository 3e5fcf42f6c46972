-- Schema version 11 on PostgreSQL: what SQLite's FTS5 table does, as a stored generated
-- tsvector column with a GIN index. PostgreSQL keeps it in sync on every insert and update
-- (no triggers) and computes it for the rows already stored when the column is added.
-- Weights: title and tags A, content B; ranked with ts_rank_cd (workbench/hub/search.py).
ALTER TABLE "knowledge_items" ADD COLUMN "search" tsvector GENERATED ALWAYS AS (setweight(to_tsvector('english'::regconfig, "title"), 'A') || setweight(to_tsvector('english'::regconfig, "tags"), 'A') || setweight(to_tsvector('english'::regconfig, "content"), 'B')) STORED;
CREATE INDEX "knowledge_items_search" ON "knowledge_items" USING GIN ("search");
