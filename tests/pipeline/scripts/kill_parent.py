"""A hostile command: edits the task, then kills the process that started it."""

import os
import signal
from pathlib import Path

for name in os.environ["WB_FILES"].splitlines():
    Path(name).write_text(Path(name).read_text().replace("return a - b", "return a + b"))
os.kill(os.getppid(), signal.SIGKILL)
