"""Training: convergence, determinism, schedules, early stopping, checkpoints, transfer."""

from __future__ import annotations

import numpy as np
import pytest

from tests.neural.helpers import SAMPLES, blobs, make_spec
from workbench.neural import Dataset, load_dataset, train
from workbench.neural.train import list_checkpoints

BACKENDS = ["numpy", "wasm"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_converges_on_separable_blobs(blob_ds, spec, backend):
    seen = []
    r = train(spec, blob_ds, backend=backend, on_epoch=seen.append)
    assert r.epochs_run == 12 and [e.epoch for e in seen] == list(range(1, 13))
    assert r.val_accuracy >= 0.95 and r.accuracy >= 0.95
    assert seen[-1].loss < seen[0].loss
    assert r.artifact.metrics["n_val"] == 48 and r.artifact.metrics["n_train"] == 192
    assert r.backend == backend and r.training_time_s > 0


@pytest.mark.parametrize("backend", BACKENDS)
def test_same_seed_same_result(blob_ds, spec, backend):
    a, b = (train(spec, blob_ds, backend=backend) for _ in range(2))
    for wa, wb in zip(a.artifact.weights, b.artifact.weights, strict=True):
        np.testing.assert_array_equal(wa, wb)
    assert [h.loss for h in a.history] == [h.loss for h in b.history]
    c = train(make_spec(seed=8), blob_ds, backend=backend)
    assert not np.array_equal(c.artifact.weights[0], a.artifact.weights[0])


def test_step_decay_lr_per_epoch(blob_ds):
    s = make_spec(epochs=7, lr_schedule={"type": "step_decay", "step_size": 3, "gamma": 0.5})
    r = train(s, blob_ds, backend="numpy")
    assert [h.lr for h in r.history] == [0.02] * 3 + [0.01] * 3 + [0.005]


def test_early_stopping_restores_best(blob_ds):
    s = make_spec(epochs=200, early_stopping={"patience": 3, "min_delta": 0.0})
    r = train(s, blob_ds, backend="numpy")
    assert r.stopped_early and r.epochs_run < 200
    assert r.epochs_run == r.best_epoch + 3
    best = min(h.val_loss for h in r.history)
    assert r.history[r.best_epoch - 1].val_loss == best
    assert r.val_loss == pytest.approx(best, rel=1e-6)


def test_cancel_is_clean(blob_ds, spec):
    calls = []
    r = train(
        spec, blob_ds, backend="numpy", should_stop=lambda: len(calls) >= 4, on_epoch=calls.append
    )
    assert r.cancelled and r.epochs_run == 4 and r.artifact.metrics["epochs_run"] == 4


@pytest.mark.parametrize("backend", BACKENDS)
def test_resume_equals_uninterrupted(tmp_path, blob_ds, backend):
    s = make_spec(epochs=10, checkpoint_every=2, early_stopping={"patience": 50})
    full = train(s, blob_ds, backend=backend)
    d = tmp_path / "ck"
    n = []
    part = train(
        s,
        blob_ds,
        backend=backend,
        checkpoint_dir=d,
        should_stop=lambda: len(n) >= 5,
        on_epoch=n.append,
    )
    assert part.cancelled and part.epochs_run == 5
    assert [p.name for p in list_checkpoints(d)] == ["ckpt-000004.npz", "ckpt-000005.npz"]
    done = train(s, blob_ds, backend=backend, checkpoint_dir=d, resume=True)
    assert done.resumed_from == 5 and done.epochs_run == 10
    assert [h.epoch for h in done.history] == list(range(1, 11))
    for wa, wb in zip(full.artifact.weights, done.artifact.weights, strict=True):
        if backend == "numpy":
            np.testing.assert_array_equal(wa, wb)
        else:
            np.testing.assert_allclose(wa, wb, rtol=1e-5, atol=1e-6)
    assert len(list_checkpoints(d)) == 2  # keeps the last two


def test_corrupt_latest_checkpoint_falls_back(tmp_path, blob_ds):
    s = make_spec(epochs=8, checkpoint_every=2)
    full = train(s, blob_ds, backend="numpy")
    d = tmp_path / "ck"
    n = []
    train(
        s,
        blob_ds,
        backend="numpy",
        checkpoint_dir=d,
        should_stop=lambda: len(n) >= 6,
        on_epoch=n.append,
    )
    latest = list_checkpoints(d)[-1]
    assert latest.name == "ckpt-000006.npz"
    latest.write_bytes(latest.read_bytes()[:100])  # truncated
    with pytest.warns(RuntimeWarning, match="ckpt-000006.npz is unreadable"):
        done = train(s, blob_ds, backend="numpy", checkpoint_dir=d, resume=True)
    assert done.resumed_from == 4
    for wa, wb in zip(full.artifact.weights, done.artifact.weights, strict=True):
        np.testing.assert_array_equal(wa, wb)


def test_resume_refuses_other_data(tmp_path, blob_ds):
    s = make_spec(epochs=4, checkpoint_every=2)
    train(s, blob_ds, backend="numpy", checkpoint_dir=tmp_path)
    X, y = blobs(seed=5)
    other = Dataset.from_arrays(X, y, s)
    with pytest.raises(ValueError, match="different spec, data"):
        train(s, other, backend="numpy", checkpoint_dir=tmp_path, resume=True)


def test_reconstruction_pretraining_then_transfer_with_freeze():
    X, y = blobs(n=300, d=8, k=3, seed=2)
    rec_spec = make_spec(
        (8, 6, 8),
        out="linear",
        objective="reconstruction",
        mask_ratio=0.25,
        epochs=25,
        learning_rate=0.01,
    )
    unl = Dataset.from_arrays(X, None, rec_spec)
    assert unl.y is None
    pre = train(rec_spec, unl, backend="wasm")
    assert pre.history[-1].val_loss < 0.6 * pre.history[0].val_loss
    clf = make_spec((8, 6, 3), epochs=10)
    ds = Dataset.from_arrays(X, y, clf)
    ft = train(clf, ds, backend="wasm", init_from=pre.artifact, freeze_layers=1)
    assert ft.transferred_layers == 1
    np.testing.assert_array_equal(ft.artifact.weights[0], pre.artifact.weights[0])
    np.testing.assert_array_equal(ft.artifact.biases[0], pre.artifact.biases[0])
    assert not np.array_equal(ft.artifact.weights[1], pre.artifact.weights[1][:, :3])
    assert ft.val_accuracy >= 0.9
    assert ft.artifact.train_info["init_from"] == {"name": "tiny", "layers": 1}
    with pytest.raises(ValueError, match="freeze_layers must be in"):
        train(clf, ds, freeze_layers=2)


def test_regression_objective():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 4)).astype(np.float32)
    y = X @ np.array([1.0, -2.0, 0.5, 0.0], np.float32) + 0.5
    s = make_spec((4, 8, 1), out="linear", epochs=30, learning_rate=0.02)
    r = train(s, Dataset.from_arrays(X, y, s), backend="numpy")
    assert r.accuracy is None and r.val_accuracy is None
    assert r.val_loss < 0.2 * float(np.var(y))
    assert r.artifact.metrics["val_mse"] == r.val_loss


def test_trains_on_sample_json_records():
    s = make_spec((32, 16, 3), epochs=40, learning_rate=0.02, batch_size=4)
    ds = load_dataset(SAMPLES / "code_review.json", s)
    r = train(s, ds, backend="numpy")
    assert r.artifact.metrics["n_val"] == 3  # uses the file's validationData
    assert r.accuracy == 1.0
