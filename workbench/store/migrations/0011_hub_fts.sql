-- Schema version 11: full-text search over knowledge items in the store itself.
-- An external-content FTS5 table over title, content and tags (the JSON list; its
-- punctuation tokenizes away), kept in sync by triggers on knowledge_items, so no process
-- builds an index of its own. Tokenizer: porter over unicode61 (chosen by measurement,
-- see BENCHMARKS.md "Hub queries"). The last statement indexes the rows already stored.
-- PostgreSQL runs migrations/postgres/0011_hub_fts.sql instead (tsvector + GIN).
CREATE VIRTUAL TABLE "knowledge_fts" USING fts5("title", "content", "tags", content='knowledge_items', content_rowid='id', tokenize='porter unicode61 remove_diacritics 2');
CREATE TRIGGER "knowledge_fts_insert" AFTER INSERT ON "knowledge_items" BEGIN
    INSERT INTO "knowledge_fts" (rowid, "title", "content", "tags") VALUES (NEW."id", NEW."title", NEW."content", NEW."tags");
END;
CREATE TRIGGER "knowledge_fts_delete" AFTER DELETE ON "knowledge_items" BEGIN
    INSERT INTO "knowledge_fts" ("knowledge_fts", rowid, "title", "content", "tags") VALUES ('delete', OLD."id", OLD."title", OLD."content", OLD."tags");
END;
CREATE TRIGGER "knowledge_fts_update" AFTER UPDATE OF "title", "content", "tags" ON "knowledge_items" BEGIN
    INSERT INTO "knowledge_fts" ("knowledge_fts", rowid, "title", "content", "tags") VALUES ('delete', OLD."id", OLD."title", OLD."content", OLD."tags");
    INSERT INTO "knowledge_fts" (rowid, "title", "content", "tags") VALUES (NEW."id", NEW."title", NEW."content", NEW."tags");
END;
INSERT INTO "knowledge_fts" ("knowledge_fts") VALUES ('rebuild');
