"""WASM SIMD kernels vs numpy (and faiss-cpu when installed) in one run.

The peers run in subprocesses with OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE unset.
Results and analysis: BENCHMARKS_kernels.md.

python benchmarks/kernels.py          # table
python benchmarks/kernels.py --json   # JSON, as `workbench bench kernels --json`
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from workbench.kernels.bench import main  # noqa: E402

if __name__ == "__main__":
    main()
