"""What every command group shares: the error type, --db/--json, the engine, output."""

from __future__ import annotations

import json
import re
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse

EXIT_USAGE = 2


class CliError(Exception):
    """A user-facing failure: printed as one line, exit status 2."""


def choice(values: tuple[str, ...] | list[str]):
    """An argparse type taking one of `values` in any case (`--type WARNING` works)."""
    canonical = {v.lower(): v for v in values}

    def parse(text: str) -> str:
        try:
            return canonical[text.strip().lower()]
        except KeyError:
            import argparse  # not at module level: the hook path never parses arguments

            raise argparse.ArgumentTypeError(
                f"{text!r} is not one of {', '.join(values)} (any case)"
            ) from None

    parse.__name__ = "choice"
    return parse


def choices_arg(values: tuple[str, ...] | list[str]) -> dict:
    """add_argument keywords for a case-insensitive choice listed in --help."""
    return {"type": choice(values), "metavar": "|".join(values)}


def add_db(parser: argparse.ArgumentParser, top: bool = False) -> None:
    import argparse

    parser.add_argument(
        "--db",
        metavar="PATH|URL",
        default=None if top else argparse.SUPPRESS,
        help="store: a SQLite file or postgresql://USER@HOST:PORT/DB "
        "(default: $WORKBENCH_DB, else .workbench/workbench.db)",
    )


def command_group(commands, group: str, help_text: str):
    """A subcommand group whose commands each take --db and --json."""
    parser = commands.add_parser(group, help=help_text)
    sub = parser.add_subparsers(dest=f"{group}_command", metavar="SUBCOMMAND", required=True)

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text)
        add_db(p)
        p.add_argument("--json", action="store_true", help="machine-readable output")
        return p

    command.subparsers = sub  # for groups that attach commands built elsewhere
    return command


def open_engine(args: argparse.Namespace):
    from workbench.engine import Engine

    engine = Engine(args.db, embedder=getattr(args, "embedder", None))
    warn(engine.warnings)
    return engine


def warn(warnings: list[str]) -> None:
    """Each warning as one line on stderr (stdout stays machine-readable)."""
    from workbench.textsafe import clean

    for line in warnings:
        print(f"workbench: warning: {clean(line, keep_newlines=False)}", file=sys.stderr)


def print_json(result: object) -> None:
    print(json.dumps(result, indent=2, sort_keys=True, default=str))


def console():
    """A rich console for output that shows stored text: 160 columns when piped so output
    does not wrap at 80; strings are not parsed as markup (style with `Text`), and every
    segment of text is cleaned of terminal control characters (`textsafe.clean`) before it
    is written — Rich's own styling travels in styles, so it is kept."""
    from rich.console import Console
    from rich.segment import Segment

    from workbench.textsafe import clean

    class SafeConsole(Console):
        def _render_buffer(self, buffer):
            return super()._render_buffer(
                segment if segment.control else Segment(clean(segment.text), segment.style)
                for segment in buffer
            )

    return SafeConsole(width=None if sys.stdout.isatty() else 160, markup=False)


def say(text: object = "") -> None:
    """`print` for plain output that holds stored or agent-supplied text: cleaned."""
    from workbench.textsafe import clean

    print(clean(text))


def fmt(value: object) -> str:
    if isinstance(value, list):
        return ", ".join(map(str, value))
    if isinstance(value, float):
        return f"{value:.4f}"
    if value is None:
        return "—"
    return str(value)


# ESC-started sequences (CSI, OSC up to BEL/ST, two-byte escapes), then any other C0/C1
# control character but tab and newline: text from agents and files is data, never a
# terminal instruction.
_ESCAPES = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def plain(text: object) -> str:
    """`text` with terminal control sequences and control characters removed."""
    return _CONTROLS.sub("", _ESCAPES.sub("", str(text)))
