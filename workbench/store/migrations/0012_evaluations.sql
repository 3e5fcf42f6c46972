-- Schema version 12: stored evaluations. One row per (model version, data file hash, label
-- column): `neural evaluate` writes it, the Models pane and side-by-side comparisons read
-- it, so a shown evaluation is never recomputed. `result` holds every figure as JSON;
-- `accuracy` and `evaluated` are copied out for listing.
CREATE TABLE "evaluations" ("id" INTEGER NOT NULL PRIMARY KEY, "model_id" INTEGER NOT NULL, "data_hash" TEXT NOT NULL, "data_name" TEXT NOT NULL, "label_column" TEXT NOT NULL, "objective" TEXT NOT NULL, "rows" INTEGER NOT NULL, "evaluated" INTEGER NOT NULL, "accuracy" REAL, "result" TEXT NOT NULL, "backend" TEXT NOT NULL, "created" DATETIME NOT NULL, FOREIGN KEY ("model_id") REFERENCES "neural_models" ("id") ON DELETE CASCADE);
CREATE UNIQUE INDEX "evaluations_model_id_data_hash_label_column" ON "evaluations" ("model_id", "data_hash", "label_column");
CREATE INDEX "evaluations_data_hash" ON "evaluations" ("data_hash");
-- A fact stored without a confidence keeps the tier's default as a ranking prior, marked
-- not given, so no view presents the default as a measured confidence.
ALTER TABLE "semantic_memory" ADD COLUMN "confidence_given" INTEGER NOT NULL DEFAULT 1;
