"""Owners of running work, so a kill -9 leaves `interrupted` rows, never `running` ones.

Starting work that has a `running` status writes a lease in the same transaction: the host,
the pid and the process start time (the boot id plus the kernel's start tick, so a pid the
kernel hands to a new process is not mistaken for the old owner). Opening the store reaps:
a running row whose owner on this host is gone becomes `interrupted`. A lease from another
host (a shared PostgreSQL store) is left alone, because its process cannot be checked from
here; a pid alone would be wrong there. Leases of finished rows are dropped on the way.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
from collections.abc import Callable
from pathlib import Path

import peewee

from workbench.store import models as m

SCHEMA_VERSION = 8  # the migration that made work_leases
RUNNING = "running"
INTERRUPTED = "interrupted"
# Tables whose rows carry a running status, and their "finished at" column.
LEASED_TABLES: dict[str, type[peewee.Model]] = {
    "pipeline_runs": m.PipelineRun,
    "training_runs": m.TrainingRun,
    "curriculum_runs": m.CurriculumRun,
}


def host_name() -> str:
    return socket.gethostname()


def process_start(pid: int) -> str:
    """A token that differs between two processes that had the same pid ("" if unknown)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""
    # Field 22 (starttime) counted after the ")" that closes the command name.
    fields = stat[stat.rindex(")") + 2 :].split()
    return f"{boot}:{fields[19]}"


def owner_alive(pid: int, proc_start: str) -> bool:
    """Whether the process that wrote a lease on this host still runs."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    if not proc_start:
        return True
    now = process_start(pid)
    return now == "" or now == proc_start


def claim(table: str, row_id: int) -> None:
    """Record this process as the owner of a running row (call inside the creating
    transaction, so no kill can leave the row without its owner)."""
    if table not in LEASED_TABLES:
        raise ValueError(f"no running status to lease in table {table}")
    pid = os.getpid()
    with m.database_proxy.atomic():
        m.WorkLease.delete().where(
            (m.WorkLease.table_name == table) & (m.WorkLease.row_id == row_id)
        ).execute()
        m.WorkLease.create(
            table_name=table,
            row_id=row_id,
            host=host_name(),
            pid=pid,
            proc_start=process_start(pid),
            created=m.utcnow(),
        )


def reap(clock: Callable[[], dt.datetime] = m.utcnow) -> dict[str, list[int]]:
    """Mark running rows whose owner on this host is gone as interrupted; drop leases of
    finished rows. Returns {table: [row ids marked interrupted]}."""
    here = host_name()
    marked: dict[str, list[int]] = {}
    for lease in list(m.WorkLease.select()):
        model = LEASED_TABLES.get(lease.table_name)
        row = model.get_or_none(model.id == lease.row_id) if model else None
        if row is not None and row.status == RUNNING:
            if lease.host != here or owner_alive(lease.pid, lease.proc_start):
                continue
            with m.database_proxy.atomic():
                updated = (
                    model.update(status=INTERRUPTED, finished=clock())
                    .where((model.id == row.id) & (model.status == RUNNING))
                    .execute()
                )
                if updated and model is m.TrainingRun:
                    # The half-trained version can be resumed (`neural train --resume`).
                    m.NeuralModel.update(status=INTERRUPTED).where(
                        (m.NeuralModel.training_run == row.id)
                        & (m.NeuralModel.status == "training")
                    ).execute()
                m.WorkLease.delete().where(m.WorkLease.id == lease.id).execute()
            if updated:
                marked.setdefault(lease.table_name, []).append(row.id)
            continue
        m.WorkLease.delete().where(m.WorkLease.id == lease.id).execute()
    return marked
