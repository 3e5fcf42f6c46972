"""scripts/labels_agreement.py and the shared scripts/agreement.py: the blind file of the
catalog's text sets, kappa per set checked against sklearn, the CSVs rewritten with only
the rows the passes agree on, and bad input refused with one line and nothing written."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scripts import agreement
from scripts import labels_agreement as la
from scripts import ticket_columns as tc

NEURAL = Path(__file__).resolve().parents[2] / "sample_data" / "neural"
LABELLING = NEURAL / "labelling"

TINY = {
    "tickets.csv": "title,attachments,words,label\n"
    "Crash on save (log attached),1,5,bug\nAdd dark mode,0,3,feature\n"
    "How do I export?,0,4,question\nExport button is greyed out,0,5,bug\n",
    "engineering_tasks.csv": "task,label\nAdd a refunds endpoint,backend\n"
    "Train the churn model,ml\nShow a toast on upload,frontend\n"
    "Decide on tenancy model,architecture\n",
    "sparc_phases.csv": "statement,label\nThe export must take under 10 s,specification\n",
    "cicd_failures.csv": "failure,label\nruff: F401 unused import,lint\n"
    "FAILED tests/test_x.py::test_y,test\n",
}


def jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    """A folder with four tiny sets and their blind/author files."""
    for name, text in TINY.items():
        (tmp_path / name).write_text(text)
    blind, author = la.build_blind(tmp_path, seed=7)
    jsonl(tmp_path / "blind.jsonl", blind)
    jsonl(tmp_path / "author.jsonl", author)
    return tmp_path


def labels_of(folder: Path) -> dict[int, str]:
    return {r["id"]: r["pattern"] for r in map(json.loads, (folder / "author.jsonl").open())}


def texts_of(folder: Path) -> dict[str, int]:
    return {r["text"]: r["id"] for r in map(json.loads, (folder / "blind.jsonl").open())}


# --- kappa ------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from("abcd"), st.sampled_from("abcd")), min_size=2, max_size=60
    ).filter(lambda p: len({x for x, _ in p} | {y for _, y in p}) > 1)
)
def test_kappa_matches_sklearn(pairs: list[tuple[str, str]]) -> None:
    metrics = pytest.importorskip("sklearn.metrics")
    a, b = [x for x, _ in pairs], [y for _, y in pairs]
    assert agreement.cohen_kappa(a, b) == pytest.approx(metrics.cohen_kappa_score(a, b), abs=1e-12)


def test_pair_stats_counts_only_the_given_ids() -> None:
    a = {1: "x", 2: "y", 3: "x", 4: "y"}
    b = {1: "x", 2: "x", 3: "x", 4: "y"}
    st_ = agreement.pair_stats(a, b, ("x", "y"), ids={1, 2, 3})
    assert st_["items"] == 3 and st_["agreement"] == pytest.approx(2 / 3, abs=1e-4)
    assert st_["confusion"] == {"x": {"x": 2, "y": 0}, "y": {"x": 1, "y": 0}}


# --- the blind file ---------------------------------------------------------------------


def test_build_blind_has_every_row_once_without_labels(tiny: Path) -> None:
    blind, author = la.build_blind(tiny, seed=7)
    assert [r["id"] for r in blind] == list(range(1, 12)) == [r["id"] for r in author]
    assert all(set(r) == {"id", "set", "text"} for r in blind)
    assert Counter(r["set"] for r in blind) == {
        "tickets": 4,
        "engineering_tasks": 4,
        "sparc_phases": 1,
        "cicd_failures": 2,
    }
    by_text = {r["text"]: a["pattern"] for r, a in zip(blind, author, strict=True)}
    assert by_text["Add a refunds endpoint"] == "backend"
    assert by_text["How do I export?"] == "question"
    assert la.build_blind(tiny, seed=7) == (blind, author)  # seeded
    assert [r["text"] for r in la.build_blind(tiny, seed=8)[0]] != [r["text"] for r in blind]


def test_committed_blind_file_covers_every_csv_row_without_labels() -> None:
    texts, sets = la.read_blind_sets(LABELLING / "blind.jsonl")
    rows = [json.loads(line) for line in (LABELLING / "blind.jsonl").read_text().splitlines()]
    assert all(set(r) == {"id", "set", "text"} for r in rows)
    author = la.read_pass(LABELLING / "author.jsonl", sets)
    assert sorted(author) == sorted(texts)
    for name, (file, column, _) in la.SETS.items():
        blind_texts = {texts[i] for i, s in sets.items() if s == name}
        with (NEURAL / file).open(encoding="utf-8", newline="") as fh:
            assert {r[column] for r in csv.DictReader(fh)} <= blind_texts


# --- agree ------------------------------------------------------------------------------


def test_agree_rewrites_csvs_with_agreed_rows_and_reports_kappa_per_set(
    tiny: Path, tmp_path: Path, capsys
) -> None:
    author = labels_of(tiny)
    ids = texts_of(tiny)
    p1 = dict(author)
    p2 = dict(author)
    p2[ids["Export button is greyed out"]] = "question"  # split: dropped
    p1[ids["Add dark mode"]] = p2[ids["Add dark mode"]] = "question"  # fixed by both passes
    a = jsonl(tmp_path / "pass1.jsonl", [{"id": i, "pattern": p} for i, p in p1.items()])
    b = jsonl(tmp_path / "pass2.jsonl", [{"id": i, "pattern": p} for i, p in p2.items()])
    guide = tmp_path / "GUIDE.md"
    guide.write_text(f"# Guide\n\n{agreement.START}\nold\n{agreement.END}\ntail\n")
    dis, rep = tmp_path / "dis.jsonl", tmp_path / "rep.json"
    code = la.main(
        ["agree", str(a), str(b), "--blind", str(tiny / "blind.jsonl"), "--author",
         str(tiny / "author.jsonl"), "--folder", str(tiny), "--write", "--guide", str(guide),
         "--disagreements", str(dis), "--report", str(rep)]
    )  # fmt: skip
    assert code == 0
    tickets = (tiny / "tickets.csv").read_text()
    assert tickets == (
        "title,attachments,words,label\nCrash on save (log attached),1,5,bug\n"
        "Add dark mode,0,3,question\nHow do I export?,0,4,question\n"
    )
    assert tc.read(tiny / "tickets.csv") == tc.recompute(tc.read(tiny / "tickets.csv"))
    assert (tiny / "engineering_tasks.csv").read_text() == TINY["engineering_tasks.csv"]
    figures = json.loads(rep.read_text())
    t = figures["sets"]["tickets"]
    metrics = pytest.importorskip("sklearn.metrics")
    tids = sorted(ids[x] for x in ("Crash on save (log attached)", "Add dark mode",
                                   "How do I export?", "Export button is greyed out"))  # fmt: skip
    want = metrics.cohen_kappa_score([p1[i] for i in tids], [p2[i] for i in tids])
    assert t["pairs"]["pass1 vs pass2"]["kappa"] == pytest.approx(want, abs=1e-4)
    want_author = metrics.cohen_kappa_score([p1[i] for i in tids], [author[i] for i in tids])
    assert t["vs_author"]["pass1"]["kappa"] == pytest.approx(want_author, abs=1e-4)
    assert t["agreed"] == 3 and t["disagreed"] == 1 and t["agreed_but_not_author"] == 1
    assert figures["sets"]["engineering_tasks"]["pairs"]["pass1 vs pass2"]["kappa"] == 1.0
    assert figures["overall"]["agreed"] == 10 and figures["overall"]["disagreed"] == 1
    split = [json.loads(line) for line in dis.read_text().splitlines()]
    assert split == [
        {"id": ids["Export button is greyed out"], "text": "Export button is greyed out",
         "labels": ["bug", "question"], "set": "tickets", "author": "bug"}
    ]  # fmt: skip
    text = guide.read_text()
    assert text.startswith("# Guide\n\n") and text.endswith(f"{agreement.END}\ntail\n")
    assert "| tickets | Export button is greyed out | bug | question | bug |" in text
    assert "tickets (4 rows):" in capsys.readouterr().out
    # a second run over the rewritten CSVs changes nothing
    assert la.main(["agree", str(a), str(b), "--blind", str(tiny / "blind.jsonl"),
                    "--folder", str(tiny), "--write"]) == 0  # fmt: skip
    assert (tiny / "tickets.csv").read_text() == tickets


def test_balance_drops_from_the_end_of_larger_classes(tiny: Path, tmp_path: Path) -> None:
    author = labels_of(tiny)
    a = jsonl(tmp_path / "a.jsonl", [{"id": i, "pattern": p} for i, p in author.items()])
    assert la.main(["agree", str(a), str(a), "--blind", str(tiny / "blind.jsonl"),
                    "--folder", str(tiny), "--write", "--balance"]) == 0  # fmt: skip
    tickets = (tiny / "tickets.csv").read_text().splitlines()
    assert tickets[1:] == [
        "Crash on save (log attached),1,5,bug",
        "Add dark mode,0,3,feature",
        "How do I export?,0,4,question",
    ]  # the second bug was the last of the larger class
    cicd = (tiny / "cicd_failures.csv").read_text()
    assert cicd == TINY["cicd_failures.csv"]  # already equal: nothing dropped
    counts = Counter(line.rsplit(",", 1)[1] for line in tickets[1:])
    assert len(set(counts.values())) == 1


# --- bad input: one line on stderr, exit 2, nothing written -----------------------------


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ({"pattern": "creative"}, "pattern must be one of"),
        ({"pattern": "lint"}, "pattern must be one of"),  # a class of another set
        ({"id": 999, "pattern": "bug"}, "not in the blind file"),
        ({"id": "1", "pattern": "bug"}, "integer 'id'"),
        ("not json", "invalid JSON"),
        (["bug"], "JSON object"),
    ],
)
def test_bad_label_file(tiny: Path, tmp_path: Path, capsys, line, message: str) -> None:
    ids = texts_of(tiny)
    tid = ids["Crash on save (log attached)"]
    good = jsonl(tmp_path / "good.jsonl", [{"id": tid, "pattern": "bug"}])
    bad = tmp_path / "bad.jsonl"
    if isinstance(line, dict):
        line = {"id": tid, **line}
    bad.write_text((line if isinstance(line, str) else json.dumps(line)) + "\n")
    before = {f: (tiny / f).read_text() for f in TINY}
    out = tmp_path / "dis.jsonl"
    code = la.main(["agree", str(good), str(bad), "--blind", str(tiny / "blind.jsonl"),
                    "--folder", str(tiny), "--write", "--disagreements", str(out)])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and err.count("\n") == 1
    assert not out.exists()
    assert before == {f: (tiny / f).read_text() for f in TINY}


def test_label_given_twice_is_refused(tiny: Path, tmp_path: Path, capsys) -> None:
    tid = texts_of(tiny)["Add dark mode"]
    twice = jsonl(tmp_path / "t.jsonl", [{"id": tid, "pattern": "feature"}] * 2)
    assert la.main(["agree", str(twice), str(twice), "--blind", str(tiny / "blind.jsonl"),
                    "--folder", str(tiny)]) == 2  # fmt: skip
    assert "labelled twice" in capsys.readouterr().err


def test_stale_blind_file_and_unknown_set_are_refused(tiny: Path, tmp_path: Path, capsys) -> None:
    a = jsonl(tmp_path / "a.jsonl", [])
    (tiny / "cicd_failures.csv").write_text(TINY["cicd_failures.csv"] + "new row,build\n")
    assert la.main(["agree", str(a), str(a), "--blind", str(tiny / "blind.jsonl"),
                    "--folder", str(tiny), "--write"]) == 2  # fmt: skip
    assert "'new row' is not in the blind file" in capsys.readouterr().err
    assert (tiny / "cicd_failures.csv").read_text().endswith("new row,build\n")
    blind = jsonl(tmp_path / "b.jsonl", [{"id": 1, "set": "recipes", "text": "soup"}])
    assert la.main(["agree", str(a), str(a), "--blind", str(blind)]) == 2
    assert "not one of tickets" in capsys.readouterr().err


def test_one_pass_and_missing_files_are_one_line(tiny: Path, tmp_path: Path, capsys) -> None:
    a = jsonl(tmp_path / "a.jsonl", [])
    assert la.main(["agree", str(a)]) == 2
    assert "at least two" in capsys.readouterr().err
    nope = str(tmp_path / "nope.jsonl")
    assert la.main(["agree", nope, nope, "--blind", str(tiny / "blind.jsonl")]) == 2
    err = capsys.readouterr().err
    assert "cannot read" in err and err.count("\n") == 1


def test_guide_without_markers_is_refused(tiny: Path, tmp_path: Path, capsys) -> None:
    a = jsonl(tmp_path / "a.jsonl", [])
    guide = tmp_path / "G.md"
    guide.write_text("# no markers\n")
    assert la.main(["agree", str(a), str(a), "--blind", str(tiny / "blind.jsonl"),
                    "--folder", str(tiny), "--guide", str(guide)]) == 2  # fmt: skip
    assert "marker" in capsys.readouterr().err
    assert guide.read_text() == "# no markers\n"
