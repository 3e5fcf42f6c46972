-- Schema version 15: a persisted inverted-file (IVF) index for vector memory, so a new
-- process searches a large namespace without reading every code. `vector_ivf` holds one
-- index per (namespace, embedder, dim): the k-means centroids (float32 BLOB) with a
-- checksum over them and the parameters, the nprobe chosen for recall@10 and the recall
-- measured at training, and what the index was current with: the change_log cursor, its
-- member count, and the namespace's row count and max id. `vector_ivf_members` assigns
-- each indexed vector_memory row to its list; the codes themselves stay in vector_memory.
-- Derived data: it has no change triggers and is rebuilt when it does not match the store.
CREATE TABLE "vector_ivf" ("id" INTEGER NOT NULL PRIMARY KEY, "namespace" TEXT NOT NULL, "embedder" TEXT NOT NULL, "dim" INTEGER NOT NULL, "nlist" INTEGER NOT NULL, "nprobe" INTEGER NOT NULL, "recall" REAL NOT NULL, "trained_rows" INTEGER NOT NULL, "inertia" REAL NOT NULL, "added_rows" INTEGER NOT NULL, "added_dist" REAL NOT NULL, "rows" INTEGER NOT NULL, "store_rows" INTEGER NOT NULL, "max_id" INTEGER NOT NULL, "cursor" INTEGER NOT NULL, "centroids" BLOB NOT NULL, "checksum" TEXT NOT NULL, "built" DATETIME NOT NULL, "updated" DATETIME NOT NULL);
CREATE UNIQUE INDEX "vector_ivf_namespace_embedder_dim" ON "vector_ivf" ("namespace", "embedder", "dim");
CREATE TABLE "vector_ivf_members" ("row_id" INTEGER NOT NULL PRIMARY KEY, "ivf_id" INTEGER NOT NULL, "list_no" INTEGER NOT NULL);
CREATE INDEX "vector_ivf_members_ivf_id_list_no" ON "vector_ivf_members" ("ivf_id", "list_no");
