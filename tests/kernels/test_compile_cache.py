"""The kernels' compiled code is cached by wasmtime between processes (start-up time),
and WORKBENCH_KERNEL_CACHE=0 turns that off."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

LOAD = "from workbench.kernels import _runtime; _runtime._load()"


def cached_files(tmp_path, setting: str | None) -> list:
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    env.pop("WORKBENCH_KERNEL_CACHE", None)
    if setting is not None:
        env["WORKBENCH_KERNEL_CACHE"] = setting
    subprocess.run([sys.executable, "-c", LOAD], env=env, check=True)
    return [p for p in tmp_path.rglob("*") if p.is_file()]


@pytest.mark.skipif(sys.platform != "linux", reason="XDG cache location is Linux's")
def test_a_process_leaves_the_compiled_kernels_in_the_cache(tmp_path):
    assert cached_files(tmp_path, None)


def test_the_cache_can_be_turned_off(tmp_path):
    assert cached_files(tmp_path, "0") == []
