"""A stand-in agent that looks at the task and changes nothing."""

import os

print("task", os.environ["WB_TASK_ID"], "left as it was")
