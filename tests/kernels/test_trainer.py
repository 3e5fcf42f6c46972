"""Training sessions (``kb.trainer``): the resident WASM session against the numpy oracle,
one thread against two (bit-identical), sync/predict, bad input, a failing thread."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.kernels.test_kernels import nets
from workbench.kernels import MLP, backend
from workbench.kernels._wasm import WasmTrainer, train_threads

WASM = backend("wasm")
NP = backend("numpy")
FAST = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
STATE = ("weights", "biases", "m_w", "m_b", "v_w", "v_b")


def data(model: MLP, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, model.sizes[0])).astype(np.float32)
    if model.loss == "mse":
        return x, rng.standard_normal((n, model.sizes[-1])).astype(np.float32)
    return x, rng.integers(0, model.sizes[-1], n)


def assert_same_state(a: MLP, b: MLP) -> None:
    assert a.step == b.step
    for name in STATE:
        for u, v in zip(getattr(a, name), getattr(b, name), strict=True):
            assert u.tobytes() == v.tobytes(), name


@FAST
@given(
    model=nets(),
    n=st.integers(1, 50),
    batch=st.integers(1, 13),
    threads=st.sampled_from([1, 2]),
    seed=st.integers(0, 2**16),
)
def test_session_matches_numpy(model: MLP, n: int, batch: int, threads: int, seed: int) -> None:
    """Three epochs in a resident session (1 or 2 threads) against the numpy oracle."""
    x, y = data(model, n, seed)
    rng = np.random.default_rng(seed + 1)
    m1, m2 = model.copy(), model.copy()
    with WASM.trainer(m1, x, y, batch_size=batch, threads=threads) as tr:
        assert tr.threads == threads
        for _ in range(3):
            order = rng.permutation(n)
            r1 = tr.epoch(1e-3, order)
            r2 = NP.train_epoch(m2, x, y, 1e-3, batch_size=batch, order=order)
            assert r1.loss == pytest.approx(r2.loss, rel=1e-4, abs=1e-5)
            assert r1.accuracy == r2.accuracy
        np.testing.assert_allclose(tr.predict(x), NP.predict(m2, x), rtol=1e-3, atol=2e-5)
    assert m1.step == m2.step == 3 * -(-n // batch)
    for name in STATE:
        for a, b in zip(getattr(m1, name), getattr(m2, name), strict=True):
            np.testing.assert_allclose(a, b, rtol=2e-3, atol=5e-5, err_msg=name)
    for li, t in enumerate(model.trainable):
        if not t:
            np.testing.assert_array_equal(m1.weights[li], model.weights[li])


@pytest.mark.parametrize(
    "sizes, acts, loss, opt, batch",
    [
        ([64, 128, 64, 10], None, None, "adam", 32),
        ([20, 33, 7, 5], ["tanh", "sigmoid", "softmax"], None, "momentum", 9),
        ([12, 17, 3], ["relu", "linear"], "mse", "sgd", 1),  # one-row batches: part 1 idle
    ],
)
def test_two_threads_bit_identical_to_one_and_to_train_epoch(sizes, acts, loss, opt, batch):
    """The batch step is split in fixed parts, so thread count never changes a bit."""
    base = MLP.create(sizes, acts, loss=loss, optimizer=opt, seed=4)
    base.trainable = [i > 0 or len(sizes) == 3 for i in range(len(sizes) - 1)]
    x, y = data(base, 203, 9)  # 203 rows: a partial last batch
    models = {k: base.copy() for k in ("one", "two", "plain")}
    orders = [np.random.default_rng(e).permutation(203) for e in range(4)]
    results = {}
    for key, threads in (("one", 1), ("two", 2)):
        with WASM.trainer(models[key], x, y, batch_size=batch, threads=threads) as tr:
            results[key] = [tr.epoch(1e-2, o) for o in orders]
            assert tr.epochs_by_threads[threads] == 4
    results["plain"] = [
        WASM.train_epoch(models["plain"], x, y, 1e-2, batch_size=batch, order=o) for o in orders
    ]
    assert results["one"] == results["two"] == results["plain"]
    assert_same_state(models["one"], models["two"])
    assert_same_state(models["one"], models["plain"])
    assert not np.array_equal(models["one"].weights[-1], base.weights[-1])  # it trained


def test_predict_and_sync_leave_training_unchanged() -> None:
    model = MLP.create([10, 40, 40, 4], seed=1)
    x, y = data(model, 300, 2)
    a, b = model.copy(), model.copy()
    orders = [np.random.default_rng(e).permutation(300) for e in range(3)]
    with WASM.trainer(a, x, y, batch_size=16, threads=2) as tr:
        for o in orders:
            tr.epoch(0.01, o)
            live = tr.predict(x[:50])  # resident weights, no sync
            np.testing.assert_allclose(live, WASM.predict(tr.sync(), x[:50]), rtol=1e-6)
    with WASM.trainer(b, x, y, batch_size=16, threads=2) as tr:
        for o in orders:
            tr.epoch(0.01, o)
    assert_same_state(a, b)


def test_new_inputs_each_epoch() -> None:
    """``epoch(x=...)`` replaces the rows (reconstruction training masks them per epoch)."""
    model = MLP.create([6, 8, 6], ["relu", "linear"], loss="mse", seed=0)
    x, _ = data(model, 40, 1)
    x2 = x * 0.5
    a, b = model.copy(), model.copy()
    with WASM.trainer(a, x, x, batch_size=8) as tr:
        tr.epoch(0.01, None)
        tr.epoch(0.01, None, x=x2)
    NP.train_epoch(b, x, x, 0.01, batch_size=8)
    NP.train_epoch(b, x2, x, 0.01, batch_size=8)
    for u, v in zip(a.weights, b.weights, strict=True):
        np.testing.assert_allclose(u, v, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("be", [WASM, NP], ids=["wasm", "numpy"])
def test_session_bad_inputs(be) -> None:
    model = MLP.create([4, 3, 2], seed=0)
    x, y = np.ones((5, 4)), np.zeros(5, int)
    with pytest.raises(ValueError, match="3 features"):
        be.trainer(model, np.ones((5, 3)), y)
    with pytest.raises(ValueError, match="at least 1"):
        be.trainer(model, x, y, batch_size=0)
    with be.trainer(model, x, y, batch_size=2) as tr:
        with pytest.raises(ValueError, match="permutation"):
            tr.epoch(0.1, np.array([0, 0, 1, 2, 3]))
        with pytest.raises(ValueError, match="permutation"):
            tr.epoch(0.1, np.array([0, 1, 2, 3, 5]))
        with pytest.raises(ValueError, match="positive"):
            tr.epoch(float("nan"))
        with pytest.raises(ValueError, match=r"expected shape \(5, 4\)"):
            tr.epoch(0.1, None, x=np.ones((4, 4)))
        with pytest.raises(ValueError, match="NaN"):
            tr.epoch(0.1, None, x=np.full((5, 4), np.nan))
        assert tr.epoch(0.1).samples == 5  # still usable after the refusals
    with pytest.raises(ValueError, match="threads: 1 or 2"):
        WASM.trainer(model, x, y, threads=3)


def test_failing_second_thread_raises_and_frees_memory() -> None:
    """A trap on one thread must not leave the other waiting at a barrier forever."""
    model = MLP.create([16, 32, 4], seed=0)
    x, y = data(model, 64, 0)
    ctx = WASM.rt.ctx()
    used = dict(ctx.arena._used)
    tr = WASM.trainer(model, x, y, batch_size=8, threads=2)
    assert isinstance(tr, WasmTrainer)

    def boom(*args):
        raise RuntimeError("thread 1 failed")

    tr._sib.call = boom  # type: ignore[union-attr]
    with pytest.raises(RuntimeError, match="thread 1 failed"):
        tr.epoch(0.01)
    tr.close()
    assert ctx.arena._used == used
    with pytest.raises(RuntimeError, match="closed"):
        tr.epoch(0.01)


def test_thread_choice(monkeypatch) -> None:
    assert train_threads([64, 128, 64, 10], 32, 2) == 2
    assert train_threads([64, 128, 64, 10], 32, 1) == 1  # one lane: one thread
    assert train_threads([6, 4, 3], 32, 2) == 1  # too small to pay for the barriers
    monkeypatch.setenv("WORKBENCH_TRAIN_THREADS", "1")
    assert train_threads([64, 128, 64, 10], 32, 2) == 1
    monkeypatch.setenv("WORKBENCH_TRAIN_THREADS", "2")
    assert train_threads([6, 4, 3], 32, 1) == 2


def test_adaptive_session_tries_both_and_trains_identically(monkeypatch) -> None:
    monkeypatch.delenv("WORKBENCH_TRAIN_THREADS", raising=False)
    if WASM.threads < 2:
        pytest.skip("one lane: training never uses a second thread")
    model = MLP.create([64, 128, 64, 10], seed=3)
    x, y = data(model, 256, 3)
    a, b = model.copy(), model.copy()
    orders = [np.random.default_rng(e).permutation(256) for e in range(10)]
    with WASM.trainer(a, x, y, batch_size=32) as tr:
        assert tr.adaptive
        for o in orders:
            tr.epoch(1e-3, o)
        assert tr.epochs_by_threads[1] >= 1 and tr.epochs_by_threads[2] >= 1
    with WASM.trainer(b, x, y, batch_size=32, threads=1) as tr:
        for o in orders:
            tr.epoch(1e-3, o)
    assert_same_state(a, b)


@FAST
@given(model=nets(), seed=st.integers(0, 2**16), shrink=st.floats(0.5, 1.0))
def test_decay_scales_trainable_weights_where_they_live(model: MLP, seed: int, shrink: float):
    """L2 weight decay between epochs: the resident WASM session and the plain numpy
    session shrink the same arrays (trainable weights only) by the same float32 factor."""
    x, y = data(model, 9, seed)
    if len(model.weights) > 1:
        model.trainable[0] = False
    before = model.copy()
    for kb in (WASM, NP):
        m = model.copy()
        with kb.trainer(m, x, y, batch_size=4) as tr:
            tr.decay(shrink)
        for i, (w, w0) in enumerate(zip(m.weights, before.weights, strict=True)):
            want = w0 * np.float32(shrink) if m.trainable[i] else w0
            assert w.tobytes() == want.astype(np.float32).tobytes(), (kb.name, i)
        for b, b0 in zip(m.biases, before.biases, strict=True):
            assert b.tobytes() == b0.tobytes()
