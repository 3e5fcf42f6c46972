-- Schema version 7: per-agent hub records (deliveries of shared items to subscribers, one
-- useful vote per agent, every application with its outcome), the last use of an item for
-- pruning, and the adaptive-strategy and performance-optimizer history.
ALTER TABLE "knowledge_items" ADD COLUMN "last_used" DATETIME;
CREATE INDEX "knowledge_items_state" ON "knowledge_items" ("state");
CREATE TABLE "knowledge_deliveries" ("id" INTEGER NOT NULL PRIMARY KEY, "item_id" INTEGER NOT NULL, "agent" TEXT NOT NULL, "delivered" DATETIME NOT NULL, "acknowledged" DATETIME, FOREIGN KEY ("item_id") REFERENCES "knowledge_items" ("id") ON DELETE CASCADE);
CREATE INDEX "knowledge_deliveries_item_id" ON "knowledge_deliveries" ("item_id");
CREATE UNIQUE INDEX "knowledge_deliveries_item_id_agent" ON "knowledge_deliveries" ("item_id", "agent");
CREATE INDEX "knowledge_deliveries_agent_acknowledged" ON "knowledge_deliveries" ("agent", "acknowledged");
CREATE TABLE "knowledge_votes" ("id" INTEGER NOT NULL PRIMARY KEY, "item_id" INTEGER NOT NULL, "agent" TEXT NOT NULL, "created" DATETIME NOT NULL, FOREIGN KEY ("item_id") REFERENCES "knowledge_items" ("id") ON DELETE CASCADE);
CREATE INDEX "knowledge_votes_item_id" ON "knowledge_votes" ("item_id");
CREATE UNIQUE INDEX "knowledge_votes_item_id_agent" ON "knowledge_votes" ("item_id", "agent");
CREATE TABLE "knowledge_applications" ("id" INTEGER NOT NULL PRIMARY KEY, "item_id" INTEGER NOT NULL, "agent" TEXT NOT NULL, "success" INTEGER, "created" DATETIME NOT NULL, FOREIGN KEY ("item_id") REFERENCES "knowledge_items" ("id") ON DELETE CASCADE);
CREATE INDEX "knowledge_applications_item_id" ON "knowledge_applications" ("item_id");
CREATE TABLE "adaptive_decisions" ("id" INTEGER NOT NULL PRIMARY KEY, "uid" TEXT NOT NULL, "description" TEXT NOT NULL, "complexity" TEXT NOT NULL, "strategy" TEXT NOT NULL, "agents" TEXT NOT NULL, "confidence" REAL NOT NULL, "estimated_s" REAL, "analysis" TEXT NOT NULL, "created" DATETIME NOT NULL);
CREATE UNIQUE INDEX "adaptive_decisions_uid" ON "adaptive_decisions" ("uid");
CREATE TABLE "adaptive_outcomes" ("id" INTEGER NOT NULL PRIMARY KEY, "decision_id" INTEGER, "description" TEXT NOT NULL, "complexity" TEXT NOT NULL, "strategy" TEXT NOT NULL, "agents" TEXT NOT NULL, "success" INTEGER NOT NULL, "duration_s" REAL NOT NULL, "iterations" INTEGER NOT NULL, "errors" INTEGER NOT NULL, "what_worked" TEXT NOT NULL, "improvements" TEXT NOT NULL, "created" DATETIME NOT NULL, FOREIGN KEY ("decision_id") REFERENCES "adaptive_decisions" ("id") ON DELETE SET NULL);
CREATE INDEX "adaptive_outcomes_decision_id" ON "adaptive_outcomes" ("decision_id");
CREATE INDEX "adaptive_outcomes_strategy_complexity" ON "adaptive_outcomes" ("strategy", "complexity");
CREATE TABLE "agent_executions" ("id" INTEGER NOT NULL PRIMARY KEY, "agent" TEXT NOT NULL, "category" TEXT NOT NULL, "duration_s" REAL NOT NULL, "iterations" INTEGER NOT NULL, "success" INTEGER NOT NULL, "errors" INTEGER NOT NULL, "actions" INTEGER NOT NULL, "source" TEXT NOT NULL, "created" DATETIME NOT NULL);
CREATE INDEX "agent_executions_agent_category" ON "agent_executions" ("agent", "category");
