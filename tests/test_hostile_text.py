"""Untrusted text is data: stored text holding terminal control sequences and Rich markup,
printed by every CLI command that shows stored text, never reaches the terminal raw."""

from __future__ import annotations

import json

import pytest

from tests.conftest import make_fixture_store
from workbench.cli import main
from workbench.store import models as m
from workbench.textsafe import cell, clean, is_clean

# window title, clipboard write (OSC 52), colour (CSI), C1 CSI, a DCS, a bidi override,
# and Rich markup that must neither style nor crash the output
HOSTILE = (
    "evil\x1b]0;pwned\x07 \x1b]52;c;cHduZWQ=\x07 \x1b[31mred\x1b[0m \x9b2J \x90q\x9c"
    " \u202etxt.exe [bold]loud[/bold] [/oops] \r\x08"
)


def test_clean_escapes_every_control_visibly():
    out = clean(HOSTILE)
    assert is_clean(out)
    assert "\\x1b]0;pwned\\x07" in out and "\\x9b2J" in out and "\\u202e" in out
    assert "\\r\\x08" in out
    assert clean("a\nb\tc") == "a\nb\tc"
    assert clean("a\nb\tc", keep_newlines=False) == "a\\nb\\tc"
    assert clean(None) == "" and clean(3) == "3"
    assert cell("[bold]x[/]").plain == "[bold]x[/]"


def _raw(text: str) -> list[str]:
    return [c for c in text if (ord(c) < 0x20 and c not in "\n\t") or 0x7F <= ord(c) <= 0x9F]


def make_hostile_store(path, cwd=None):
    """The fixture store with hostile text in every kind of stored text a face shows."""
    eng = make_fixture_store(path, cwd=cwd)
    with eng.db.atomic():
        for model, columns in (
            (m.KnowledgeItem, ("title", "content", "source_agent")),
            (m.KnowledgeVersion, ("title", "content")),
            (m.VectorMemory, ("text",)),
            (m.EpisodicMemory, ("text", "kind")),
            (m.SemanticMemory, ("statement", "subject")),
        ):
            for column in columns:
                field = getattr(model, column)
                model.update({field: HOSTILE + " " + field}).execute()
        m.KnowledgeItem.update(tags=json.dumps([HOSTILE]), useful_votes=3).execute()
        m.Channel.update(description=HOSTILE).execute()
        m.Learning.create(
            type="failure_pattern",
            description=HOSTILE,
            agent=HOSTILE,
            task=HOSTILE,
            key="hostile",
            evidence=json.dumps([{"note": HOSTILE}]),
        )
        m.PatternMemory.create(
            type="critical",
            key=HOSTILE,
            data=json.dumps({"operation": HOSTILE}),
            successes=1,
            failures=3,
        )
        m.StrategyProfile.create(strategy=HOSTILE, success_rate=0.5, avg_score=50.0, uses=3)
        m.NeuralModel.create(
            name="hostile-model", architecture="{}", description=HOSTILE, status="untrained"
        )
        for success in (True, False, True):
            m.AgentExecution.create(
                agent=HOSTILE, category=HOSTILE, duration_s=3.0, success=success
            )
    agent = eng.hub.agents()[0]
    eng.hub.share("general", "warning", HOSTILE, HOSTILE, agent=HOSTILE, broadcast=True)
    return eng, agent


@pytest.fixture(scope="module")
def hostile_store(tmp_path_factory):
    path = tmp_path_factory.mktemp("hostile") / "hostile.db"
    eng, agent = make_hostile_store(path)
    eng.close()
    return str(path), agent


# (command, whether its output shows the hostile text: then it must show it escaped)
COMMANDS = [
    (["hub", "query", "evil"], True),
    (["hub", "list"], True),
    (["hub", "popular"], True),
    (["hub", "channels"], True),
    (["hub", "inbox", "{agent}", "--all"], True),
    (["memory", "search", "evil"], True),
    (["memory", "stats"], False),
    (["patterns", "failures"], False),
    (["patterns", "learnings"], True),
    (["patterns", "status"], False),
    (["neural", "list"], False),
    (["neural", "versions", "hostile-model"], False),
    (["pipeline", "status"], True),
    (["learn", "status"], False),
    (["strategy", "status"], False),
    (["perf", "report"], True),
]


@pytest.mark.parametrize(("command", "shows"), COMMANDS, ids=[" ".join(c[:2]) for c, _ in COMMANDS])
def test_no_command_prints_a_raw_control_character(hostile_store, command, shows, capsys):
    path, agent = hostile_store
    argv = [part.format(agent=agent) for part in command] + ["--db", path]
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 0, err
    assert not _raw(out) and not _raw(err), repr(out[:400])
    if shows:
        assert "\\x1b]0;pwned" in out or "[bold]" in out, out[:400]


def test_hub_show_prints_the_hostile_item_escaped(hostile_store, capsys):
    path, _agent = hostile_store
    main(["hub", "list", "--json", "--db", path])
    uid = json.loads(capsys.readouterr().out)[0]["id"]
    assert main(["hub", "show", uid, "--db", path]) == 0
    out = capsys.readouterr().out
    assert not _raw(out)
    assert "[bold]loud[/bold]" in out and "[/oops]" in out  # markup shown, not applied


def test_an_error_quoting_hostile_input_is_one_clean_line(hostile_store, capsys):
    path, _agent = hostile_store
    assert main(["hub", "show", "no-such\x1b]0;x\x07", "--db", path]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and not _raw(err)
