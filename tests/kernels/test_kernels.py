"""WASM kernels against the numpy oracle: properties, bad inputs, memory, threads."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.kernels import MLP, KernelMemoryError, SearchIndex, backend

WASM = backend("wasm")
NP = backend("numpy")
FAST = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
U = 2.0**-24  # float32 unit roundoff

dims = st.integers(1, 40)


def arr(seed: int, *shape: int, scale: float = 1.0) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype(np.float32)


def dot_tol(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Both results are within K*u*(|a|@|b|) of the exact value; allow twice that."""
    k = a.shape[-1]
    return 2.5 * k * U * (np.abs(a).astype(np.float64) @ np.abs(b).astype(np.float64)) + 1e-30


# ---------------------------------------------------------------------- matmul


@FAST
@given(m=dims, k=dims, n=dims, seed=st.integers(0, 2**16))
def test_matmul_matches_numpy(m: int, k: int, n: int, seed: int) -> None:
    a, b = arr(seed, m, k), arr(seed + 1, k, n)
    got, want = WASM.matmul(a, b), NP.matmul(a, b)
    assert got.shape == want.shape == (m, n) and got.dtype == np.float32
    assert np.all(np.abs(got - want) <= dot_tol(a, b))


@pytest.mark.parametrize("shape", [(300, 200, 150), (7, 700, 900), (1100, 64, 9)])
def test_matmul_large_split_across_threads(shape: tuple[int, int, int]) -> None:
    m, k, n = shape
    a, b = arr(1, m, k), arr(2, k, n)
    got = WASM.matmul(a, b)
    assert np.all(np.abs(got - a @ b) <= dot_tol(a, b))


def test_matmul_vector_shapes_and_float64_input() -> None:
    a, b = np.arange(6.0).reshape(2, 3), np.arange(3.0)
    assert WASM.matmul(a, b).shape == (2,)
    np.testing.assert_allclose(WASM.matmul(a, b), a @ b, rtol=1e-6)
    assert WASM.matmul(b, b).shape == ()
    assert WASM.matmul(b, a.T).shape == (2,)
    assert WASM.matmul(a, b).dtype == np.float32


# ---------------------------------------------------------------------- quantization


@FAST
@given(
    n=dims, d=st.integers(1, 70), seed=st.integers(0, 2**16), scale=st.sampled_from([1e-3, 1, 50])
)
def test_quantize_bit_exact_and_roundtrip(n: int, d: int, seed: int, scale: float) -> None:
    x = arr(seed, n, d, scale=scale)
    x[0] = 0.0  # an all-zero row has scale 0 and codes 0
    q1, s1 = WASM.quantize(x)
    q2, s2 = NP.quantize(x)
    assert q1.dtype == np.int8 and s1.dtype == np.float32
    np.testing.assert_array_equal(q1, q2)
    np.testing.assert_array_equal(s1, s2)
    assert s1[0] == 0 and not q1[0].any()
    back = WASM.dequantize(q1, s1)
    np.testing.assert_array_equal(back, NP.dequantize(q2, s2))
    assert np.all(np.abs(back - x) <= s1[:, None] * 0.5 * (1 + 1e-5) + 1e-30)


def test_quantize_single_row() -> None:
    q, s = WASM.quantize([1.0, -2.0, 0.5])
    assert q.shape == (3,) and s.shape == (1,)
    assert q.tolist() == [64, -127, 32]
    np.testing.assert_allclose(WASM.dequantize(q, s), [1.0, -2.0, 0.5], atol=s[0])


# ---------------------------------------------------------------------- search


def check_topk(matrix, queries, k, got, want) -> None:
    gs, gi = got
    ws, wi = want
    assert gs.shape == ws.shape == (queries.shape[0], k) and gi.dtype == np.int64
    tol = dot_tol(queries, np.abs(matrix).T).max(axis=1, keepdims=True)
    assert np.all(np.abs(gs - ws) <= tol), "scores differ from the oracle"
    exact = np.einsum("qkd,qd->qk", matrix[gi].astype(np.float64), queries.astype(np.float64))
    assert np.all(np.abs(exact - gs) <= tol), "scores do not belong to the returned rows"
    assert all(len(set(r)) == k for r in gi.tolist()), "duplicate indices"
    assert np.all(np.diff(gs, axis=1) <= 0), "not sorted best first"


@FAST
@given(
    n=st.integers(1, 300),
    d=st.integers(1, 50),
    nq=st.integers(1, 4),
    kk=st.integers(1, 12),
    seed=st.integers(0, 2**16),
)
def test_search_f32_matches_numpy(n: int, d: int, nq: int, kk: int, seed: int) -> None:
    m, q = arr(seed, n, d), arr(seed + 1, nq, d)
    k = min(kk, n)
    check_topk(m, q, k, WASM.search(m, q, k), NP.search(m, q, k))


