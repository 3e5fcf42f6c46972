"""The training process of continuous learning: `python -m workbench.patterns.trainer REQ`.

It opens the store named by WORKBENCH_DB (set by the parent: a SQLite path or a
PostgreSQL URL, kept out of files), reads the request file (JSON written by
`ContinuousLearning.trigger`), trains the requested model on the batch through the neural
package (a new registry version, history streamed per epoch; warm-started from the
champion unless the mode is `fresh`) and writes the result file atomically. It never moves
an alias: deploying is the parent's decision, taken after the quality gates. Killed
half-way, it leaves a version in `training` that the parent marks `interrupted`.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from workbench.fsutil import atomic_write


def read_jsonl(path: Path) -> list[dict]:
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            row = json.loads(line)
            if not isinstance(row, dict):
                raise ValueError(f"{path.name}:{n}: expected a JSON object")
            rows.append(row)
    return rows


def train_from_request(request: dict) -> dict:
    from workbench.neural.service import NeuralService
    from workbench.store.db import open_database

    target = os.environ.get("WORKBENCH_DB")
    if not target:
        raise ValueError("WORKBENCH_DB names no store for the trainer")
    db, _applied = open_database(target, int(request["busy_timeout_ms"]))
    try:
        batch = [
            {k: v for k, v in r.items() if k not in ("origin", "entry")}
            for r in read_jsonl(Path(request["batch"]))
        ]
        held_out = read_jsonl(Path(request["held_out"]))
        out_dir = Path(request["batch"]).parent
        data_path = out_dir / "training.json"
        with atomic_write(data_path, "w", encoding="utf-8") as fh:
            json.dump({"trainingData": batch, "validationData": held_out}, fh)
        service = NeuralService(Path(request["checkpoint_root"]), backend=request["backend"])
        summary = service.train(
            request["spec"],
            data_path,
            name=request["model"],
            init_from=request.get("init_from"),
            description=request.get("description", ""),
            tags=["continuous"],
        )
        return summary
    finally:
        db.close()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m workbench.patterns.trainer REQUEST.json", file=sys.stderr)
        return 2
    request_path = Path(args[0])
    request = json.loads(request_path.read_text(encoding="utf-8"))
    result_path = Path(request["result"])
    try:
        result = train_from_request(request)
        code = 0
    except Exception as exc:  # reported in the result file; the parent decides
        result = {"status": "failed", "error": f"{type(exc).__name__}: {exc}"}
        code = 1
    with atomic_write(result_path, "w", encoding="utf-8") as fh:
        json.dump(result, fh, indent=1, sort_keys=True, default=str)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
