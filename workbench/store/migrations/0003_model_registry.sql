-- Schema version 3: the model registry links versions to their training runs, carries
-- tags, and keeps movable aliases (NAME@champion) per model name.
ALTER TABLE "neural_models" ADD COLUMN "tags" TEXT NOT NULL DEFAULT '[]';
ALTER TABLE "neural_models" ADD COLUMN "training_run_id" INTEGER REFERENCES "training_runs" ("id") ON DELETE SET NULL;
CREATE INDEX "neural_models_training_run_id" ON "neural_models" ("training_run_id");
CREATE TABLE "model_aliases" ("id" INTEGER NOT NULL PRIMARY KEY, "name" TEXT NOT NULL, "alias" TEXT NOT NULL, "model_id" INTEGER NOT NULL, "updated" DATETIME NOT NULL, FOREIGN KEY ("model_id") REFERENCES "neural_models" ("id") ON DELETE CASCADE);
CREATE UNIQUE INDEX "model_aliases_name_alias" ON "model_aliases" ("name", "alias");
CREATE INDEX "model_aliases_model_id" ON "model_aliases" ("model_id");
