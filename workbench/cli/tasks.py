"""`workbench tasks ...`: the task bank, and tasks made from real repositories."""

from __future__ import annotations

import argparse

from workbench.cli.common import command_group, open_engine, print_json
from workbench.textsafe import clean

NAME = "tasks"
DEFAULT_INTO = ".workbench/tasks"


def printable(value: object) -> str:
    """Text from files or agents, escaped for the terminal (the one textsafe.clean)."""
    return clean(value)


def _split(values: list[str] | None) -> list[str]:
    return [v.strip() for value in values or [] for v in value.split(",") if v.strip()]


def add(commands) -> None:
    command = command_group(commands, "tasks", "the task bank; tasks from your repositories")
    p = command("add-repo", "make a task from a repository: snapshot, tests, prompt")
    p.add_argument("path", metavar="PATH", help="the repository (a git work tree or a folder)")
    p.add_argument(
        "--tests",
        action="append",
        required=True,
        metavar="FILE[::NAME]",
        help="test files or pytest ids to run (repeatable or comma-separated)",
    )
    p.add_argument("--prompt", required=True, metavar="TEXT", help="what the agent should do")
    p.add_argument("--name", metavar="N", help="task name (default: the repository's name)")
    p.add_argument("--files", action="append", metavar="A.py,B.py", help="files it may edit")
    p.add_argument(
        "--hollow",
        action="append",
        default=[],
        metavar="MODULE:FUNCTION",
        help="replace this function's body with `raise NotImplementedError` (repeatable)",
    )
    p.add_argument("--into", default=DEFAULT_INTO, metavar="DIR", help=f"default {DEFAULT_INTO}")
    p.add_argument("--timeout", type=float, default=60.0, metavar="S", help="test timeout")
    p.add_argument("--complexity", choices=("easy", "medium", "hard"), default="medium")
    command("list", "the tasks the store knows")
    p = command("show", "one task: prompt, files, tests, origin")
    p.add_argument("task", metavar="NAME|DIR")
    p = command("validate", "tests pass on the original and fail on the hollowed/broken code")
    p.add_argument("task", metavar="NAME|DIR")


def run(args: argparse.Namespace) -> int:
    with open_engine(args) as engine:
        service = engine.pipeline
        command = args.tasks_command
        with engine.guard():
            if command == "add-repo":
                result = service.add_repo_task(
                    args.path,
                    args.into,
                    tests=_split(args.tests),
                    prompt=args.prompt,
                    name=args.name,
                    files=_split(args.files),
                    hollow_specs=args.hollow,
                    timeout_s=args.timeout,
                    complexity=args.complexity,
                )
            elif command == "list":
                result = service.task_list()
            elif command == "show":
                result = service.task_detail(args.task)
            else:
                result = service.validate_task(args.task)
    if args.json:
        print_json(result)
    elif command == "add-repo":
        print(f"added task {printable(result['task'])} at {printable(result['path'])}")
        print(
            f"  {result['snapshot_files']} files; may edit {printable(', '.join(result['files']))}"
        )
        print(f"  {printable(result['validation']['message'])}")
    elif command == "list":
        for t in result:
            print(f"{printable(t['name']):<28} {t['complexity']:<7} {t['source']:<6} "
                  f"{printable(t['path'])}")  # fmt: skip
        if not result:
            print("no tasks yet: `workbench init` adds the bundled bank")
    elif command == "show":
        for key in ("name", "kind", "complexity", "path", "module", "files", "tests",
                    "timeout_s", "hollowed"):  # fmt: skip
            value = result[key]
            value = ", ".join(value) if isinstance(value, list) else value
            print(f"{key:<11} {printable(value)}")
        print(f"prompt      {printable(result['prompt'])}")
    else:
        print(("valid: " if result["ok"] else "NOT valid: ") + printable(result["message"]))
    return 0 if command != "validate" or result["ok"] else 1
