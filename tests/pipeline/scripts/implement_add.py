"""A stand-in agent for a hollowed repository task: fills in `add` in the files it may edit."""

import os
from pathlib import Path

for name in os.environ["WB_FILES"].splitlines():
    path = Path(name)
    text = path.read_text()
    marker = '"""Add two numbers."""\n    raise NotImplementedError'
    path.write_text(text.replace(marker, '"""Add two numbers."""\n    return a + b'))
    print("implemented add in", name)
