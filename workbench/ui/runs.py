"""Runs: pipeline runs newest first; the selected run's iterations, executions and logs;
launch (`t`) and cancel (`x`) a run.

The run itself happens in one thread worker that only posts messages; the pane redraws
from the store, so a run started in another terminal shows up through the change feed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import DataTable, Label, ProgressBar, Static
from textual.worker import Worker, WorkerState

from workbench.pipeline.isolation import describe as describe_isolation
from workbench.store.errors import StoreError
from workbench.ui.pane import Pane
from workbench.ui.safe import plain
from workbench.ui.widgets.fill_table import FillTable
from workbench.ui.widgets.run_picker import RunPicker, run_mode

RUN_TABLES = {"pipeline_runs", "task_executions"}
ENGINE_ERRORS = (StoreError, ValueError, OSError)
LOG_LINES = 12


def iteration_lines(run: dict, executions: list[dict]) -> list[Text]:
    """Per iteration: level, executions passed/total and the mean score (from the rows)."""
    by_iter: dict[int, list[dict]] = {}
    for e in executions:
        by_iter.setdefault(e["iteration"], []).append(e)
    lines = []
    for i in range(1, int(run.get("iterations") or 0) + 1):
        rows = by_iter.get(i)
        if not rows:
            lines.append(Text(f"iteration {i} · waiting", style="dim"))
            continue
        passed = sum(1 for r in rows if r["status"] == "passed")
        level = rows[0].get("level") or "all levels"
        mean = sum(r["score"] or 0 for r in rows) / len(rows)
        lines.append(
            Text.assemble(
                (f"iteration {i}", "bold"),
                f" · {level} · {passed}/{len(rows)} passed · mean score {mean:.1f}",
            )
        )
    return lines


def run_progress(run: dict, executions: list[dict]) -> dict | None:
    """The pipeline's progress figures for a run (`pipeline.service`, imported on first use:
    the pipeline service is not needed for the first frame; the first read's worker loads
    it)."""
    from workbench.pipeline.service import run_progress as progress

    return progress(run, executions)


def command_line(e: dict) -> Text:
    """A command strategy's step: exit code, time, network, what its diff touched."""
    from workbench.pipeline.commands import diff_stat  # loaded by the first read's worker

    code = e.get("command_exit")
    changed = diff_stat(e.get("command_diff"))
    touched = ", ".join(f"{name} +{a} −{r}" for name, a, r in changed[:3]) or "no changes"
    if len(changed) > 3:
        touched += f" and {len(changed) - 3} more"
    return Text.assemble(
        ("command · ", "bold"),
        (f"exit {code}" if code is not None else "no exit code", "green" if code == 0 else "red"),
        f" · {e['command_ms']:.0f} ms · network {'on' if e.get('command_network') else 'off'}",
        f" · diff: {touched}",
    )


class RunEvent(Message):
    """A pipeline event of the pane's own run (run/iteration started or finished)."""

    def __init__(self, event: dict) -> None:
        super().__init__()
        self.event = event


