"""IVF training time before/after: ``train()`` of workbench/memory/ivf.py at a given commit
(default: f26d836, before the training was made faster) and the working tree's, on the same
data in the same process, one after the other; then each index's recall@10 on fresh
queries (search path of vector_ivf.py: probed lists, 40 int8 candidates, f32 re-rank).

Data as benchmarks/vector_ivf.py (clustered 384-d, 1,000 centres, noise 1.25).

    python benchmarks/ivf_training.py [--n 100000] [--before COMMIT] [--order new,old]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from vector_ivf import K, make_data, recall, truth  # noqa: E402

from workbench.kernels import backend  # noqa: E402
from workbench.memory import ivf as new  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def old_module(commit: str):
    """ivf.py as it was at ``commit`` (read with git show; imported from a temp file)."""
    src = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{commit}:workbench/memory/ivf.py"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    path = Path(tempfile.mkdtemp()) / "ivf_before.py"
    path.write_text(src)
    spec = importlib.util.spec_from_file_location("ivf_before", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["ivf_before"] = mod  # (dataclasses look their module up)
    spec.loader.exec_module(mod)
    return mod


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--before", default="f26d836", help="commit of the 'old' ivf.py")
    parser.add_argument("--order", default="new,old")
    args = parser.parse_args()
    modules = {"new": new, "old": old_module(args.before)}
    x, q = make_data(args.n, args.queries, 1000, 1.25)
    gt = truth(x, q)
    kb = backend("wasm")
    codes, scales = kb.quantize(x)
    for name in args.order.split(","):
        mod = modules[name]
        load = os.getloadavg()
        t = time.perf_counter()
        res = mod.train(kb, codes, scales)
        seconds = time.perf_counter() - t
        ix = new.IvfIndex(
            1, "b", "f", x.shape[1], res.centroids, res.nprobe, res.recall, args.n,
            res.inertia, 0, 0.0, args.n, 0,
        ).attach(kb)  # fmt: skip
        order = np.argsort(res.labels, kind="stable")
        bounds = np.searchsorted(res.labels[order], np.arange(ix.nlist + 1))
        for li in range(ix.nlist):
            sel = order[bounds[li] : bounds[li + 1]]
            ix.lists.set(li, codes[sel], scales[sel])
            ix.ids[li] = sel
        found = []
        for i in range(q.shape[0]):
            cand = np.asarray(ix.candidates(q[i], 40, ix.nprobe)[0])
            found.append(cand[np.argsort(-(x[cand] @ q[i]), kind="stable")[:K]])
        print(json.dumps({
            "train": name, "n": args.n, "train_s": round(seconds, 1), "nlist": ix.nlist,
            "nprobe": res.nprobe, "heldout": round(res.recall, 4),
            "recall@10": round(recall(found, gt), 4), "load_before": load,
            "load_after": os.getloadavg(),
        }), flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
