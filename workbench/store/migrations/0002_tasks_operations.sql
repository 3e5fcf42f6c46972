-- Schema version 2: the task bank and the labelled cognitive-pattern operations.
CREATE TABLE "tasks" ("id" INTEGER NOT NULL PRIMARY KEY, "name" TEXT NOT NULL, "kind" TEXT NOT NULL, "complexity" TEXT NOT NULL, "description" TEXT NOT NULL, "path" TEXT NOT NULL, "created" DATETIME NOT NULL);
CREATE UNIQUE INDEX "tasks_name" ON "tasks" ("name");
CREATE TABLE "labelled_operations" ("id" INTEGER NOT NULL PRIMARY KEY, "text" TEXT NOT NULL, "pattern" TEXT NOT NULL, "source" TEXT NOT NULL, "created" DATETIME NOT NULL);
CREATE UNIQUE INDEX "labelled_operations_text" ON "labelled_operations" ("text");