@FAST
@given(
    n=st.integers(1, 300),
    d=st.integers(1, 50),
    nq=st.integers(1, 4),
    kk=st.integers(1, 12),
    seed=st.integers(0, 2**16),
)
def test_search_int8_equals_numpy_and_full_rerank_is_exact(n, d, nq, kk, seed) -> None:
    m, q = arr(seed, n, d), arr(seed + 1, nq, d)
    k = min(kk, n)
    ws, wi = WASM.search(m, q, k, quantized=True)
    ns, ni = NP.search(m, q, k, quantized=True)
    np.testing.assert_array_equal(wi, ni)  # same int8 candidates, same f32 re-rank
    np.testing.assert_allclose(ws, ns, rtol=1e-5, atol=1e-6)
    full = WASM.search(m, q, k, quantized=True, candidates=n)
    check_topk(m, q, k, full, NP.search(m, q, k))


def test_search_ties_prefer_lower_index_and_1d_query() -> None:
    m = np.ones((50, 8), np.float32)
    s, i = WASM.search(m, np.ones(8), 5)
    assert i.tolist() == [0, 1, 2, 3, 4] and s.shape == (5,)
    s2, i2 = NP.search(m, np.ones(8), 5)
    assert i2.tolist() == [0, 1, 2, 3, 4]


def test_resident_index_recall_and_codes_only() -> None:
    rng = np.random.default_rng(3)
    m = rng.standard_normal((5000, 64)).astype(np.float32)
    q = rng.standard_normal((8, 64)).astype(np.float32)
    ix = WASM.index(m, quantized=True)
    assert isinstance(ix, SearchIndex)
    _, exact = NP.search(m, q, 10)
    _, approx = WASM.search(ix, q, 10)
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(approx, exact, strict=True)])
    assert recall >= 0.99
    # exact search on the quantized index falls back to f32 rows
    check_topk(m, q, 10, WASM.search(ix, q, 10, quantized=False), NP.search(m, q, 10))
    codes, scales = WASM.quantize(m)
    cix = WASM.index(codes=codes, scales=scales)
    cs, ci = WASM.search(cix, q, 10)
    ns, ni = NP.search(NP.index(codes=codes, scales=scales), q, 10)
    np.testing.assert_array_equal(ci, ni)
    np.testing.assert_array_equal(cs, ns)


# ---------------------------------------------------------------------- MLP

ACTS = ["relu", "tanh", "sigmoid", "linear"]


@st.composite
def nets(draw):
    hidden = draw(st.lists(st.integers(1, 20), min_size=0, max_size=2))
    n_in, n_out = draw(st.integers(1, 20)), draw(st.integers(1, 12))
    sizes = [n_in, *hidden, n_out]
    regression = draw(st.booleans())
    acts = [draw(st.sampled_from(ACTS)) for _ in hidden]
    acts.append(draw(st.sampled_from(["linear", "tanh", "sigmoid"])) if regression else "softmax")
    opt = draw(st.sampled_from(["sgd", "momentum", "adam"]))
    model = MLP.create(
        sizes, acts, loss="mse" if regression else "cross_entropy", optimizer=opt,
        seed=draw(st.integers(0, 1000)), eps=1e-4,
    )  # fmt: skip
    model.trainable = [draw(st.booleans()) for _ in acts]
    return model


