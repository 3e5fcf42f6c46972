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
