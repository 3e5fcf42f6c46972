"""Kill -9 scenarios against the real CLI, shared by tests/faults and scripts/fault_suite.py.

Each scenario starts `python -m workbench ...` in its own process group, waits until the
work has committed something (or for a given delay), SIGKILLs the group, then reopens the
store the way the next command would and checks what a user must be able to trust: the file
passes `PRAGMA integrity_check`, every row read before the kill is still there, and work
that was running is marked interrupted. A scenario returns a dict: `checks` (name -> bool)
plus what it observed, so the script can tabulate many runs and a test can assert one.

Every scenario takes `store`: a function of a name giving a `Target` (a SQLite file in the
work dir by default, or a fresh PostgreSQL schema: tests/faults/test_kill.py runs each
scenario on both when WORKBENCH_TEST_PG is set). On PostgreSQL the kill hits the client only;
"integrity ok" there means every table of the schema reads back (the server's own crash
safety is PostgreSQL's), and the other contracts are checked exactly as on SQLite.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "sample_data"
POLL_S = 0.02


# -- plumbing ------------------------------------------------------------------------------


class Target:
    """Where a scenario's store lives: a SQLite file under `work`, or a PostgreSQL URL."""

    def __init__(self, work: Path, name: str, url: str | None = None) -> None:
        self.work, self.path, self.url = work, work / name, url

    @property
    def arg(self) -> str:
        """What `--db` (and `Engine`) get."""
        return self.url or str(self.path)

    @property
    def parent(self) -> Path:
        return self.work

    def query(self, sql: str, args: tuple = ()) -> list[tuple]:
        """Read outside the engine (no reaping on the side)."""
        if self.url is None:
            conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=30)
            try:
                return conn.execute(sql, args).fetchall()
            finally:
                conn.close()
        import psycopg2

        conn = psycopg2.connect(self.url)
        try:
            with conn.cursor() as cur:
                cur.execute(sql.replace("?", "%s"), args)
                return cur.fetchall()
        finally:
            conn.close()

    def integrity(self) -> str:
        if self.url is None:
            return str(self.query("PRAGMA integrity_check")[0][0])
        tables = self.query(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = "
            "current_schema() AND table_type = 'BASE TABLE'"
        )
        for (table,) in tables:
            self.query(f'SELECT COUNT(*) FROM "{table}"')
        return "ok" if tables else "no tables"


def sqlite_store(work: Path) -> Callable[[str], Target]:
    return lambda name: Target(work, name)


