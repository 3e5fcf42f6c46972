"""The kernels the IVF index uses (nearest centroid, int8 top-k over several lists)
against a plain numpy computation, on both backends."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.kernels import backend

FAST = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
BACKENDS = ["wasm", "numpy"]


@pytest.mark.parametrize("name", BACKENDS)
@FAST
@given(
    n=st.integers(1, 300),
    c=st.integers(1, 40),
    d=st.integers(1, 70),
    seed=st.integers(0, 2**16),
)
def test_nearest_matches_brute_force_l2(name: str, n: int, c: int, d: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d)).astype(np.float32)
    cents = rng.standard_normal((c, d)).astype(np.float32)
    labels, dist = backend(name).nearest(x, cents)
    full = ((x[:, None, :].astype(np.float64) - cents[None, :, :]) ** 2).sum(-1)
    best = full.min(axis=1)
    # the chosen centroid is nearest up to float32 rounding of the expanded form
    chosen = full[np.arange(n), labels]
    assert np.all(chosen <= best + 1e-3 * (1 + best))
    np.testing.assert_allclose(dist, best, rtol=1e-3, atol=1e-3)
    margin = np.sort(full, axis=1)[:, 1] - best if c > 1 else np.full(n, np.inf)
    clear = margin > 1e-2 * (1 + best)
    np.testing.assert_array_equal(labels[clear], full.argmin(axis=1)[clear])


def _lists(
    rng: np.random.Generator, sizes: list[int], d: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    return [
        (
            rng.integers(-127, 128, (n, d), dtype=np.int8),
            (rng.random(n) + 0.01).astype(np.float32),
        )
        for n in sizes
    ]


@FAST
@given(
    sizes=st.lists(st.integers(0, 60), min_size=1, max_size=8).filter(lambda s: sum(s) > 0),
    d=st.integers(1, 50),
    k=st.integers(1, 40),
    seed=st.integers(0, 2**16),
)
def test_search_lists_wasm_matches_numpy(sizes: list[int], d: int, k: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    lists = _lists(rng, sizes, d)
    q = rng.standard_normal(d).astype(np.float32)
    k = min(k, sum(sizes))
    sw, lw, pw = backend("wasm").search_lists(lists, q, k)
    sn, ln, pn = backend("numpy").search_lists(lists, q, k)
    np.testing.assert_allclose(sw, sn, rtol=1e-5, atol=1e-5)
    # every returned (list, position) carries the score the plain computation gives it
    qc, qs = backend("numpy").quantize(q)
    for s, li, pos in zip(sw, lw, pw, strict=True):
        codes, scales = lists[li]
        want = float(codes[pos].astype(np.int64) @ qc.astype(np.int64)) * (scales[pos] * qs[0])
        assert s == pytest.approx(want, rel=1e-5, abs=1e-5)
    assert list(sw) == sorted(sw, reverse=True)
    assert len(sw) == k


@pytest.mark.parametrize("name", BACKENDS)
def test_search_lists_refuses_mismatched_lists(name: str) -> None:
    kb = backend(name)
    good = (np.zeros((3, 8), np.int8), np.ones(3, np.float32))
    with pytest.raises(ValueError, match="does not match"):
        kb.search_lists([good, (np.zeros((2, 9), np.int8), np.ones(2, np.float32))], np.ones(8), 2)
    with pytest.raises(ValueError, match="expected int8"):
        kb.search_lists([(np.zeros((3, 8), np.float32), np.ones(3, np.float32))], np.ones(8), 2)
    s, li, pos = kb.search_lists(
        [(np.zeros((0, 8), np.int8), np.ones(0, np.float32))], np.ones(8), 2
    )
    assert s.size == li.size == pos.size == 0
    with pytest.raises(ValueError, match="does not match x"):
        kb.nearest(np.ones((2, 3)), np.ones((2, 4)))


@pytest.mark.parametrize("name", BACKENDS)
@FAST
@given(
    sizes=st.lists(st.integers(0, 90), min_size=1, max_size=12),
    d=st.integers(1, 70),
    k=st.integers(1, 50),
    seed=st.integers(0, 2**16),
)
def test_resident_lists_match_a_numpy_scan_after_appends_and_removals(
    name: str, sizes: list[int], d: int, k: int, seed: int
) -> None:
    """Lists kept in the kernels' memory, grown in two appends and thinned by a mask,
    give the int8 top-k a plain numpy scan of the same rows gives (scores and rows)."""
    rng = np.random.default_rng(seed)
    kb = backend(name)
    lists = kb.resident_lists(d)
    rows: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for no, n in enumerate(sizes):
        codes, scales = np.empty((0, d), np.int8), np.empty(0, np.float32)
        if n:
            codes, scales = kb.quantize(rng.standard_normal((n, d)).astype(np.float32))
        half = n // 2
        lists.set(no, codes[:half], scales[:half])
        lists.append(no, codes[half:], scales[half:])
        keep = rng.random(n) > 0.2
        lists.keep(no, keep)
        rows[no] = (codes[keep], scales[keep])
        got_c, got_s = lists.rows(no)
        np.testing.assert_array_equal(got_c, codes[keep])
        np.testing.assert_array_equal(got_s, scales[keep])
    probed = sorted(rng.choice(len(sizes), max(1, len(sizes) // 2), replace=False).tolist())
    q = rng.standard_normal(d).astype(np.float32)
    s, li, pos = lists.search(probed, q, k)
    qc, qs = backend("numpy").quantize(q.reshape(1, -1))
    want = [
        (float(rows[no][0][p].astype(np.float32) @ qc[0].astype(np.float32))
         * float(rows[no][1][p] * qs[0]), no, p)
        for no in probed for p in range(rows[no][0].shape[0])
    ]  # fmt: skip
    want.sort(key=lambda t: (-t[0], t[1], t[2]))
    want = want[:k]
    assert len(s) == len(want)
    np.testing.assert_allclose(s, [w[0] for w in want], rtol=1e-5, atol=1e-6)
    # the rows found score as the best ones (ties may pick either of equal rows)
    qf = qc[0].astype(np.float32)
    found = zip(li.tolist(), pos.tolist(), strict=True)
    got = [
        float(rows[a][0][b].astype(np.float32) @ qf) * float(rows[a][1][b] * qs[0])
        for a, b in found
    ]
    np.testing.assert_allclose(got, [w[0] for w in want], rtol=1e-5, atol=1e-6)
    assert set(li.tolist()) <= set(probed)


def test_resident_lists_refuse_rows_of_another_dimension() -> None:
    lists = backend("wasm").resident_lists(8)
    with pytest.raises(ValueError, match="scales"):
        lists.set(0, np.zeros((3, 8), np.int8), np.ones(2, np.float32))
    with pytest.raises(ValueError, match="query"):
        lists.search([0], np.ones(5, np.float32), 3)
