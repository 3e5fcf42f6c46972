"""The IVF search path's per-step split (a benchmark's timing hook) and what a search
touches: the split must not change results, must cost nothing when off, and a search scans
only the probed lists."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.kernels import backend
from workbench.kernels import lists as lists_mod
from workbench.memory import ivf as ivf_mod

D = 32
NLIST = 24


def resident_index(kind: str, n: int = 3_000, seed: int = 0) -> tuple[ivf_mod.IvfIndex, list]:
    """An index whose lists are all resident (no store): centroids are random rows, each
    row in its nearest list, as train() assigns them."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, D)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    kb = backend(kind)
    codes, scales = kb.quantize(x)
    centroids = x[rng.choice(n, NLIST, replace=False)].copy()
    labels = np.argmin(((x[:, None, :] - centroids[None]) ** 2).sum(-1), axis=1)
    ix = ivf_mod.IvfIndex(1, "t", "e", D, centroids, 3, 1.0, n, 0.0, 0, 0.0, n, 0).attach(kb)
    for li in range(NLIST):
        sel = np.flatnonzero(labels == li)
        ix.lists.set(li, codes[sel], scales[sel])
        ix.ids[li] = sel.astype(np.int64) + 1000  # ids differ from positions
    queries = [rng.standard_normal(D).astype(np.float32) for _ in range(12)]
    return ix, queries


@pytest.mark.parametrize("kind", ["wasm", "numpy"])
def test_the_split_reports_every_step_and_changes_no_result(kind: str) -> None:
    ix, queries = resident_index(kind)
    for q in queries:
        plain = ix.candidates(q, 40, 3)
        timing: dict[str, float] = {}
        timed = ix.candidates(q, 40, 3, timing=timing)
        assert timed == plain
        scan_steps = {"prepare", "hop", "kernel", "decode"} if kind == "wasm" else {"scan"}
        assert set(timing) == {"probe", "gather", "merge", "ids"} | scan_steps
        assert all(v >= 0.0 for v in timing.values()), timing


def test_steps_add_up_over_searches() -> None:
    ix, queries = resident_index("wasm")
    timing: dict[str, float] = {}
    ix.candidates(queries[0], 40, 3, timing=timing)
    once = dict(timing)
    ix.candidates(queries[1], 40, 3, timing=timing)
    assert all(timing[k] > once[k] for k in ("probe", "kernel", "ids"))


def test_without_a_timing_dict_no_clock_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    ix, queries = resident_index("wasm")
    expected = ix.candidates(queries[0], 40, 3)

    def no_clock() -> float:
        raise AssertionError("the search read the clock with timing off")

    monkeypatch.setattr(lists_mod.time, "perf_counter", no_clock)
    assert ix.candidates(queries[0], 40, 3) == expected


@pytest.mark.parametrize("kind", ["wasm", "numpy"])
def test_a_search_scans_only_the_probed_lists(kind: str, monkeypatch) -> None:
    ix, queries = resident_index(kind)
    scanned: list[list[int]] = []
    real = type(ix.lists)._scan

    def spy(self, nos, q, k, split):
        scanned.append(list(nos))
        return real(self, nos, q, k, split)

    monkeypatch.setattr(type(ix.lists), "_scan", spy)
    for q in queries:
        probed = ix.probe(q, 3)
        got, held = ix.candidates(q, 40, 3)
        assert scanned[-1] == probed
        allowed = set(np.concatenate([ix.ids[li] for li in probed]).tolist())
        assert set(got) <= allowed
        assert held == len(allowed)
        assert len(got) == len(set(got)) == min(40, held)
