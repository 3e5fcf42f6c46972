"""The training pipeline: tasks, strategies, sandboxed execution, scoring, selection."""

TASK_KINDS = ("function", "api", "algorithm", "data-structure")
COMPLEXITIES = ("easy", "medium", "hard")
