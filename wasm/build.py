"""Rebuild workbench/kernels/kernels.wasm from wasm/kernels.c with the ziglang package.

Why a script: the exact flags are the contract that makes builds reproducible
(``--strip-all`` drops debug sections, so two builds are byte-identical) and the test
suite rebuilds with the same function to check the committed binary.

    python wasm/build.py            # writes workbench/kernels/kernels.wasm
    python wasm/build.py --out X    # writes elsewhere (used by the tests)
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "kernels.c"
TARGET = HERE.parent / "workbench" / "kernels" / "kernels.wasm"
MAX_MEMORY = 65535 * 65536  # 4 GiB - 64 KiB: the largest value the linker accepts

FLAGS = [
    "--target=wasm32-freestanding",
    "-msimd128",
    "-mrelaxed-simd",
    # wasm threads: training runs two instances over one shared memory (kernels.c, MLP)
    "-matomics",
    "-mbulk-memory",
    "-O3",
    # keep `p + const` as a load offset in the GEMM micro-kernel (see kernels.c, GEMM)
    "-mllvm",
    "-disable-lsr",
    "-nostdlib",
    "-fno-builtin",
    "-Wl,--no-entry",
    "-Wl,--import-memory",
    "-Wl,--shared-memory",
    # the second training instance gets its own stack region (see _runtime.Context.sibling)
    "-Wl,--export=__stack_pointer",
    "-Wl,--strip-all",
    f"-Wl,--max-memory={MAX_MEMORY}",
    "-Wl,-z,stack-size=1048576",
]


def build(out: Path = TARGET) -> Path:
    """Compile SOURCE to ``out`` and return it (raises CalledProcessError on failure)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "ziglang", "cc", *FLAGS, str(SOURCE), "-o", str(out)]
    subprocess.run(cmd, check=True, cwd=HERE)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=TARGET)
    args = parser.parse_args()
    path = build(args.out)
    print(f"wrote {path} ({path.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