def cli(*args: str, db: Target, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run one CLI command to the end (the 'next command' after a kill)."""
    return subprocess.run(
        [sys.executable, "-m", "workbench", *args, "--db", db.arg],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=db.parent,
        env=_env(db),
    )


def start(*args: str, db: Target) -> subprocess.Popen:
    """Start a CLI command in its own process group (so the kill takes its sandboxes too)."""
    return subprocess.Popen(
        [sys.executable, "-m", "workbench", *args, "--db", db.arg],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd=db.parent,
        env=_env(db),
        start_new_session=True,
    )


def _env(db: Target) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("WORKBENCH_DB", None)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    temp = db.work / "tmp"  # sandbox dirs of the commands land here, to be counted
    temp.mkdir(exist_ok=True)
    env["TMPDIR"] = str(temp)
    return env


def kill9(proc: subprocess.Popen) -> bool:
    """SIGKILL the process group; True if the command was still running when killed."""
    alive = proc.poll() is None
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    if proc.stderr:
        proc.stderr.close()
    return alive


def query(db: Target, sql: str, args: tuple = ()) -> list[tuple]:
    return db.query(sql, args)


def scalar(db: Target, sql: str, args: tuple = ()) -> object:
    return query(db, sql, args)[0][0]


def integrity(db: Target) -> str:
    return db.integrity()


def wait_until(proc: subprocess.Popen, ready: Callable[[], bool], timeout: float = 120) -> float:
    """Poll until `ready()`; seconds waited. Fails if the command ended first."""
    began = time.monotonic()
    while not ready():
        if proc.poll() is not None:
            err = proc.stderr.read().decode() if proc.stderr else ""
            raise AssertionError(f"command ended (exit {proc.returncode}) before the kill: {err}")
        if time.monotonic() - began > timeout:
            kill9(proc)
            raise AssertionError("the command committed nothing in time")
        time.sleep(POLL_S)
    return time.monotonic() - began


def count_at_least(db: Target, table: str, n: int) -> Callable[[], bool]:
    def ready() -> bool:
        try:
            return int(scalar(db, f'SELECT COUNT(*) FROM "{table}"')) >= n
        except Exception:  # not created yet, or busy (sqlite3 / psycopg2 errors)
            return False

    return ready


def ids(db: Target, table: str) -> set[int]:
    return {r[0] for r in query(db, f'SELECT id FROM "{table}"')}


def sandbox_dirs(db: Target) -> int:
    return len(list((db.work / "tmp").glob("wb-sandbox-*")))


def result(name: str, checks: dict[str, bool], **seen: object) -> dict:
    return {"scenario": name, "ok": all(checks.values()), "checks": checks, **seen}


# -- scenarios -----------------------------------------------------------------------------


def pipeline_run(work: Path, executions: int = 3, store=None) -> dict:
    """Kill a pipeline run once `executions` task executions are committed. The sandbox
    dirs the kill left behind are swept by the next run."""
    db = (store or sqlite_store(work))("store.db")
    assert cli("init", db=db).returncode == 0
    proc = start("pipeline", "run", "--iterations", "50", "--workers", "1", db=db)
    wait_until(proc, count_at_least(db, "task_executions", executions))
    before = ids(db, "task_executions")
    run_ids = ids(db, "pipeline_runs")
    killed_running = kill9(proc)
    stuck = query(db, "SELECT id, status FROM pipeline_runs")
    after_open = cli("pipeline", "status", "--json", db=db)
    statuses = dict(query(db, "SELECT id, status FROM pipeline_runs"))
    after = ids(db, "task_executions")
    leases_left = scalar(db, "SELECT COUNT(*) FROM work_leases")
    left_by_kill = sandbox_dirs(db)
    one_task = str(SAMPLES / "tasks" / "binary_search")
    next_run = cli("pipeline", "run", "--tasks", one_task, "--strategies", "balanced", db=db)
    return result(
        "pipeline run",
        {
            "killed while running": killed_running,
            "left running by the kill": any(s == "running" for _, s in stuck),
            "next command ok": after_open.returncode == 0,
            "integrity ok": integrity(db) == "ok",
            "no committed row lost": before <= after and run_ids <= set(statuses),
            "marked interrupted": all(statuses[i] == "interrupted" for i in run_ids),
            "no lease left": leases_left == 0,
            "sandbox dirs left by the kill": left_by_kill >= 1,
            "next run sweeps them": next_run.returncode == 0 and sandbox_dirs(db) == 0,
        },
        committed_before_kill=len(before),
        sandbox_dirs_left=left_by_kill,
    )


TRAIN_SPEC = {
    "modelId": "fault-net",
    "architecture": {
        "type": "feedforward",
        "layers": [
            {"type": "input", "size": 32},
            {"type": "hidden", "size": 64, "activation": "relu"},
            {"type": "output", "size": 3, "activation": "softmax"},
        ],
    },
    "training": {
        "learning_rate": 0.01,
        "batch_size": 16,
        "epochs": 24,
        "optimizer": "adam",
        "validation_split": 0.2,
        "seed": 11,
        "checkpoint_every": 1,
    },
}


def training_files(work: Path, rows: int = 6000) -> tuple[Path, Path]:
    rng = np.random.default_rng(5)
    x = rng.normal(size=(rows, 32)).astype(np.float32)
    y = np.argmax(x[:, :3] + 0.3 * x[:, 3:6], axis=1).astype(np.int64)
    data = work / "train.npz"
    np.savez(data, X=x, y=y)
    spec = work / "fault-net.model.json"
    spec.write_text(json.dumps(TRAIN_SPEC))
    return spec, data


def _final_weights(db: Target, name: str) -> tuple[list[np.ndarray], dict]:
    from workbench.engine import Engine
    from workbench.neural.artifact import ModelArtifact
    from workbench.neural.registry import load_weights

    with Engine(db.arg):
        row, blob = load_weights(name)
        return ModelArtifact.from_bytes(blob).weights, {"version": row.version}


def training_run(work: Path, epochs_before_kill: int = 3, store=None) -> dict:
    """Kill a training after some epochs are committed; `--resume` must finish it with the
    weights an uninterrupted run gives."""
    spec, data = training_files(work)
    args = ("neural", "train", "--model", str(spec), "--data", str(data), "--backend", "numpy")
    store = store or sqlite_store(work)
    straight_db = store("straight.db")
    straight = cli(*args, "--json", db=straight_db)
    assert straight.returncode == 0, straight.stderr
    db = store("store.db")
    proc = start(*args, db=db)
    wait_until(proc, count_at_least(db, "training_history", epochs_before_kill))
    before = ids(db, "training_history")
    killed_running = kill9(proc)
    stuck = scalar(db, "SELECT status FROM training_runs")
    listing = cli("neural", "versions", "fault-net", "--json", db=db)
    run_status = scalar(db, "SELECT status FROM training_runs")
    model_status = scalar(db, "SELECT status FROM neural_models")
    integrity_after_kill = integrity(db)
    kept = before <= ids(db, "training_history")
    resumed = cli(*args, "--resume", "--json", db=db)
    epochs = [r[0] for r in query(db, "SELECT epoch FROM training_history ORDER BY epoch")]
    same = False
    if resumed.returncode == 0:
        a, _ = _final_weights(straight_db, "fault-net")
        b, _ = _final_weights(db, "fault-net")
        same = len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    return result(
        "training + --resume",
        {
            "killed while running": killed_running and stuck == "running",
            "next command ok": listing.returncode == 0,
            "integrity ok": integrity_after_kill == "ok" and integrity(db) == "ok",
            "no committed row lost": kept,
            "marked interrupted": run_status == model_status == "interrupted",
            "resume completes": resumed.returncode == 0
            and scalar(db, "SELECT status FROM training_runs") == "completed",
            "resumed weights == uninterrupted": same,
            "no duplicated epoch": epochs == sorted(set(epochs)),
        },
        committed_before_kill=len(before),
    )


def memory_import(
    work: Path, lines: int = 16_000, rows_before_kill: int = 2000, store=None
) -> dict:
    """Kill a bulk vector import after a batch is committed. Contract: every committed
    batch is kept intact, and importing the same file again stores each key once."""
    db = (store or sqlite_store(work))("store.db")
    source = work / "big.jsonl"
    with source.open("w", encoding="utf-8") as fh:
        for i in range(lines):
            text = f"entry {i} on topic {i % 97} with detail {i % 13}"
            fh.write(json.dumps({"namespace": "fault", "key": f"k{i}", "text": text}) + "\n")
    assert cli("store", "stats", db=db).returncode == 0
    proc = start("memory", "import", str(source), db=db)
    wait_until(proc, count_at_least(db, "vector_memory", rows_before_kill))
    before = dict(query(db, "SELECT id, key FROM vector_memory"))
    killed_running = kill9(proc)
    ok_after_kill = integrity(db) == "ok"
    after_kill = dict(query(db, "SELECT id, key FROM vector_memory"))
    again = cli("memory", "import", str(source), "--json", db=db)
    keys = [r[0] for r in query(db, "SELECT key FROM vector_memory")]
    return result(
        "memory import",
        {
            "killed while running": killed_running and len(before) < lines,
            "integrity ok": ok_after_kill and integrity(db) == "ok",
            "no committed row lost": all(after_kill.get(i) == k for i, k in before.items()),
            "re-import completes": again.returncode == 0,
            "no duplicate keys": len(keys) == len(set(keys)) == lines,
        },
        committed_before_kill=len(before),
    )


def hub_document(exported: Path, items: int) -> dict:
    """A valid knowledge file of `items` new items, made from a real export."""
    doc = json.loads(exported.read_text())
    template = doc["items"][0]
    doc["items"] = []
    for i in range(items):
        item = json.loads(json.dumps(template))
        item["id"] = f"fault-{i:06d}"
        item["title"] = f"fault item {i}"
        item["content"] = f"content of fault item {i} " * 4
        for version in item["versions"]:
            version["title"], version["content"] = item["title"], item["content"]
        doc["items"].append(item)
    return doc


def timed(*args: str, db: Target) -> float:
    began = time.monotonic()
    done = cli(*args, db=db)
    assert done.returncode == 0, done.stderr
    return time.monotonic() - began


def hub_import(work: Path, fraction: float = 0.75, items: int = 800, store=None) -> dict:
    """Kill a hub import at `fraction` of the time a full import takes. Contract: validated
    first, then one transaction, so either every item is in the store or none is."""
    store = store or sqlite_store(work)
    db = store("store.db")
    assert cli("init", db=db).returncode == 0
    exported = work / "export.json"
    assert cli("hub", "export", str(exported), db=db).returncode == 0
    source = work / "knowledge.json"
    source.write_text(json.dumps(hub_document(exported, items)))
    reference = store("reference.db")  # the same seeded store, to time a full import
    assert cli("init", db=reference).returncode == 0
    full_s = timed("hub", "import", str(source), db=reference)
    before = ids(db, "knowledge_items")
    proc = start("hub", "import", str(source), db=db)
    time.sleep(full_s * fraction)
    killed_running = kill9(proc)
    after = ids(db, "knowledge_items")
    added = len(after - before)
    return result(
        "hub import",
        {
            "integrity ok": integrity(db) == "ok",
            "no committed row lost": before <= after,
            "all or nothing": added in (0, items),
        },
        killed_while_running=killed_running,
        outcome="none committed" if added == 0 else "all committed",
        full_import_s=round(full_s, 2),
    )


def seed_episodes(db: Target, count: int) -> None:
    """Many episodes with repeated contexts, so consolidation has real work to do."""
    from workbench.engine import Engine
    from workbench.store import models as m

    kinds = ("deploy", "review", "test", "refactor")
    with Engine(db.arg) as engine, engine.db.atomic():
        now = m.utcnow()
        rows = [
            {
                "session": f"s{i % 40}",
                "sequence": i,
                "kind": kinds[i % 4],
                "context": json.dumps({"lang": f"l{i % 5}", "team": f"t{i % 7}", "n": i % 11}),
                "outcome": "success" if (i % 5) < 3 else "failure",
                "created": now,
            }
            for i in range(count)
        ]
        for start_at in range(0, count, 500):
            m.EpisodicMemory.insert_many(rows[start_at : start_at + 500]).execute()


def consolidation(work: Path, fraction: float = 0.6, episodes: int = 60_000, store=None) -> dict:
    """Kill a consolidation at `fraction` of the time a full one takes. Contract: one
    transaction, so the tiers are either untouched or fully consolidated (with its
    memory_events row)."""
    store = store or sqlite_store(work)
    db = store("store.db")
    assert cli("store", "stats", db=db).returncode == 0
    seed_episodes(db, episodes)
    reference = store("reference.db")  # the same episodes, to time a full consolidation
    assert cli("store", "stats", db=reference).returncode == 0
    seed_episodes(reference, episodes)
    full_s = timed("memory", "consolidate", db=reference)

    def snapshot() -> tuple:
        return (
            scalar(db, "SELECT COUNT(*) FROM episodic_memory"),
            scalar(db, "SELECT COUNT(*) FROM semantic_memory"),
            scalar(db, "SELECT COUNT(*) FROM memory_events WHERE action = 'consolidate'"),
        )

    before = snapshot()
    episode_ids = ids(db, "episodic_memory")
    proc = start("memory", "consolidate", db=db)
    time.sleep(full_s * fraction)
    killed_running = kill9(proc)
    after = snapshot()
    untouched = after == before and ids(db, "episodic_memory") == episode_ids
    return result(
        "consolidation",
        {
            "integrity ok": integrity(db) == "ok",
            "all or nothing": untouched or after[2] == before[2] + 1,
        },
        killed_while_running=killed_running,
        outcome="none committed" if untouched else "all committed",
        full_consolidation_s=round(full_s, 2),
    )


SCENARIOS: dict[str, Callable[..., dict]] = {
    "pipeline": pipeline_run,
    "training": training_run,
    "memory-import": memory_import,
    "hub-import": hub_import,
    "consolidation": consolidation,
}


WRITER = """
import sys
from workbench.engine import Engine
db, who, rows = sys.argv[1], sys.argv[2], int(sys.argv[3])
with Engine(db) as engine:
    for i in range(rows):
        engine.memory.store("vector", f"{who} note {i}", namespace=who, key=f"{who}-{i}")
print("done")
"""


def two_writers(work: Path, rows: int = 1000, store=None) -> dict:
    """Two processes each store `rows` memory entries at once through
    the engine; none may be lost and neither may fail on the other's lock."""
    db = (store or sqlite_store(work))("store.db")
    assert cli("store", "stats", db=db).returncode == 0
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, db.arg, who, str(rows)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=_env(db),
        )
        for who in ("alpha", "beta")
    ]
    outputs = [p.communicate(timeout=600) for p in procs]
    counts = dict(query(db, "SELECT namespace, COUNT(*) FROM vector_memory GROUP BY namespace"))
    return result(
        "two writers",
        {
            "both finished": all(p.returncode == 0 for p in procs),
            "no row lost": counts.get("alpha") == counts.get("beta") == rows,
            "integrity ok": integrity(db) == "ok",
        },
        errors=[err.strip().splitlines()[-1] for _out, err in outputs if err.strip()],
        rows=counts,
    )


SCENARIOS["two-writers"] = two_writers
