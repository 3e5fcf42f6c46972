-- Schema version 6: patterns and continuous learning. Pattern memory and learnings get a
-- stable key (one row per operation / per learned statement) and outcome counts; the
-- experience buffer says which model an entry trains, where it came from, its training
-- label and the corrected target a curriculum run produced; curriculum runs say which
-- model they corrected for and what happened to each entry.
ALTER TABLE "pattern_memory" ADD COLUMN "key" TEXT;
ALTER TABLE "pattern_memory" ADD COLUMN "successes" INTEGER NOT NULL DEFAULT 0;
ALTER TABLE "pattern_memory" ADD COLUMN "failures" INTEGER NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX "pattern_memory_key" ON "pattern_memory" ("key");
ALTER TABLE "learnings" ADD COLUMN "key" TEXT;
ALTER TABLE "learnings" ADD COLUMN "level" TEXT NOT NULL DEFAULT 'low';
CREATE UNIQUE INDEX "learnings_key" ON "learnings" ("key");
ALTER TABLE "experience_buffer" ADD COLUMN "target_model" TEXT NOT NULL DEFAULT '';
ALTER TABLE "experience_buffer" ADD COLUMN "source_ref" TEXT;
ALTER TABLE "experience_buffer" ADD COLUMN "label" TEXT;
ALTER TABLE "experience_buffer" ADD COLUMN "corrected" TEXT;
ALTER TABLE "experience_buffer" ADD COLUMN "curriculum_run_id" INTEGER;
ALTER TABLE "experience_buffer" ADD COLUMN "training_run_id" INTEGER;
CREATE UNIQUE INDEX "experience_buffer_source_ref" ON "experience_buffer" ("source_ref");
CREATE INDEX "experience_buffer_target_model_trained" ON "experience_buffer" ("target_model", "trained");
ALTER TABLE "curriculum_runs" ADD COLUMN "target_model" TEXT NOT NULL DEFAULT '';
ALTER TABLE "curriculum_runs" ADD COLUMN "details" TEXT NOT NULL DEFAULT '{}';
