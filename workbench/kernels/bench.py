"""WASM kernels against numpy, measured in one run (``workbench bench kernels``).

numpy is measured the way users run it: in a subprocess with ``OPENBLAS_CORETYPE`` and
``OPENBLAS_L2_SIZE`` removed from the environment (this machine class sets them and they
slow OpenBLAS down). ``ratio`` is numpy time / wasm time, so > 1 means WASM is faster.
When ``faiss`` (faiss-cpu) is importable, its exact ``IndexFlatIP`` and 8-bit
``IndexScalarQuantizer`` are timed the same way in another subprocess, and the search
entries gain ``faiss`` times and ``ratio_faiss`` (faiss time / wasm time).

    python benchmarks/kernels.py [--json] [--quick]
    python -m workbench.kernels.bench [--json] [--quick]
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

THROTTLE_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
MATMUL_SIZES = (64, 256, 1024)
MLP_SIZES = [128, 64, 32, 10]
DIM = 384


def time_runs(fn: Callable[[], Any], repeat: int, min_time: float = 0.0) -> list[float]:
    """Wall times of ``fn`` over at least ``repeat`` runs and ``min_time`` seconds (after
    one warm-up), sorted."""
    fn()
    times: list[float] = []
    total = 0.0
    while len(times) < repeat or total < min_time:
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
        total += times[-1]
    return sorted(times)


def _mt(quick: bool) -> float:
    """Seconds of repeated runs behind each figure (the best run is kept): enough to
    catch a quiet moment of a shared host; numpy, faiss and wasm get the same window."""
    return 0.0 if quick else 1.0


def best_time(fn: Callable[[], Any], repeat: int, min_time: float = 0.0) -> float:
    """Best wall time of ``fn`` over ``repeat`` runs (after one warm-up)."""
    return time_runs(fn, repeat, min_time)[0]


def _data(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    d: dict[str, np.ndarray] = {}
    for s in MATMUL_SIZES:
        d[f"a{s}"] = rng.standard_normal((s, s), dtype=np.float32)
        d[f"b{s}"] = rng.standard_normal((s, s), dtype=np.float32)
    d["mlp_x"] = rng.standard_normal((20000, MLP_SIZES[0]), dtype=np.float32)
    d["mlp_y"] = rng.integers(0, MLP_SIZES[-1], 20000)
    d["order"] = rng.permutation(20000)
    for n, key in ((10_000, "m10k"), (100_000, "m100k")):
        m = rng.standard_normal((n, DIM), dtype=np.float32)
        d[key] = m / np.linalg.norm(m, axis=1, keepdims=True)
    d["queries"] = rng.standard_normal((64, DIM), dtype=np.float32)
    return d


def numpy_topk(m: np.ndarray, q: np.ndarray, k: int) -> np.ndarray:
    """Brute-force float32 inner-product top-k, the way a numpy user writes it."""
    s = m @ q
    i = np.argpartition(-s, k)[:k]
    return i[np.argsort(-s[i])]


def measure_numpy(quick: bool = False) -> dict[str, Any]:
    """The numpy side (run in the unthrottled subprocess)."""
    from . import backend
    from .mlp import MLP

    nb = backend("numpy")
    d = _data()
    out: dict[str, Any] = {"blas": blas_info()}
    for s in MATMUL_SIZES:
        a, b = d[f"a{s}"], d[f"b{s}"]
        out[f"matmul_{s}"] = best_time(
            lambda a=a, b=b: a @ b, 3 if quick else 10, 0.2 if quick else 3
        )  # same window as the wasm side
    model = MLP.create(MLP_SIZES, optimizer="adam", seed=0)
    n = 4000 if quick else 20000
    x, y = d["mlp_x"][:n], d["mlp_y"][:n]
    order = np.argsort(d["order"][:n])  # a permutation of range(n)
    out["mlp_epoch"] = best_time(
        lambda: nb.train_epoch(model, x, y, 1e-3, batch_size=32, order=order),
        1 if quick else 3,
        _mt(quick),
    )
    out["mlp_n"] = n
    q = d["queries"][0]
    out["search_f32_10k"] = best_time(
        lambda: numpy_topk(d["m10k"], q, 10), 5 if quick else 30, _mt(quick)
    )
    out["search_int8_100k"] = best_time(
        lambda: numpy_topk(d["m100k"], q, 10), 3 if quick else 15, _mt(quick)
    )
    qs = d["queries"]
    out["search_100k_batch64"] = best_time(
        lambda: np.argpartition(-(qs @ d["m100k"].T), 10, axis=1)[:, :10],
        2 if quick else 5,
        _mt(quick),
    )
    return out


def blas_info() -> str:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown (threadpoolctl not installed)"
    parts = [
        f"{i.get('internal_api')} {i.get('version')} {i.get('architecture')} "
        f"threads={i.get('num_threads')}"
        for i in threadpool_info()
        if i.get("user_api") == "blas"
    ]
    return "; ".join(parts) or "no BLAS found"


def measure_faiss(quick: bool = False) -> dict[str, Any]:
    """The faiss-cpu side (run in its own unthrottled subprocess); {} if not installed."""
    try:
        import faiss
    except ImportError:
        return {}
    d = _data()
    q, qs = d["queries"][:1], d["queries"]
    out: dict[str, Any] = {"version": faiss.__version__, "threads": faiss.omp_get_max_threads()}
    with contextlib.suppress(Exception):
        out["simd"] = faiss.SIMDConfig.get_level_name()
    flat10 = faiss.IndexFlatIP(DIM)
    flat10.add(d["m10k"])
    out["search_f32_10k"] = best_time(lambda: flat10.search(q, 10), 5 if quick else 30, _mt(quick))
    flat = faiss.IndexFlatIP(DIM)
    flat.add(d["m100k"])
    sq8 = faiss.IndexScalarQuantizer(DIM, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT)
    sq8.train(d["m100k"])
    sq8.add(d["m100k"])
    out["flat_100k"] = best_time(lambda: flat.search(q, 10), 3 if quick else 15, _mt(quick))
    out["sq8_100k"] = best_time(lambda: sq8.search(q, 10), 3 if quick else 15, _mt(quick))
    out["flat_100k_batch64"] = best_time(lambda: flat.search(qs, 10), 2 if quick else 5, _mt(quick))
    out["sq8_100k_batch64"] = best_time(lambda: sq8.search(qs, 10), 2 if quick else 5, _mt(quick))
    exact = flat.search(qs, 10)[1]
    approx = sq8.search(qs, 10)[1]
    out["sq8_recall_at_10"] = float(
        np.mean([len(set(a) & set(b)) / 10 for a, b in zip(approx, exact, strict=True)])
    )
    return out


def _peer(flag: str, quick: bool) -> dict[str, Any]:
    """Run one peer (``--numpy-peer`` / ``--faiss-peer``) with the throttle vars unset."""
    env = {k: v for k, v in os.environ.items() if k not in THROTTLE_VARS}
    cmd = [sys.executable, "-m", "workbench.kernels.bench", flag]
    if quick:
        cmd.append("--quick")
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    return json.loads(res.stdout)


def run(quick: bool = False) -> dict[str, Any]:
    """Measure everything; returns the JSON-able report."""
    from . import backend
    from ._wasm import WasmBackend
    from .mlp import MLP

    peer = _peer("--numpy-peer", quick)
    fai = _peer("--faiss-peer", quick)
    wb = backend("wasm")
    w1 = WasmBackend(threads=1)
    d = _data()
    rep: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "wasm_threads": wb.threads},
        "numpy_blas": peer["blas"],
        "numpy_env_unset": list(THROTTLE_VARS),
        "timing": "each figure is the best run of a window of repeated runs (matmul 3 s, "
        "others 1 s, same for every peer); matmul also gives the median"
        if not quick
        else "quick: best of a few runs",
    }
    # best of several: the host's other tenants make single short runs noisy, and a
    # higher peak only makes the matmul_1024 bar harder
    peak = max(wb.peak_gflops() for _ in range(5))
    one_core = max(w1.peak_gflops() for _ in range(3))
    rep["wasm_peak_gflops"] = {}  # filled below (keeps its place in the JSON)

    def entry(key: str, wasm_s: float, **extra: Any) -> None:
        rep[key] = {"wasm": wasm_s, "numpy": peer[key], "ratio": peer[key] / wasm_s, **extra}

    for s in MATMUL_SIZES:
        a, b = d[f"a{s}"], d[f"b{s}"]
        # Best of many runs over a few seconds: on a shared host (other tenants' vCPUs)
        # single runs swing by 30-40% while a register-only loop barely moves; the
        # median is reported next to the best.
        runs = time_runs(lambda a=a, b=b: wb.matmul(a, b), 3 if quick else 10, 0.2 if quick else 3)
        t2, med = runs[0], runs[len(runs) // 2]
        t1 = best_time(lambda a=a, b=b: w1.matmul(a, b), 2 if quick else 5, 0.1 if quick else 1)
        fl = 2 * s**3 / 1e9
        entry(
            f"matmul_{s}",
            t2,
            unit="s",
            gflops={
                "wasm": fl / t2,
                "wasm_median": fl / med,
                "wasm_1thread": fl / t1,
                "numpy": fl / peer[f"matmul_{s}"],
            },
            wasm_1thread_s=t1,
            wasm_runs=len(runs),
        )
    # measure the peak again after the matmuls and keep the higher (stricter) figure
    peak = max(peak, *(wb.peak_gflops() for _ in range(3)))
    rep["wasm_peak_gflops"].update(all_cores=peak, one_core=one_core)
    rep["matmul_1024"]["pct_of_wasm_peak"] = 100 * rep["matmul_1024"]["gflops"]["wasm"] / peak

    n = peer["mlp_n"]
    model = MLP.create(MLP_SIZES, optimizer="adam", seed=0)
    x, y = d["mlp_x"][:n], d["mlp_y"][:n]
    order = np.argsort(d["order"][:n])
    tw = best_time(
        lambda: wb.train_epoch(model, x, y, 1e-3, batch_size=32, order=order), 3, _mt(quick)
    )
    rep["mlp_epoch"] = {
        "wasm": n / tw,
        "numpy": n / peer["mlp_epoch"],
        "ratio": peer["mlp_epoch"] / tw,
        "unit": "samples/s",
        "network": "128-64-32-10 relu/softmax, batch 32, adam",
    }

    q = d["queries"][0]
    ix10 = wb.index(d["m10k"], quantized=False)
    entry(
        "search_f32_10k",
        best_time(lambda: wb.search(ix10, q, 10), 5 if quick else 30, _mt(quick)),
        unit="s/query",
    )
    ix100 = wb.index(d["m100k"], quantized=True)
    t8 = best_time(lambda: wb.search(ix100, q, 10), 3 if quick else 15, _mt(quick))
    qs = d["queries"]
    exact = np.argsort(-(qs @ d["m100k"].T), axis=1)[:, :10]
    approx = wb.search(ix100, qs, 10)[1]
    recall = float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(approx, exact, strict=True)]))
    tb = best_time(lambda: wb.search(ix100, qs, 10), 2 if quick else 5, _mt(quick))
    entry(
        "search_int8_100k",
        t8,
        unit="s/query",
        recall_at_10=recall,
        batch64={"wasm": tb, "numpy": peer["search_100k_batch64"]},
    )
    rep["search_int8_100k"]["batch64"]["ratio"] = peer["search_100k_batch64"] / tb
    if fai:
        rep["faiss"] = {k: fai[k] for k in ("version", "threads", "simd") if k in fai}
        e = rep["search_f32_10k"]
        e["faiss"] = fai["search_f32_10k"]
        e["ratio_faiss"] = fai["search_f32_10k"] / e["wasm"]
        e = rep["search_int8_100k"]
        e["faiss"] = {"flat": fai["flat_100k"], "sq8": fai["sq8_100k"]}
        e["ratio_faiss"] = {"flat": fai["flat_100k"] / t8, "sq8": fai["sq8_100k"] / t8}
        e["faiss_sq8_recall_at_10"] = fai["sq8_recall_at_10"]
        e["batch64"]["faiss"] = {"flat": fai["flat_100k_batch64"], "sq8": fai["sq8_100k_batch64"]}
        e["batch64"]["ratio_faiss"] = {
            "flat": fai["flat_100k_batch64"] / tb,
            "sq8": fai["sq8_100k_batch64"] / tb,
        }
    rep["bars"] = {
        "matmul_1024_ge_60pct_peak": rep["matmul_1024"]["pct_of_wasm_peak"] >= 60,
        "mlp_epoch_ge_1.2x": rep["mlp_epoch"]["ratio"] >= 1.2,
        "search_int8_100k_ge_1.5x_recall_ge_0.99": rep["search_int8_100k"]["ratio"] >= 1.5
        and recall >= 0.99,
    }
    return rep


def format_report(rep: dict[str, Any]) -> str:
    """Human-readable table of a ``run()`` report."""
    lines = [
        f"numpy BLAS: {rep['numpy_blas']}  (env unset for numpy: {', '.join(THROTTLE_VARS)})",
        f"wasm peak (register-only relaxed FMA): {rep['wasm_peak_gflops']['all_cores']:.1f} "
        f"GFLOP/s all cores, {rep['wasm_peak_gflops']['one_core']:.1f} one core",
        f"{'kernel':<18}{'wasm':>14}{'numpy':>14}{'ratio':>8}  notes",
    ]
    for s in MATMUL_SIZES:
        e = rep[f"matmul_{s}"]
        g = e["gflops"]
        note = f"median {g['wasm_median']:.1f}; 1 thread {g['wasm_1thread']:.1f} GFLOP/s"
        if s == 1024:
            note += f"; {e['pct_of_wasm_peak']:.0f}% of wasm peak"
        lines.append(
            f"{'matmul_' + str(s):<18}{g['wasm']:>9.1f} GF/s{g['numpy']:>9.1f} GF/s"
            f"{e['ratio']:>8.2f}  {note}"
        )
    e = rep["mlp_epoch"]
    lines.append(
        f"{'mlp_epoch':<18}{e['wasm']:>10.0f} s/s{e['numpy']:>10.0f} s/s{e['ratio']:>8.2f}"
    )
    for key in ("search_f32_10k", "search_int8_100k"):
        e = rep[key]
        note = f"recall@10 {e['recall_at_10']:.3f}" if "recall_at_10" in e else ""
        if "batch64" in e:
            b = e["batch64"]
            note += f"; 64 queries: wasm {b['wasm'] * 1e3:.1f} ms, numpy {b['numpy'] * 1e3:.1f} ms"
        lines.append(
            f"{key:<18}{e['wasm'] * 1e3:>11.3f} ms{e['numpy'] * 1e3:>11.3f} ms{e['ratio']:>8.2f}"
            f"  {note}"
        )
    if "faiss" in rep:
        f = rep["faiss"]
        lines.append(
            f"faiss-cpu {f['version']} ({f.get('simd', '?')}, {f['threads']} threads), "
            "ratio = faiss time / wasm time:"
        )
        e = rep["search_f32_10k"]
        lines.append(
            f"  search_f32_10k    IndexFlatIP {e['faiss'] * 1e3:.3f} ms "
            f"(ratio {e['ratio_faiss']:.2f})"
        )
        e = rep["search_int8_100k"]
        fl, rf, b = e["faiss"], e["ratio_faiss"], e["batch64"]
        lines.append(
            f"  search_int8_100k  IndexFlatIP {fl['flat'] * 1e3:.3f} ms (ratio {rf['flat']:.2f}), "
            f"SQ8 {fl['sq8'] * 1e3:.3f} ms (ratio {rf['sq8']:.2f}, "
            f"recall@10 {e['faiss_sq8_recall_at_10']:.3f})"
        )
        lines.append(
            f"  64 queries        IndexFlatIP {b['faiss']['flat'] * 1e3:.1f} ms "
            f"(ratio {b['ratio_faiss']['flat']:.2f}), SQ8 {b['faiss']['sq8'] * 1e3:.1f} ms "
            f"(ratio {b['ratio_faiss']['sq8']:.2f})"
        )
    else:
        lines.append("faiss-cpu: not installed (skipped)")
    lines.append(
        "bars: " + ", ".join(f"{k}={'met' if v else 'NOT met'}" for k, v in rep["bars"].items())
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    import argparse

    p = argparse.ArgumentParser(description="WASM kernels vs numpy (and faiss-cpu if installed)")
    p.add_argument("--json", action="store_true", help="print the JSON report")
    p.add_argument("--quick", action="store_true", help="smaller, faster run")
    p.add_argument("--numpy-peer", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--faiss-peer", action="store_true", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.numpy_peer:
        print(json.dumps(measure_numpy(a.quick)))
        return
    if a.faiss_peer:
        print(json.dumps(measure_faiss(a.quick)))
        return
    rep = run(a.quick)
    print(json.dumps(rep, indent=2) if a.json else format_report(rep))


if __name__ == "__main__":
    main()
