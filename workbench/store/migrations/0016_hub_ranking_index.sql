-- Schema version 16: the Hub pane reads the top 500 items in ranking order and every agent
-- name after each commit. At 10k items both were a scan and a sort (items ~9 ms, agents
-- ~5 ms in SQLite alone); with these indexes the ranking is read in index order and stops
-- at the limit, and the authors come from a covering index (benchmarks/ui_repaint.py).
-- The second column is the same expression `HubService.items` orders by.
CREATE INDEX "knowledge_items_ranking" ON "knowledge_items" ("priority" DESC, ("useful_votes" + "applied_count") DESC, "views" DESC, "uid");
CREATE INDEX "knowledge_items_source_agent" ON "knowledge_items" ("source_agent");
