"""The Runs pane's launch dialog: what to run, checked inline before the pane starts it."""

from __future__ import annotations

from pathlib import Path

from workbench.pipeline import COMPLEXITIES
from workbench.pipeline.commands import parse_strategy_cmd
from workbench.pipeline.selection import parse_priorities
from workbench.ui.screens.model_dialogs import ModelDialog

ON = ("on", "yes", "y", "true", "1")
OFF = ("off", "no", "n", "false", "0", "")


class LaunchRunDialog(ModelDialog):
    """Complexity, curriculum, iterations, strategies, priorities preset and tasks dir."""

    DEFAULT_CSS = """
    LaunchRunDialog Input { margin: 0; }
    LaunchRunDialog .dialog-intro { padding: 0; }
    LaunchRunDialog > Vertical { max-height: 100%; }
    LaunchRunDialog .dialog-buttons { padding: 0; }
    """
    TITLE_TEXT = "Launch pipeline run"
    OK_LABEL = "Run"

    def __init__(self, strategies: list[str], tasks_dir: str = "") -> None:
        super().__init__()
        self.known = strategies
        self.tasks_dir = tasks_dir

    def intro(self) -> str:
        return "Every (task, strategy) runs in a sandbox; results stream into the store."

    def fields(self) -> list[tuple[str, str, str, str]]:
        return [
            ("complexity", "Complexity (easy, medium, hard or none)", "none", "none"),
            ("curriculum", "Curriculum (on/off: start easy, move up on success)", "off", "off"),
            ("iterations", "Iterations", "1", "1"),
            ("strategies", f"Strategies (of {', '.join(self.known)})", ",".join(self.known), ""),
            (
                "priorities",
                "Priorities: production, prototyping, balanced or R,S,Q (final pick)",
                "balanced",
                "balanced",
            ),  # fmt: skip
            ("tasks", "Tasks dir", self.tasks_dir, "empty: the bundled task bank"),
            (
                "command",
                "Command strategy NAME=COMMAND (optional; add NAME to Strategies)",
                "",
                "e.g. my_agent=./agent.sh --fix",
            ),  # fmt: skip
        ]

    def validate(self) -> dict:
        complexity = self.value("complexity").lower()
        if complexity in ("", "none", "all"):
            complexity = None
        elif complexity not in COMPLEXITIES:
            raise ValueError(f"complexity: one of {', '.join(COMPLEXITIES)} or none")
        curriculum_text = self.value("curriculum").lower()
        if curriculum_text not in ON + OFF:
            raise ValueError("curriculum: on or off")
        curriculum = curriculum_text in ON
        if curriculum and complexity is not None:
            raise ValueError("curriculum chooses the complexity itself: set complexity to none")
        try:
            iterations = int(self.value("iterations") or "1")
        except ValueError:
            raise ValueError("iterations: not a whole number") from None
        if iterations < 1:
            raise ValueError("iterations: must be at least 1")
        strategies = [s.strip() for s in self.value("strategies").split(",") if s.strip()]
        if not strategies:
            raise ValueError("strategies: name at least one")
        command = self.value("command") or None
        known = list(self.known)
        if command is not None:
            try:
                known.append(parse_strategy_cmd(command).name)
            except ValueError as exc:
                raise ValueError(f"command strategy: {exc}") from None
        unknown = [s for s in strategies if s not in known]
        if unknown:
            raise ValueError(f"strategies: unknown {', '.join(unknown)}")
        priorities = self.value("priorities") or "balanced"
        try:
            parse_priorities(priorities)
        except ValueError as exc:
            raise ValueError(str(exc)) from None
        tasks = self.value("tasks")
        if tasks and not Path(tasks).expanduser().is_dir():
            raise ValueError(f"tasks dir: no such directory: {tasks}")
        return {
            "complexity": complexity,
            "curriculum": curriculum,
            "iterations": iterations,
            "strategies": strategies,
            "priorities": priorities,
            "tasks_dir": str(Path(tasks).expanduser()) if tasks else None,
            "command": command,
        }
