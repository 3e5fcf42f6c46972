-- Schema version 4: the pipeline records the curriculum level of each execution and trend
-- point, and keeps pass/fail counts per strategy for the Thompson-sampling bandit.
ALTER TABLE "task_executions" ADD COLUMN "level" TEXT;
ALTER TABLE "strategy_trend" ADD COLUMN "level" TEXT;
ALTER TABLE "strategy_profiles" ADD COLUMN "passes" INTEGER NOT NULL DEFAULT 0;
ALTER TABLE "strategy_profiles" ADD COLUMN "failures" INTEGER NOT NULL DEFAULT 0;
CREATE INDEX "task_executions_run_id_iteration" ON "task_executions" ("run_id", "iteration");
