-- Schema version 5: memory tiers report what they drop. Every eviction (capacity, age),
-- consolidation run and pruning is a memory_events row with its reason and a JSON detail,
-- so a write that evicts is never silent and the Memory pane can show what moved.
CREATE TABLE "memory_events" ("id" INTEGER NOT NULL PRIMARY KEY, "tier" TEXT NOT NULL, "action" TEXT NOT NULL, "reason" TEXT NOT NULL, "count" INTEGER NOT NULL, "detail" TEXT NOT NULL, "at" DATETIME NOT NULL);
CREATE INDEX "memory_events_at" ON "memory_events" ("at");
CREATE INDEX "episodic_memory_created" ON "episodic_memory" ("created");
CREATE INDEX "semantic_memory_subject" ON "semantic_memory" ("subject");
