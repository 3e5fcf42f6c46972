"""The committed kernels.wasm is what wasm/build.py makes from wasm/kernels.c."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "workbench" / "kernels" / "kernels.wasm"


@pytest.mark.skipif(importlib.util.find_spec("ziglang") is None, reason="ziglang not installed")
def test_rebuild_matches_committed_binary(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT / "wasm"))
    try:
        import build  # wasm/build.py
    finally:
        sys.path.pop(0)
    out = build.build(tmp_path / "kernels.wasm")
    assert out.read_bytes() == COMMITTED.read_bytes(), (
        "workbench/kernels/kernels.wasm is stale: run `python wasm/build.py`"
    )


def test_committed_binary_exports_every_kernel() -> None:
    import wasmtime

    module = wasmtime.Module(wasmtime.Engine(), COMMITTED.read_bytes())
    names = {e.name for e in module.exports}
    assert {
        "__stack_pointer", "heap_base", "matmul", "quantize_rows", "dequantize_rows",
        "search_f32", "search_i8", "mlp_train_epoch", "mlp_predict", "peak_fma",
    } <= names  # fmt: skip
    # the only import is the linear memory, shared so two instances can train in it at once
    (imp,) = module.imports
    assert (imp.module, imp.name) == ("env", "memory")
    assert imp.type.is_shared


def test_kernels_package_does_not_import_textual() -> None:
    import subprocess

    code = "import sys, workbench.kernels; sys.exit('textual' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT).returncode == 0
