"""Owner records of running work: the reaper marks dead owners' rows interrupted and never
touches a live process's work, another host's work or a finished row."""

from __future__ import annotations

import json
import subprocess
import sys

from workbench.engine import Engine
from workbench.store import leases
from workbench.store import models as m


def running_pipeline_run() -> m.PipelineRun:
    return m.PipelineRun.create(status="running", strategies=json.dumps(["a"]))


def lease_for(run: m.PipelineRun, **owner: object) -> None:
    leases.claim("pipeline_runs", run.id)
    if owner:
        m.WorkLease.update(**owner).where(m.WorkLease.row_id == run.id).execute()


def status(run: m.PipelineRun) -> str:
    return m.PipelineRun.get_by_id(run.id).status


def test_a_live_owner_keeps_its_work_running_and_a_dead_one_is_marked_interrupted(engine):
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        run = running_pipeline_run()
        start = leases.process_start(sleeper.pid)
        lease_for(run, pid=sleeper.pid, proc_start=start)
        assert leases.reap() == {}
        assert status(run) == "running"
    finally:
        sleeper.kill()
        sleeper.wait()
    assert leases.reap() == {"pipeline_runs": [run.id]}
    row = m.PipelineRun.get_by_id(run.id)
    assert row.status == "interrupted" and row.finished is not None
    assert not m.WorkLease.select().exists()


def test_this_process_work_is_never_reaped(engine):
    run = running_pipeline_run()
    lease_for(run)
    assert leases.reap() == {} and status(run) == "running"


def test_a_reused_pid_is_not_taken_for_the_owner(engine):
    """Same pid, another process start: the owner is gone."""
    run = running_pipeline_run()
    lease_for(run, proc_start="another-boot:1")
    assert leases.reap() == {"pipeline_runs": [run.id]}
    assert status(run) == "interrupted"


def test_work_owned_on_another_host_is_left_alone(engine):
    run = running_pipeline_run()
    lease_for(run, host="some-other-host", pid=999_999_999)
    assert leases.reap() == {} and status(run) == "running"
    assert m.WorkLease.select().count() == 1


def test_leases_of_finished_rows_are_dropped_without_touching_them(engine):
    run = running_pipeline_run()
    lease_for(run, pid=999_999_999)
    m.PipelineRun.update(status="completed").where(m.PipelineRun.id == run.id).execute()
    assert leases.reap() == {}
    assert status(run) == "completed" and not m.WorkLease.select().exists()


def test_opening_the_store_reaps_and_a_killed_training_can_be_resumed(tmp_path):
    """Engine open is the 'next command': a dead trainer's run and version become
    interrupted (the version is what `neural train --resume` looks for)."""
    db = tmp_path / "s.db"
    with Engine(db):
        run = m.TrainingRun.create(model_name="net", model_version=1, status="running")
        m.NeuralModel.create(
            name="net", version=1, architecture="{}", status="training", training_run=run
        )
        leases.claim("training_runs", run.id)
        m.WorkLease.update(pid=999_999_999).execute()
    with Engine(db) as engine:
        assert engine.interrupted == {"training_runs": [run.id]}
        assert m.TrainingRun.get_by_id(run.id).status == "interrupted"
        assert m.NeuralModel.get(m.NeuralModel.name == "net").status == "interrupted"


def test_only_tables_with_a_running_status_take_leases(engine):
    try:
        leases.claim("memory_events", 1)
    except ValueError as exc:
        assert "memory_events" in str(exc)
    else:
        raise AssertionError("a lease on a table without a running status was accepted")
