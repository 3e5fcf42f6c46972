"""A stand-in agent that hangs."""

import time

print("thinking...", flush=True)
time.sleep(600)