@FAST
@given(
    model=nets(),
    n=st.integers(1, 60),
    batch=st.integers(1, 17),
    seed=st.integers(0, 2**16),
)
def test_train_epoch_matches_numpy(model: MLP, n: int, batch: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, model.sizes[0])).astype(np.float32)
    if model.loss == "mse":
        y = rng.standard_normal((n, model.sizes[-1])).astype(np.float32)
    else:
        y = rng.integers(0, model.sizes[-1], n)
    order = rng.permutation(n)
    m1, m2 = model.copy(), model.copy()
    r1 = WASM.train_epoch(m1, x, y, 1e-3, batch_size=batch, order=order)
    r2 = NP.train_epoch(m2, x, y, 1e-3, batch_size=batch, order=order)
    assert m1.step == m2.step == -(-n // batch)
    assert r1.loss == pytest.approx(r2.loss, rel=1e-4, abs=1e-5)
    assert r1.accuracy == r2.accuracy
    for name in ("weights", "biases", "m_w", "m_b", "v_w", "v_b"):
        for a, b in zip(getattr(m1, name), getattr(m2, name), strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-3, atol=2e-5, err_msg=name)
    for li, t in enumerate(model.trainable):
        if not t:
            np.testing.assert_array_equal(m1.weights[li], model.weights[li])
    p1, p2 = WASM.predict(m1, x), NP.predict(m1, x)
    np.testing.assert_allclose(p1, p2, rtol=1e-4, atol=1e-5)


def _train(be, seed: int) -> tuple[MLP, list[float]]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((600, 128)).astype(np.float32)
    y = (x[:, :10].argmax(axis=1)).astype(np.int64)
    model = MLP.create([128, 64, 32, 10], optimizer="adam", seed=seed)
    losses = []
    for _ in range(3):
        losses.append(be.train_epoch(model, x, y, 1e-3, order=rng.permutation(600)).loss)
    return model, losses


def test_epoch_deterministic_for_a_seed_and_learns() -> None:
    a, la = _train(WASM, 7)
    b, lb = _train(WASM, 7)
    for wa, wb in zip(a.weights, b.weights, strict=True):
        np.testing.assert_array_equal(wa, wb)
    assert la == lb and la[-1] < la[0]
    c, lc = _train(NP, 7)
    np.testing.assert_allclose(la, lc, rtol=1e-4)
    for wa, wc in zip(a.weights, c.weights, strict=True):
        np.testing.assert_allclose(wa, wc, rtol=1e-3, atol=1e-4)
    acc = WASM.predict(a, np.eye(128, dtype=np.float32)[:10]).argmax(axis=1)
    assert acc.shape == (10,)


def test_predict_many_rows_in_chunks() -> None:
    model = MLP.create([5, 4, 3], seed=2)
    x = arr(4, 1000, 5)
    p = WASM.predict(model, x)
    np.testing.assert_allclose(p, NP.predict(model, x), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-5)


def test_state_dict_roundtrip_resumes_exactly() -> None:
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((64, 6)), rng.integers(0, 3, 64)
    m = MLP.create([6, 5, 3], seed=0)
    WASM.train_epoch(m, x, y, 0.01, batch_size=8)
    resumed = MLP(**m.state_dict())
    WASM.train_epoch(m, x, y, 0.01, batch_size=8)
    WASM.train_epoch(resumed, x, y, 0.01, batch_size=8)
    assert resumed.step == m.step == 16
    for a, b in zip(m.v_w, resumed.v_w, strict=True):
        np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------------- bad inputs

BAD_MATMUL = [
    (np.ones((2, 3)), np.ones((4, 2)), "do not multiply"),
    (np.ones((2, 3), complex), np.ones((3, 2)), "not a real number"),
    (np.array([[object()]]), np.ones((1, 1)), "not a real number"),
    (np.ones((0, 3)), np.ones((3, 2)), "empty"),
    (np.full((2, 2), np.nan), np.ones((2, 2)), "NaN"),
    (np.ones((2, 2)), np.full((2, 2), np.inf), "NaN or inf"),
    (np.ones((2, 2, 2)), np.ones((2, 2)), "1-D or 2-D"),
    (np.full((2, 2), 1e300), np.ones((2, 2)), "too large"),
]


@pytest.mark.parametrize("be", [WASM, NP], ids=["wasm", "numpy"])
@pytest.mark.parametrize(("a", "b", "msg"), BAD_MATMUL)
def test_matmul_bad_inputs(be, a, b, msg) -> None:
    with pytest.raises(ValueError, match=msg):
        be.matmul(a, b)


@pytest.mark.parametrize("be", [WASM, NP], ids=["wasm", "numpy"])
def test_search_and_quantize_bad_inputs(be) -> None:
    m = np.ones((5, 4), np.float32)
    with pytest.raises(ValueError, match="larger than the number of rows"):
        be.search(m, np.ones(4), 6)
    with pytest.raises(ValueError, match="at least 1"):
        be.search(m, np.ones(4), 0)
    with pytest.raises(ValueError, match="does not match"):
        be.search(m, np.ones(3), 1)
    with pytest.raises(ValueError, match="NaN"):
        be.search(m, np.array([1, 2, np.nan, 3]), 1)
    with pytest.raises(ValueError, match="empty"):
        be.search(np.ones((0, 4)), np.ones(4), 1)
    with pytest.raises(ValueError, match="integer"):
        be.search(m, np.ones(4), 1.5)
    with pytest.raises(ValueError, match="NaN"):
        be.quantize([[1.0, np.inf]])
    with pytest.raises(ValueError, match="int8"):
        be.dequantize(np.ones((2, 2)), np.ones(2))
    with pytest.raises(ValueError, match="2 scales for 3 rows"):
        be.dequantize(np.ones((3, 2), np.int8), np.ones(2))


@pytest.mark.parametrize("be", [WASM, NP], ids=["wasm", "numpy"])
def test_mlp_bad_inputs(be) -> None:
    m = MLP.create([4, 3, 2], seed=0)
    x, y = np.ones((5, 4)), np.zeros(5, int)
    cases = [
        (dict(x=np.ones((5, 3))), "3 features"),
        (dict(y=np.array([0, 1, 2, 0, 0])), r"in \[0, 1\]"),
        (dict(y=np.zeros(4, int)), "5 integer labels"),
        (dict(y=np.full(5, 0.5)), "integers"),
        (dict(x=np.full((5, 4), np.nan)), "NaN"),
        (dict(order=np.array([0, 0, 1, 2, 3])), "permutation"),
        (dict(batch_size=0), "at least 1"),
        (dict(lr=-1.0), "positive"),
    ]
    for override, msg in cases:
        kw = dict(x=x, y=y, lr=0.1, batch_size=2, order=None) | override
        with pytest.raises(ValueError, match=msg):
            be.train_epoch(
                m, kw["x"], kw["y"], kw["lr"], batch_size=kw["batch_size"], order=kw["order"]
            )
    with pytest.raises(ValueError, match="3 features"):
        be.predict(m, np.ones((2, 3)))


def test_model_validation_messages() -> None:
    with pytest.raises(ValueError, match="softmax is only supported on the output"):
        MLP.create([3, 3, 2], ["softmax", "softmax"])
    with pytest.raises(ValueError, match="cross_entropy needs a softmax"):
        MLP.create([3, 2], ["linear"], loss="cross_entropy")
    with pytest.raises(ValueError, match="unknown 'gelu'"):
        MLP.create([3, 2], ["gelu"], loss="mse")
    with pytest.raises(ValueError, match="optimizer: unknown"):
        MLP.create([3, 2], optimizer="lion")
    with pytest.raises(ValueError, match="unknown 'tpu'"):
        backend("tpu")


# ---------------------------------------------------------------------- memory & threads


def test_memory_grows_on_demand_and_too_large_is_clear() -> None:
    be = backend("wasm", max_memory=48 * 2**20)
    ctx = be.rt.ctx()
    before = ctx.arena.size
    a = arr(1, 1500, 1500)  # ~11 MB of buffers in this thread's instance
    np.testing.assert_array_equal(be.quantize(a)[0], NP.quantize(a)[0])
    assert ctx.arena.size > before
    big = np.ones((4000, 4000), np.float32)  # 64 MB: over the 48 MiB maximum
    with pytest.raises(KernelMemoryError, match="exceeds the WASM memory maximum"):
        be.quantize(big)
    with pytest.raises(MemoryError, match="maximum of 48 MiB"):
        be.matmul(big, big)
    held = ctx.arena.alloc(30 * 2**20)  # growing past the maximum fails cleanly too
    with pytest.raises(KernelMemoryError, match="would grow to"):
        be.quantize(arr(4, 2000, 2000))
    ctx.arena.free(held)
    # nothing leaked and the backend still works
    assert not ctx.arena._used
    q, s = be.quantize(a)
    np.testing.assert_array_equal(q, NP.quantize(a)[0])


def test_two_threads_at_once_give_correct_results() -> None:
    rng = np.random.default_rng(5)
    m = rng.standard_normal((2000, 48)).astype(np.float32)
    ix = WASM.index(m, quantized=True)
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def work(seed: int) -> None:
        try:
            barrier.wait()
            for i in range(5):
                a, b = arr(seed + i, 37, 53), arr(seed + i + 100, 53, 29)
                assert np.all(np.abs(WASM.matmul(a, b) - a @ b) <= dot_tol(a, b))
                q = arr(seed + i, 3, 48)
                np.testing.assert_array_equal(
                    WASM.search(ix, q, 5)[1], NP.search(m, q, 5, quantized=True)[1]
                )
                x = arr(seed, 40, 6)
                np.testing.assert_array_equal(WASM.quantize(x)[0], NP.quantize(x)[0])
                model = MLP.create([6, 4, 3], seed=seed)
                ref = model.copy()
                y = np.arange(40) % 3
                WASM.train_epoch(model, x, y, 0.01, batch_size=8)
                NP.train_epoch(ref, x, y, 0.01, batch_size=8)
                np.testing.assert_allclose(model.weights[0], ref.weights[0], rtol=1e-4, atol=1e-6)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(s,)) for s in (10, 20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


def test_dropped_index_frees_lane_memory() -> None:
    import gc

    be = backend("wasm", max_memory=64 * 2**20)
    m = arr(9, 20000, 64)  # 5 MB of f32 rows per index
    for _ in range(30):  # 150 MB in total: only fits if dropped indices are freed
        ix = be.index(m, quantized=False)
        assert be.search(ix, m[:2], 3)[1].shape == (2, 3)
        del ix
        gc.collect()
    be.rt.on_lanes([lambda ctx: None] * be.threads)  # let queued frees run
    used = be.rt.on_lanes([lambda ctx: sum(ctx.arena._used.values())] * be.threads)
    assert sum(used) == 0
