"""CLI start-up stays cheap: a call imports only the command group it runs, and read-only
calls on the store and the hub load neither numpy, the kernels nor the file watcher.
(Times are measured in benchmarks/cli_startup.py, never asserted here.)"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from workbench.cli import GROUPS, build_parser, command_of

# the human-readable tables of these calls are plain text: not even rich is imported
HEAVY = ("numpy", "wasmtime", "watchfiles", "textual", "rich", "asyncio")


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
    [
        ["store", "stats", "--json"],
        ["store", "stats"],
        ["hub", "query", "sqlite lock", "--json"],
        ["hub", "query", "sqlite lock"],
        ["hub", "list"],
    ],
    ids=["store-stats-json", "store-stats", "hub-query-json", "hub-query", "hub-list"],
)
def test_read_only_calls_load_nothing_heavy(seeded_db, args):
    loaded = modules_after([*args, "--db", seeded_db])
    assert not {m for m in loaded if m.split(".")[0] in HEAVY or m in HEAVY}, loaded & set(HEAVY)
    others = {f"workbench.cli.{g}" for g in GROUPS} - {f"workbench.cli.{args[0]}"}
    assert not loaded & others


# a search of the seeded store's small namespaces re-ranks every row exactly: numpy (the
# embedder) is needed, the WASM kernels are not; patterns analyze searches the same way
NO_KERNELS = ("wasmtime", "watchfiles", "textual", "rich", "asyncio")


@pytest.mark.parametrize(
    "args",
    [
        ["memory", "search", "retry with backoff"],
        ["memory", "search", "retry with backoff", "--json", "--k", "50"],
        ["patterns", "analyze", "--operation", '{"text": "compare two designs"}'],
        ["patterns", "analyze", "--operation", '{"text": "compare two designs"}', "--json"],
    ],
    ids=["memory-search", "memory-search-json", "patterns-analyze", "patterns-analyze-json"],
)
def test_searches_of_a_small_store_load_no_kernels(seeded_db, args):
    loaded = modules_after([*args, "--db", seeded_db])
    heavy = {m for m in loaded if m.split(".")[0] in NO_KERNELS}
    assert not heavy, heavy
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


def test_plain_table_aligns_cleans_and_fits_the_width():
    from workbench.cli.common import cell_width, plain_table

    rows = [["kb-1", "naïve 日本語 title", 3], ["kb-22", "evil\x1b]0;pwned\x07\nline", 12]]
    text = plain_table(
        "hub query", ["id", "title", "votes"], rows, right=("votes",), flex="title", width=30
    )
    lines = text.splitlines()
    assert lines[0] == "hub query"
    assert "\x1b" not in text and "\x07" not in text and "evil\\x1b]0;pwne" in text
    assert all(cell_width(line) <= 30 for line in lines)
    assert lines[2].endswith(" 3") and lines[3].endswith("12")  # right-aligned numbers
    assert "…" in lines[3]  # the flex column gave way
    assert cell_width("日本語") == 6 and cell_width("naïve") == 5


def test_store_stats_prints_every_table_with_its_count(seeded_db, capsys):
    from workbench.cli import main

    assert main(["store", "stats", "--json", "--db", seeded_db]) == 0
    counts = json.loads(capsys.readouterr().out)["tables"]
    assert main(["store", "stats", "--db", seeded_db]) == 0
    lines = capsys.readouterr().out.splitlines()
    shown = dict(line.split() for line in lines[2:])
    assert {t: int(n.replace(",", "")) for t, n in shown.items()} == counts