class RunProgress(RunEvent):
    """One finished execution; a flood collapses into the newest."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, RunProgress)


class RunsPane(Pane):
    TITLE = "Runs"
    TABLES = frozenset(RUN_TABLES)
    HELP = (
        "Pipeline runs, newest first (also those started with `workbench pipeline run` "
        "elsewhere, live). The right side shows the selected run: its iterations, a "
        "progress bar while it runs, its task executions and the selected execution's log.\n\n"
        "| key | action |\n|---|---|\n"
        "| `t` | launch a run (complexity, curriculum, iterations, strategies, priorities, "
        "tasks dir) |\n"
        "| `x` | cancel the running run (sandboxes killed, run marked cancelled) |\n"
        "| `/` | filter the runs (id, status, mode, strategy, tasks dir); Esc clears |\n"
        "| `space` | mark a run; marked runs are compared (`c`) and overlaid in Trends |\n"
        "| `c` | compare the marked runs side by side |\n"
        "| `enter` | drill into the run (full width); Esc returns to the list |\n"
        "| `tab` | move between the runs list and the executions table |"
    )
    BINDINGS = [
        Binding("t", "launch", "Launch run", id="runs.launch"),
        Binding("x", "cancel_run", "Cancel run", id="runs.cancel"),
        Binding("c", "compare", "Compare", id="runs.compare"),
        Binding("escape", "back", "Back", id="runs.back"),
    ]
    DEFAULT_CSS = """
    RunsPane #runs-list { width: 61; border-right: solid $panel; }
    RunsPane #runs-list > DataTable { height: 1fr; }
    RunsPane.drilled #runs-list { display: none; }
    RunsPane #run-detail { width: 1fr; }
    RunsPane #run-info { height: auto; max-height: 8; padding: 0 1; }
    RunsPane #run-progress-row { height: 1; padding: 0 1; }
    RunsPane #run-progress-label { width: auto; margin: 0 1 0 0; }
    RunsPane #run-status { padding: 0 1; color: $text-muted; height: 1; }
    RunsPane #executions { height: 1fr; min-height: 5; }
    RunsPane #exec-log { height: auto; max-height: 14; padding: 0 1; color: $text-muted; }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.runs: list[dict] = []
        self.selected: int | None = None
        self.executions: list[dict] = []
        self.execution: int | None = None
        self.running = False
        self.live_run: int | None = None
        self.priorities = "balanced"

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield RunPicker("Pipeline runs", self.app.marked_runs, id="runs-list")  # type: ignore[attr-defined]
            with Vertical(id="run-detail"):
                yield Label("", id="run-title", classes="panel-title")
                yield Static("", id="run-info")
                with Horizontal(id="run-progress-row"):
                    yield Label("", id="run-progress-label")
                    yield ProgressBar(id="run-progress", show_eta=False)
                yield Label("", id="run-status")
                yield Label("Executions", id="executions-title", classes="panel-title")
                executions = FillTable(
                    ("task", "strategy", "level"),
                    id="executions",
                    cursor_type="row",
                    zebra_stripes=True,
                )
                for col in ("task", "strategy", "result", "score", "ms", "it", "level"):
                    executions.add_column(col, key=col)
                yield executions
                yield Static("", id="exec-log")

    def on_mount(self) -> None:
        self.hand_back_focus_on_leave()
        self.query_one("#run-progress-row").display = False
        self.query_one("#run-status", Label).display = False
        super().on_mount()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # focus can linger here while another tab is shown: keys then belong to that tab
        if action in ("launch", "cancel_run", "compare"):
            return self._is_active_tab()
        if action == "back":
            return self._is_active_tab() and self.has_class("drilled")
        return True

    def on_show(self) -> None:
        # a late Show (the app starting) must not pull focus from the tab now shown
        if not self._is_active_tab():
            return
        self._fill_runs()  # marks may have changed in Trends
        self.focus_if_shown()

    def focus_default(self) -> Widget:
        return self._runs_table()

    def _runs_table(self) -> DataTable:
        return self.query_one(RunPicker).table

    @property
    def pipeline(self):
        return self.app.engine.pipeline  # type: ignore[attr-defined]

    # -- data --------------------------------------------------------------------------

    def refresh_data(self, changed: set[str] | None = None) -> None:
        """The runs and the shown run's executions are read in a worker (`Pane.load`; at
        1,000 runs the list alone takes longer than a frame); tables repaint only the rows
        that changed."""
        engine, asked = self.app.engine, self.selected  # type: ignore[attr-defined]

        def read() -> tuple[list[dict], int | None, list[dict] | None]:
            # the pipeline service is built (and imported, with its strategies' entry
            # points) here, in the worker, not on the UI thread
            pipeline = engine.pipeline
            runs = pipeline.runs()
            ids = [r["id"] for r in runs]
            newest_started = bool(runs) and runs[0]["status"] == "running"
            pick = asked
            if pick not in ids or (newest_started and pick != ids[0]):
                # follow the newest run when it is live (here or in another process)
                pick = ids[0] if ids else None
            try:
                rows = pipeline.executions(pick) if pick is not None else []
            except ENGINE_ERRORS:
                rows = None
            return runs, pick, rows

        self.load("runs", lambda: (asked, *read()), self._show_runs)

    def _show_runs(self, read: tuple) -> None:
        asked, self.runs, pick, rows = read
        if self.selected != asked:  # the user moved meanwhile: keep their run
            if self.selected not in {r["id"] for r in self.runs}:
                self.selected, self.execution = pick, None
            rows = None if self.selected != pick else rows
        elif pick != self.selected:
            self.selected, self.execution = pick, None
        self._fill_runs()
        self.show_detail(rows)

    def _fill_runs(self) -> None:
        self.query_one(RunPicker).show(self.runs, self.selected)

    def select_run(self, run_id: int) -> None:
        self.query_one(RunPicker).move_to(run_id)
        self._select(run_id)

    def _select(self, run_id: int | None) -> None:
        if run_id != self.selected:
            self.selected = run_id
            self.execution = None
        self.show_detail()

    @on(RunPicker.Highlighted)
    def _run_highlighted(self, event: RunPicker.Highlighted) -> None:
        if isinstance(event, RunPicker.Chosen):
            self._select(event.run_id)
            self.add_class("drilled")
            self.query_one("#executions", DataTable).focus()
        elif event.run_id != self.selected:
            self._select(event.run_id)

    def action_back(self) -> None:
        self.remove_class("drilled")
        self._runs_table().focus()

    def action_compare(self) -> None:
        marks = sorted(self.app.marked_runs)  # type: ignore[attr-defined]
        if len(marks) < 2:
            self.notify("mark two or more runs with space, then c compares them")
            return
        try:
            rows = self.pipeline.compare(marks)
        except ENGINE_ERRORS as exc:
            self.notify(str(exc), severity="error")
            return
        from workbench.ui.screens.run_compare import CompareRunsScreen  # not for the first frame

        self.app.push_screen(CompareRunsScreen(rows))

    @on(DataTable.RowHighlighted, "#executions")
    def _execution_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.cursor_row != event.data_table.cursor_row or event.row_key.value is None:
            return
        self.execution = int(event.row_key.value)
        self._show_log()

    def _run(self) -> dict | None:
        return next((r for r in self.runs if r["id"] == self.selected), None)

    def show_detail(self, rows: list[dict] | None = None) -> None:
        """The selected run; `rows` are its executions when a worker read them already."""
        run = self._run()
        self.executions = []
        if run is not None:
            try:
                if rows is None:
                    rows = self.pipeline.executions(run["id"])
                # stable order (completion order varies with the worker pool)
                self.executions = sorted(
                    rows, key=lambda e: (e["iteration"], e["task"], e["strategy"])
                )
            except ENGINE_ERRORS:
                self.executions = []
        title = self.query_one("#run-title", Label)
        info = self.query_one("#run-info", Static)
        if run is None:
            title.update("No pipeline run yet")
            info.update("Press t to launch one (or run `workbench pipeline run`).")
        else:
            title.update(f"Run {run['id']} · {run['status']} · {run_mode(run)}")
            head = Text.assemble(
                ("strategies ", "dim"), ", ".join(run["strategies"]) or "—",
                ("  tasks ", "dim"), str(run["config"].get("tasks_dir") or "bundled bank"),
            )  # fmt: skip
            lines = [head]
            sandbox = describe_isolation(run["config"].get("isolation"))
            if sandbox:  # runs recorded before isolation was (migration 0014) show nothing
                pool = " · warm pool" if run["config"].get("warm_pool") else ""
                lines.append(Text.assemble(("sandbox ", "dim"), sandbox + pool))
            lines += iteration_lines(run, self.executions)
            recs = (run.get("summary") or {}).get("recommendations") or []
            lines += [Text.assemble(("→ ", "dim"), rec) for rec in recs[:2]]
            info.update(Text("\n").join(lines))
        self._fill_executions()
        self._show_progress(run)

    def _fill_executions(self) -> None:
        table = self.query_one("#executions", FillTable)
        rows = []
        for e in self.executions:
            ok = e["status"] == "passed"
            result = Text.assemble(
                ("pass" if ok else e["status"], "green" if ok else "red"),
                f" {e['tests_passed']}/{e['tests_total']} tests passed",
            )
            cells = [
                plain(e["task"]),
                plain(e["strategy"]),
                result,
                f"{e['score']:.1f}" if e["score"] is not None else "—",
                f"{e['exec_ms']:.0f}" if e["exec_ms"] is not None else "—",
                str(e["iteration"]),
                e["level"] or "—",
            ]
            rows.append((str(e["id"]), cells))
        table.sync(rows)  # a live run adds its new executions, the rest stay
        ids = [e["id"] for e in self.executions]
        if self.execution not in ids:
            self.execution = ids[0] if ids else None
        if self.execution is not None:
            table.move_cursor(row=table.get_row_index(str(self.execution)), animate=False)
        n = len(self.executions)
        passed = sum(1 for e in self.executions if e["status"] == "passed")
        self.query_one("#executions-title", Label).update(
            f"Executions · {passed}/{n} passed" if n else "Executions · none yet"
        )
        self._show_log()

    def _show_log(self) -> None:
        log = self.query_one("#exec-log", Static)
        e = next((e for e in self.executions if e["id"] == self.execution), None)
        if e is None:
            log.update("")
            return
        head = Text.assemble(
            ("log · ", "bold"), f"{e['task']} · {e['strategy']}",
            f" · {e['reason']}" if e.get("reason") else "",
            f" · lint errors {e['lint_errors']}" if e.get("lint_errors") else "",
            f" · sandbox {describe_isolation(e['isolation'])}" if e.get("isolation") else "",
        )  # fmt: skip
        body = (e.get("log_excerpt") or "(no output)").rstrip().splitlines()[-LOG_LINES:]
        lines = [head]
        if e.get("command_ms") is not None:
            lines.append(command_line(e))
        log.update(Text("\n").join([*lines, Text("\n".join(body))]))

    def _show_progress(self, run: dict | None) -> None:
        row = self.query_one("#run-progress-row")
        progress = None if run is None else run_progress(run, self.executions)
        row.display = progress is not None
        if progress is None:
            return
        bar = self.query_one("#run-progress", ProgressBar)
        label = self.query_one("#run-progress-label", Label)
        if run["id"] == self.live_run and self._progress_total:
            # our own run: the worker's events are ahead of the store by a commit
            progress.update(iteration=self._progress_iteration, total=self._progress_total,
                            done=self._progress_done)  # fmt: skip
        bar.update(total=progress["total"] or None, progress=progress["done"])
        level = f" · {progress['level']}" if progress.get("level") else ""
        label.update(f"iteration {progress['iteration']}/{progress['iterations']}{level}")

    _progress_total = 0
    _progress_done = 0
    _progress_iteration = 0

    # -- actions -----------------------------------------------------------------------

    def action_launch(self) -> None:
        if self.running:
            self.notify("a run is already going: x cancels it", severity="warning")
            return
        try:  # the project's command strategies can be picked too
            self.pipeline.load_project_strategies(Path.cwd())
        except ENGINE_ERRORS as exc:
            self.notify(str(exc), severity="error")
        # imported here: the dialogs pull in Markdown (markdown-it), not needed for the first frame
        from workbench.ui.screens.run_dialogs import LaunchRunDialog

        self.app.push_screen(LaunchRunDialog(self.pipeline.strategies()), self._launch_chosen)

    def _launch_chosen(self, result: dict | None) -> None:
        if result is None:
            return
        self.running = True
        self.priorities = result.pop("priorities")
        command = result.pop("command", None)
        if command is not None:
            try:
                self.pipeline.add_command_strategy(command)
            except ENGINE_ERRORS as exc:
                self.running = False
                self.notify(str(exc), severity="error")
                return
        self._progress_total = self._progress_done = self._progress_iteration = 0
        self._status("starting run…")
        self.run_pipeline(result)

    @work(thread=True, exclusive=True, exit_on_error=False, group="pipeline-run")
    def run_pipeline(self, params: dict) -> dict:
        def on_event(event: dict) -> None:
            cls = RunProgress if event.get("type") == "execution" else RunEvent
            self.post_message(cls(event))

        return self.pipeline.run(**params, on_event=on_event)

    def action_cancel_run(self) -> None:
        if not self.running:
            self.notify("no run is going", severity="warning")
            return
        self.pipeline.cancel()
        self._status("cancelling…")

    @on(RunEvent)
    def _run_event(self, message: RunEvent) -> None:
        event = message.event
        kind = event.get("type")
        if kind == "run_started":
            self.live_run = event["run_id"]
            self.selected = event["run_id"]
            self.execution = None
        elif kind == "iteration_started":
            self._progress_iteration = event["iteration"]
            self._progress_total, self._progress_done = event["total"], 0
            level = f" · {event['level']}" if event.get("level") else ""
            self._status(
                f"run {event['run_id']} · iteration {event['iteration']}{level} · x cancels"
            )
        elif kind == "execution":
            self._progress_total, self._progress_done = event["total"], event["done"]
        self.refresh_data()

    @on(Worker.StateChanged)
    def _worker_done(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "pipeline-run":
            return
        if event.state == WorkerState.ERROR:
            self.running = False
            self._status("")
            self.notify(f"run failed: {event.worker.error}", severity="error")
            self.refresh_data()
        elif event.state == WorkerState.SUCCESS:
            self.running = False
            self._finished(event.worker.result)
        elif event.state == WorkerState.CANCELLED:
            self.running = False

    def _finished(self, report: dict) -> None:
        self.live_run = None
        run_id, status = report["run_id"], report["status"]
        passed = sum(1 for e in report["executions"] if e["status"] == "passed")
        text = f"run {run_id} {status} · {passed}/{len(report['executions'])} passed"
        try:
            pick = self.pipeline.select(self.priorities)
            text += f" · {self.priorities} pick: {pick['strategy']}"
        except ENGINE_ERRORS:
            pass
        self._status(text)
        self.notify(text, severity="warning" if status != "completed" else "information")
        self.refresh_data()
        self.select_run(run_id)

    def _status(self, text: str) -> None:
        status = self.query_one("#run-status", Label)
        status.update(text)
        status.display = bool(text)
