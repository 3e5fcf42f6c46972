-- Schema version 10: memory by key, and continuous learning that runs itself.
-- A vector entry may expire: `expires` (UTC; NULL = never). Reads by key and lists skip an
-- expired entry; the next keyed write in the store deletes expired entries and records a
-- memory_events row saying how many and why.
-- `learn_watchers` holds the heartbeat of `workbench learn watch`: the one process per store
-- that follows the change feed and runs the training trigger when it is due. Its owner
-- (host, pid, process start, as in work_leases), when it started, its last heartbeat, when
-- it checks next, and what its last check did; the Patterns pane shows it.
ALTER TABLE "vector_memory" ADD COLUMN "expires" DATETIME;
CREATE INDEX "vector_memory_expires" ON "vector_memory" ("expires");
CREATE TABLE "learn_watchers" ("id" INTEGER NOT NULL PRIMARY KEY, "name" TEXT NOT NULL, "host" TEXT NOT NULL, "pid" INTEGER NOT NULL, "proc_start" TEXT NOT NULL, "status" TEXT NOT NULL, "started" DATETIME NOT NULL, "heartbeat" DATETIME NOT NULL, "next_check" DATETIME, "stopped" DATETIME, "checks" INTEGER NOT NULL, "trainings" INTEGER NOT NULL, "last_result" TEXT NOT NULL);
CREATE UNIQUE INDEX "learn_watchers_name" ON "learn_watchers" ("name");
