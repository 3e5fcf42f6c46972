-- Schema version 9: real agent sessions brought in by hooks, transcript import and neutral
-- events: the session (with its derived outcome), every event in order, tool calls paired
-- pre/post with durations, the advice injected into a session, and recording problems
-- (a hook never fails its agent, so they are kept here to be shown).
CREATE TABLE "agent_sessions" ("id" INTEGER NOT NULL PRIMARY KEY, "external_id" TEXT NOT NULL, "source" TEXT NOT NULL, "agent" TEXT NOT NULL, "cwd" TEXT, "transcript_path" TEXT, "model" TEXT, "status" TEXT NOT NULL, "outcome" TEXT, "outcome_detail" TEXT NOT NULL, "prompts" INTEGER NOT NULL, "tool_calls" INTEGER NOT NULL, "tool_failures" INTEGER NOT NULL, "redactions" INTEGER NOT NULL, "meta" TEXT NOT NULL, "started" DATETIME NOT NULL, "last_event" DATETIME NOT NULL, "ended" DATETIME);
CREATE UNIQUE INDEX "agent_sessions_external_id" ON "agent_sessions" ("external_id");
CREATE INDEX "agent_sessions_last_event" ON "agent_sessions" ("last_event");
CREATE TABLE "agent_events" ("id" INTEGER NOT NULL PRIMARY KEY, "session_id" INTEGER NOT NULL, "seq" INTEGER NOT NULL, "kind" TEXT NOT NULL, "at" DATETIME NOT NULL, "source_key" TEXT, "text" TEXT, "payload" TEXT NOT NULL, FOREIGN KEY ("session_id") REFERENCES "agent_sessions" ("id") ON DELETE CASCADE);
CREATE INDEX "agent_events_session_id" ON "agent_events" ("session_id");
CREATE INDEX "agent_events_session_id_seq" ON "agent_events" ("session_id", "seq");
CREATE UNIQUE INDEX "agent_events_session_id_source_key" ON "agent_events" ("session_id", "source_key");
CREATE TABLE "agent_tool_calls" ("id" INTEGER NOT NULL PRIMARY KEY, "session_id" INTEGER NOT NULL, "tool_use_id" TEXT, "tool_name" TEXT NOT NULL, "input" TEXT NOT NULL, "response" TEXT, "status" TEXT NOT NULL, "error" TEXT, "started" DATETIME, "ended" DATETIME, "duration_ms" REAL, FOREIGN KEY ("session_id") REFERENCES "agent_sessions" ("id") ON DELETE CASCADE);
CREATE INDEX "agent_tool_calls_session_id" ON "agent_tool_calls" ("session_id");
CREATE UNIQUE INDEX "agent_tool_calls_session_id_tool_use_id" ON "agent_tool_calls" ("session_id", "tool_use_id");
CREATE INDEX "agent_tool_calls_tool_name" ON "agent_tool_calls" ("tool_name");
CREATE TABLE "agent_advice" ("id" INTEGER NOT NULL PRIMARY KEY, "session_id" INTEGER NOT NULL, "event" TEXT NOT NULL, "at" DATETIME NOT NULL, "items" TEXT NOT NULL, "text" TEXT NOT NULL, "applied" INTEGER NOT NULL, FOREIGN KEY ("session_id") REFERENCES "agent_sessions" ("id") ON DELETE CASCADE);
CREATE INDEX "agent_advice_session_id" ON "agent_advice" ("session_id");
CREATE TABLE "agent_errors" ("id" INTEGER NOT NULL PRIMARY KEY, "at" DATETIME NOT NULL, "source" TEXT NOT NULL, "session_external_id" TEXT, "message" TEXT NOT NULL, "detail" TEXT);
