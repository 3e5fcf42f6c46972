"""Same seed, same data, same model on every machine: the WASM kernels' only relaxed-SIMD
instruction (f32x4.relaxed_madd) runs in wasmtime's deterministic mode.

Without it a host with FMA fuses the multiply-add and a host without does not, so the
same training gave different weights (and different pictures in the UI snapshots). The
test compiles the kernels a second time with Cranelift told the host has no FMA, in a
fresh interpreter, and asserts both train bit-identical weights (one-thread epochs and a
two-thread training session).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]

TRAIN = """
import sys
import wasmtime

if sys.argv[2] == "no-fma":
    class NoFma(wasmtime.Config):
        def __init__(self):
            super().__init__()
            self.cranelift_flag_set("has_fma", "false")

    wasmtime.Config = NoFma

import numpy as np
from workbench.kernels import MLP, backend

rng = np.random.default_rng(3)
x = rng.normal(size=(256, 24)).astype(np.float32)
y = (x[:, 0] + x[:, 1] * x[:, 2] > 0).astype(np.int32)
model = MLP.create([24, 32, 16, 2], ["tanh", "sigmoid", "softmax"], seed=5)
kb = backend("wasm")
for epoch in range(4):
    kb.train_epoch(model, x, y, lr=1e-2, batch_size=32, order=rng.permutation(len(x)))
pred = kb.predict(model, x)
# a resident session whose batch steps run on two threads (kernels.c: mlp_train_epoch)
two = MLP.create([24, 64, 48, 2], ["tanh", "relu", "softmax"], seed=6)
with kb.trainer(two, x, y, batch_size=32, threads=2) as session:
    for epoch in range(3):
        session.epoch(1e-2, rng.permutation(len(x)))
np.savez(sys.argv[1], *model.weights, *model.biases, pred, *two.weights, *two.biases)
"""


def train(tmp_path: Path, host: str) -> list[np.ndarray]:
    out = tmp_path / f"{host}.npz"
    subprocess.run([sys.executable, "-c", TRAIN, str(out), host], cwd=ROOT, check=True, timeout=120)
    with np.load(out) as z:
        return [z[k] for k in sorted(z.files, key=lambda k: int(k.split("_")[1]))]


def test_training_is_bit_identical_with_and_without_host_fma(tmp_path):
    with_fma = train(tmp_path, "fma")
    without = train(tmp_path, "no-fma")
    assert len(with_fma) == len(without) == 13
    for a, b in zip(with_fma, without, strict=True):
        assert a.tobytes() == b.tobytes()
