-- Schema version 14: each task execution records the isolation it ran under (bwrap,
-- unshare or limits; NULL for executions recorded before this version).
ALTER TABLE "task_executions" ADD COLUMN "isolation" TEXT;
