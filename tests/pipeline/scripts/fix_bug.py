"""A stand-in agent: fixes the bug in every file it may edit with a text replacement."""

import os
from pathlib import Path

print("prompt:", os.environ["WB_PROMPT"].splitlines()[0])
for name in os.environ["WB_FILES"].splitlines():
    path = Path(name)
    path.write_text(path.read_text().replace("return a - b", "return a + b"))
    print("fixed", name)
