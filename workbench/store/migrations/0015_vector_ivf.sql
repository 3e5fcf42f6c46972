-- Schema version 15: a persisted inverted-file (IVF) index for vector memory, so a new
-- process searches a large namespace without reading every code. `vector_ivf` holds one
-- index per (namespace, embedder, dim): the k-means centroids (float32 BLOB) with a
-- checksum over them and the parameters, the nprobe chosen on held-out stored rows for
-- recall@10 and the recall measured there, and what the index is current with: the
-- change_log cursor, its row count and the namespace's max id. `vector_ivf_lists` holds
-- each list as ONE row: its row ids (int64), scales (float32) and int8 codes as blobs,
-- so a new process reads the lists it probes in one query and writers append to a list
-- in place. Derived data: no change triggers; rebuilt when it does not match the store.
CREATE TABLE "vector_ivf" ("id" INTEGER NOT NULL PRIMARY KEY, "namespace" TEXT NOT NULL, "embedder" TEXT NOT NULL, "dim" INTEGER NOT NULL, "nlist" INTEGER NOT NULL, "nprobe" INTEGER NOT NULL, "recall" REAL NOT NULL, "trained_rows" INTEGER NOT NULL, "inertia" REAL NOT NULL, "added_rows" INTEGER NOT NULL, "added_dist" REAL NOT NULL, "rows" INTEGER NOT NULL, "max_id" INTEGER NOT NULL, "cursor" INTEGER NOT NULL, "centroids" BLOB NOT NULL, "checksum" TEXT NOT NULL, "built" DATETIME NOT NULL, "updated" DATETIME NOT NULL);
CREATE UNIQUE INDEX "vector_ivf_namespace_embedder_dim" ON "vector_ivf" ("namespace", "embedder", "dim");
CREATE TABLE "vector_ivf_lists" ("id" INTEGER NOT NULL PRIMARY KEY, "ivf_id" INTEGER NOT NULL, "list_no" INTEGER NOT NULL, "n" INTEGER NOT NULL, "ids" BLOB NOT NULL, "scales" BLOB NOT NULL, "codes" BLOB NOT NULL);
CREATE UNIQUE INDEX "vector_ivf_lists_ivf_id_list_no" ON "vector_ivf_lists" ("ivf_id", "list_no");
-- The rows an IVF index covers (count and max id per namespace, embedder, dim), read by a
-- new process before it trusts the index: answered from this index, not the table.
CREATE INDEX "vector_memory_namespace_embedder_dim" ON "vector_memory" ("namespace", "embedder", "dim");
