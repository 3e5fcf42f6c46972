-- Schema version 13: command strategies and logged selections. An execution run by a
-- command strategy records the command's exit code, its time, the (size-bounded) diff it
-- made and whether it was allowed the network; an execution chosen by a selector records
-- which selector, the probability with which the chosen strategy was picked (1 for a
-- deterministic selector; every execution of a run without a selector has probability 1)
-- and the whole distribution, so selectors can be compared offline.
ALTER TABLE "task_executions" ADD COLUMN "command_exit" INTEGER;
ALTER TABLE "task_executions" ADD COLUMN "command_ms" REAL;
ALTER TABLE "task_executions" ADD COLUMN "command_diff" TEXT;
ALTER TABLE "task_executions" ADD COLUMN "command_network" INTEGER;
ALTER TABLE "task_executions" ADD COLUMN "selector" TEXT;
ALTER TABLE "task_executions" ADD COLUMN "propensity" REAL;
ALTER TABLE "task_executions" ADD COLUMN "probabilities" TEXT;
