"""`workbench doctor`: what this installation can do and how it is set up (isolation, store).

Exit status 1 when a check is in error (for example WORKBENCH_ISOLATION names a mode that
cannot work here), else 0; warnings (limits-only isolation) do not fail it."""

from __future__ import annotations

import argparse

from workbench.cli.common import add_db, open_engine, print_json

NAME = "doctor"
MARKS = {"ok": "ok", "warn": "WARN", "error": "ERROR", "info": "--"}


def add(commands) -> None:
    p = commands.add_parser(
        "doctor", help="check the setup: sandbox isolation in use and why, store"
    )
    add_db(p)
    p.add_argument("--json", action="store_true", help="machine-readable output")


def run(args: argparse.Namespace) -> int:
    with open_engine(args) as engine, engine.guard():
        rows = engine.doctor()
    failed = 1 if any(r["status"] == "error" for r in rows) else 0
    if args.json:
        print_json({"checks": rows})
        return failed
    width = max(len(r["label"]) for r in rows)
    for r in rows:
        line = f"{MARKS[r['status']]:>5}  {r['label']:<{width}}  {r['value']}"
        print(f"{line}  ({r['detail']})" if r["detail"] else line)
    return failed
