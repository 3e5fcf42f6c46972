-- Schema version 8: who owns running work. A row in a table with a `running` status
-- (pipeline_runs, training_runs, curriculum_runs) gets a lease naming its process: host,
-- pid and the process start time (so a reused pid is not mistaken for the owner). When a
-- store is opened, running rows whose owner on this host is gone are marked interrupted.
CREATE TABLE "work_leases" ("id" INTEGER NOT NULL PRIMARY KEY, "table_name" TEXT NOT NULL, "row_id" INTEGER NOT NULL, "host" TEXT NOT NULL, "pid" INTEGER NOT NULL, "proc_start" TEXT NOT NULL, "created" DATETIME NOT NULL);
CREATE UNIQUE INDEX "work_leases_table_name_row_id" ON "work_leases" ("table_name", "row_id");
