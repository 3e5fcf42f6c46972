"""The labelling tools (scripts/patterns_agreement.py, scripts/near_duplicates.py) and the
blind labelling set they work on."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scripts import near_duplicates as nd
from scripts import patterns_agreement as pa
from workbench.patterns import PATTERNS

LABELLING = Path(__file__).resolve().parents[2] / "sample_data" / "patterns" / "labelling"


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


# --- Cohen's kappa ---------------------------------------------------------------------


def test_kappa_textbook_value() -> None:
    # 50 items, two labels: a/b agree on 20 yes + 15 no; p_o = 0.7, p_e = 0.5*0.6 + 0.5*0.4 = 0.5
    a = ["convergent"] * 25 + ["divergent"] * 25
    b = ["convergent"] * 20 + ["divergent"] * 5 + ["convergent"] * 10 + ["divergent"] * 15
    assert pa.cohen_kappa(a, b) == pytest.approx(0.4)


def test_kappa_perfect_and_chance() -> None:
    a = ["convergent", "divergent", "lateral", "systems"] * 5
    assert pa.cohen_kappa(a, a) == pytest.approx(1.0)
    # b disagrees everywhere with a, in a balanced way: below chance
    b = a[1:] + a[:1]
    assert pa.cohen_kappa(a, b) < 0


def test_kappa_rejects_mismatched_or_empty() -> None:
    with pytest.raises(ValueError, match="same items"):
        pa.cohen_kappa(["critical"], ["critical", "lateral"])
    with pytest.raises(ValueError, match="no items"):
        pa.cohen_kappa([], [])


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (
            ["convergent", "critical", "critical", "systems"],
            ["convergent", "convergent", "critical", "systems"],
        ),
        (list(PATTERNS) * 3, list(PATTERNS[::-1]) * 3),
        (["adaptive"] * 9 + ["lateral"], ["adaptive"] * 8 + ["lateral"] * 2),
    ],
)
def test_kappa_matches_sklearn_on_cases(a: list[str], b: list[str]) -> None:
    metrics = pytest.importorskip("sklearn.metrics")
    assert pa.cohen_kappa(a, b) == pytest.approx(metrics.cohen_kappa_score(a, b))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(PATTERNS), st.sampled_from(PATTERNS)), min_size=2, max_size=60
    )
)
def test_kappa_matches_sklearn_property(pairs: list[tuple[str, str]]) -> None:
    metrics = pytest.importorskip("sklearn.metrics")
    a, b = [x for x, _ in pairs], [y for _, y in pairs]
    if len(set(a) | set(b)) < 2:
        return  # sklearn returns nan when only one label occurs; ours defines 1.0 (tested above)
    assert pa.cohen_kappa(a, b) == pytest.approx(metrics.cohen_kappa_score(a, b), abs=1e-12)


def test_confusion_counts_each_pair() -> None:
    table = pa.confusion(["critical", "critical", "systems"], ["convergent", "critical", "systems"])
    assert table["critical"]["convergent"] == 1
    assert table["critical"]["critical"] == 1
    assert table["systems"]["systems"] == 1
    assert sum(sum(row.values()) for row in table.values()) == 3


# --- merge ------------------------------------------------------------------------------


def test_merge_keeps_only_unanimous_rows_in_id_order() -> None:
    texts = {3: "c", 1: "a", 2: "b", 4: "d"}
    p1 = {1: "systems", 2: "critical", 3: "lateral", 4: "adaptive"}
    p2 = {1: "systems", 2: "convergent", 3: "lateral"}
    p3 = {1: "systems", 2: "critical", 3: "lateral", 4: "adaptive"}
    agreed, split = pa.merge(texts, [p1, p2, p3])
    assert agreed == [{"text": "a", "pattern": "systems"}, {"text": "c", "pattern": "lateral"}]
    assert split == [
        {"id": 2, "text": "b", "labels": ["critical", "convergent", "critical"]},
        {"id": 4, "text": "d", "labels": ["adaptive", None, "adaptive"]},
    ]


def test_merge_drops_row_no_pass_labelled() -> None:
    agreed, split = pa.merge({1: "a"}, [{}, {}])
    assert agreed == [] and split == [{"id": 1, "text": "a", "labels": [None, None]}]


def test_main_writes_agreed_operations_and_report(tmp_path: Path, capsys) -> None:
    blind = write_jsonl(tmp_path / "blind.jsonl", [{"id": i, "text": f"op {i}"} for i in (1, 2, 3)])
    a = write_jsonl(
        tmp_path / "a.jsonl",
        [
            {"id": 1, "pattern": "critical"},
            {"id": 2, "pattern": "lateral"},
            {"id": 3, "pattern": "systems"},
        ],
    )
    b = write_jsonl(
        tmp_path / "b.jsonl",
        [
            {"id": 1, "pattern": "critical"},
            {"id": 2, "pattern": "divergent"},
            {"id": 3, "pattern": "systems"},
        ],
    )
    author = write_jsonl(
        tmp_path / "author.jsonl",
        [
            {"id": 1, "pattern": "convergent"},
            {"id": 2, "pattern": "lateral"},
            {"id": 3, "pattern": "systems"},
        ],
    )
    out, dis, rep = tmp_path / "ops.jsonl", tmp_path / "dis.jsonl", tmp_path / "rep.json"
    args = [str(a), str(b), "--blind", str(blind), "--author", str(author), "--out", str(out)]
    code = pa.main([*args, "--disagreements", str(dis), "--report", str(rep)])
    assert code == 0
    ops = [json.loads(line) for line in out.read_text().splitlines()]
    assert ops == [{"text": "op 1", "pattern": "critical"}, {"text": "op 3", "pattern": "systems"}]
    assert [json.loads(line)["id"] for line in dis.read_text().splitlines()] == [2]
    figures = json.loads(rep.read_text())
    assert figures["agreed"] == 2 and figures["disagreed"] == 1
    assert figures["agreed_but_not_author"] == 1  # row 1: both passes said critical
    expected = pa.cohen_kappa(
        ["critical", "lateral", "systems"], ["critical", "divergent", "systems"]
    )
    assert figures["pairs"]["a vs b"]["kappa"] == pytest.approx(expected, abs=1e-4)
    assert "a vs b: kappa" in capsys.readouterr().out


# --- bad input: one line on stderr, exit 2, nothing written -----------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"id": 1, "pattern": "creative"}\n', "pattern must be one of"),
        ('{"id": 1, "pattern": "critical"}\n{"id": 1, "pattern": "lateral"}\n', "labelled twice"),
        ('{"id": 9, "pattern": "critical"}\n', "not in the blind file"),
        ('{"id": "1", "pattern": "critical"}\n', "integer 'id'"),
        ("not json\n", "invalid JSON"),
        ('["critical"]\n', "JSON object"),
    ],
)
def test_bad_label_file(tmp_path: Path, capsys, content: str, message: str) -> None:
    blind = write_jsonl(tmp_path / "blind.jsonl", [{"id": 1, "text": "op"}])
    good = write_jsonl(tmp_path / "good.jsonl", [{"id": 1, "pattern": "critical"}])
    bad = tmp_path / "bad.jsonl"
    bad.write_text(content)
    out = tmp_path / "ops.jsonl"
    code = pa.main([str(good), str(bad), "--blind", str(blind), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and err.count("\n") == 1
    assert not out.exists()


def test_one_pass_is_refused(tmp_path: Path, capsys) -> None:
    good = write_jsonl(tmp_path / "good.jsonl", [{"id": 1, "pattern": "critical"}])
    assert pa.main([str(good)]) == 2
    assert "at least two" in capsys.readouterr().err


def test_missing_file_is_one_line(tmp_path: Path, capsys) -> None:
    blind = write_jsonl(tmp_path / "blind.jsonl", [{"id": 1, "text": "op"}])
    assert (
        pa.main(
            [str(tmp_path / "nope.jsonl"), str(tmp_path / "nope2.jsonl"), "--blind", str(blind)]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert "cannot read" in err and err.count("\n") == 1


# --- near duplicates --------------------------------------------------------------------


def test_near_duplicates_finds_reworded_copy_and_not_different_rows() -> None:
    texts = [
        "Fix the off-by-one error that drops the last item when paginating",
        "fix the off by one error that drops the last item when paginating!",
        "Brainstorm names for the new billing microservice",
    ]
    pairs = nd.near_duplicates(texts, threshold=0.6)
    assert [(i, j) for _, i, j in pairs] == [(0, 1)]
    assert pairs[0][0] == pytest.approx(1.0)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(alphabet="abcde fgh", min_size=1, max_size=30), min_size=2, max_size=12))
def test_near_duplicates_agrees_with_brute_force(texts: list[str]) -> None:
    grams = [nd.char_ngrams(t) for t in texts]
    brute = sorted(
        (round(nd.jaccard(grams[i], grams[j]), 4), i, j)
        for i in range(len(texts))
        for j in range(i + 1, len(texts))
        if nd.jaccard(grams[i], grams[j]) >= 0.3
    )
    assert sorted(nd.near_duplicates(texts, threshold=0.3)) == brute


# --- the blind labelling set ------------------------------------------------------------


def test_blind_set_has_no_labels_and_matches_author_ids() -> None:
    blind = [json.loads(line) for line in (LABELLING / "blind.jsonl").read_text().splitlines()]
    author = pa.read_labels(LABELLING / "author.jsonl")
    assert all(set(row) == {"id", "text"} for row in blind)
    assert [row["id"] for row in blind] == sorted(author)
    assert len(blind) >= 1300
    counts = Counter(author.values())
    assert set(counts) == set(PATTERNS)
    assert max(counts.values()) - min(counts.values()) <= 0.05 * len(blind) / len(PATTERNS)


def test_blind_set_has_no_near_duplicates() -> None:
    texts = [
        json.loads(line)["text"] for line in (LABELLING / "blind.jsonl").read_text().splitlines()
    ]
    assert len({nd.normalize(t) for t in texts}) == len(texts)
    assert nd.near_duplicates(texts, threshold=nd.THRESHOLD) == []


# --- the guide's agreement section ------------------------------------------------------


def test_guide_section_is_filled_and_refilled_in_place(tmp_path: Path) -> None:
    blind = write_jsonl(tmp_path / "blind.jsonl", [{"id": i, "text": f"op {i}"} for i in (1, 2)])
    a = write_jsonl(
        tmp_path / "a.jsonl", [{"id": 1, "pattern": "critical"}, {"id": 2, "pattern": "lateral"}]
    )
    b = write_jsonl(
        tmp_path / "b.jsonl", [{"id": 1, "pattern": "critical"}, {"id": 2, "pattern": "systems"}]
    )
    guide = tmp_path / "GUIDE.md"
    guide.write_text(f"# Guide\n\nrules\n\n{pa.START}\nplaceholder\n{pa.END}\n\nafter\n")
    args = [str(a), str(b), "--blind", str(blind), "--guide", str(guide)]
    assert pa.main(args) == 0
    text = guide.read_text()
    assert text.startswith("# Guide\n\nrules\n\n") and text.endswith(f"{pa.END}\n\nafter\n")
    assert "placeholder" not in text
    assert "| a vs b | 2 |" in text and "agree on 1" in text
    assert pa.main(args) == 0
    assert guide.read_text() == text  # idempotent: the block is replaced, not appended


def test_guide_without_marker_is_refused_and_untouched(tmp_path: Path, capsys) -> None:
    blind = write_jsonl(tmp_path / "blind.jsonl", [{"id": 1, "text": "op"}])
    a = write_jsonl(tmp_path / "a.jsonl", [{"id": 1, "pattern": "critical"}])
    guide = tmp_path / "GUIDE.md"
    guide.write_text("# Guide without a results section\n")
    out = tmp_path / "ops.jsonl"
    code = pa.main(
        [str(a), str(a), "--blind", str(blind), "--guide", str(guide), "--out", str(out)]
    )
    assert code == 2 and "marker" in capsys.readouterr().err
    assert guide.read_text() == "# Guide without a results section\n" and not out.exists()


def test_the_real_guide_has_the_markers() -> None:
    text = (LABELLING.parent / "GUIDE.md").read_text()
    assert text.count(pa.START) == 1 and text.count(pa.END) == 1
    for pattern in PATTERNS:
        assert f"### {pattern}" in text


def test_supplement_blind_files_merge_and_must_not_share_ids(tmp_path: Path, capsys) -> None:
    one = write_jsonl(tmp_path / "b1.jsonl", [{"id": 1, "text": "op 1"}])
    two = write_jsonl(tmp_path / "b2.jsonl", [{"id": 2, "text": "op 2"}])
    a = write_jsonl(
        tmp_path / "a.jsonl", [{"id": 1, "pattern": "critical"}, {"id": 2, "pattern": "adaptive"}]
    )
    b = write_jsonl(tmp_path / "b.jsonl", [{"id": 1, "pattern": "critical"}])
    out = tmp_path / "ops.jsonl"
    assert (
        pa.main([str(a), str(b), "--blind", str(one), "--blind", str(two), "--out", str(out)]) == 0
    )
    # row 2 was labelled by one pass only: dropped, not guessed
    assert [json.loads(line) for line in out.read_text().splitlines()] == [
        {"text": "op 1", "pattern": "critical"}
    ]
    clash = write_jsonl(tmp_path / "b3.jsonl", [{"id": 1, "text": "another op"}])
    assert pa.main([str(a), str(b), "--blind", str(one), "--blind", str(clash)]) == 2
    assert "also in another blind file" in capsys.readouterr().err


def test_supplement_continues_the_ids_without_labels_or_near_duplicates() -> None:
    main_rows = [json.loads(x) for x in (LABELLING / "blind.jsonl").read_text().splitlines()]
    extra = [json.loads(x) for x in (LABELLING / "blind_extra.jsonl").read_text().splitlines()]
    author = pa.read_labels(LABELLING / "author_extra.jsonl")
    assert all(set(r) == {"id", "text"} for r in extra)
    assert [r["id"] for r in extra] == sorted(author)
    assert min(author) == max(r["id"] for r in main_rows) + 1
    assert set(Counter(author.values()).values()) == {len(extra) // len(PATTERNS)}
    texts = [r["text"] for r in main_rows + extra]
    assert nd.near_duplicates(texts, threshold=nd.THRESHOLD) == []


def test_operations_are_exactly_the_rows_the_committed_passes_agree_on() -> None:
    texts = pa.read_blind(LABELLING / "blind.jsonl")
    passes = [pa.read_labels(LABELLING / f"pass_{x}.jsonl", set(texts)) for x in "ab"]
    agreed, split = pa.merge(texts, passes)
    operations = LABELLING.parent / "operations.jsonl"
    assert [json.loads(line) for line in operations.read_text().splitlines()] == agreed
    written = [
        json.loads(line) for line in (LABELLING / "disagreements.jsonl").read_text().splitlines()
    ]
    assert written == split
    assert len(agreed) >= 1200
