"""CLI start-up stays cheap: a call imports only the command group it runs, and read-only
calls on the store and the hub load neither numpy, the kernels nor the file watcher.
(Times are measured in benchmarks/cli_startup.py, never asserted here.)"""

from __future__ import annotations

import subprocess
import sys

import pytest

from workbench.cli import GROUPS, build_parser, command_of

HEAVY = ("numpy", "wasmtime", "watchfiles", "textual", "rich.table", "asyncio")


def modules_after(args: list[str]) -> set[str]:
    code = (
        "import sys\n"
        "from workbench.cli import main\n"
        f"code = main({args!r})\n"
        "print(' '.join(sorted(sys.modules)))\n"
        "sys.exit(code)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(out.stdout.splitlines()[-1].split())


@pytest.fixture(scope="module")
def seeded_db(tmp_path_factory):
    from workbench.cli import main

    db = str(tmp_path_factory.mktemp("startup") / "s.db")
    assert main(["init", "--db", db, "--json"]) == 0
    return db


@pytest.mark.parametrize(
    "args",
    [["store", "stats", "--json"], ["hub", "query", "sqlite lock", "--json"]],
    ids=["store-stats", "hub-query"],
)
def test_read_only_calls_load_nothing_heavy(seeded_db, args):
    loaded = modules_after([*args, "--db", seeded_db])
    assert not {m for m in loaded if m.split(".")[0] in HEAVY or m in HEAVY}, loaded & set(HEAVY)
    others = {f"workbench.cli.{g}" for g in GROUPS} - {f"workbench.cli.{args[0]}"}
    assert not loaded & others


def test_help_still_lists_every_group():
    text = build_parser().format_help()
    assert all(name in text for name in GROUPS)


def test_command_word_skips_the_top_level_db_value():
    assert command_of(["--db", "hub", "memory", "search", "x"]) == "memory"
    assert command_of(["--db=hub", "hub", "query", "x"]) == "hub"
    assert command_of(["--version"]) is None
    assert command_of([]) is None


def test_an_unknown_command_is_a_usage_error_listing_the_groups(capsys):
    from workbench.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["nonsense"])
    assert exc.value.code == 2
    assert "hub" in capsys.readouterr().err
