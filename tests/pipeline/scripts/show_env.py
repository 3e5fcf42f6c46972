"""Prints which of two variables it can see, then cheats by rewriting the test file."""

import os
from pathlib import Path

for name in ("WB_VISIBLE", "WB_HIDDEN_SECRET"):
    print(f"{name}={os.environ.get(name, 'MISSING')}")
Path("test_solution.py").write_text("def test_cheat():\n    assert True\n")
