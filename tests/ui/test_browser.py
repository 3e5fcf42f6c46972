"""`workbench serve` in a real browser: Debian's Chromium driven by Playwright.

The app's screen reaches the browser as terminal output over a websocket; the test reads
those frames (the page draws them on a canvas) and presses keys in the page.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from workbench.engine import Engine

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("WORKBENCH_CHROMIUM") or next(
    (p for p in (shutil.which("chromium"), shutil.which("chromium-browser")) if p), None
)
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
# What only that pane draws: its footer keys or its title line.
PANES = {
    "2": "Selectors",
    "3": "Curriculum",
    "4": "Quantize",
    "5": "Consolidate",
    "6": "Vote useful",
    "1": "Launch run",
}
ANSI = re.compile(r"\x1b\[[0-9;?$]*[A-Za-z]|\x1b\][^\x07]*\x07")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def workbench_command() -> list[str]:
    exe = shutil.which("workbench")
    return [exe] if exe else [sys.executable, "-m", "workbench"]


@pytest.fixture
def served(tmp_path):
    db = tmp_path / "wb.db"
    with Engine(db) as engine:
        engine.ensure_seeded()
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "WORKBENCH_SERVE_TOKEN": "tok-123"}
    proc = subprocess.Popen(
        [*workbench_command(), "serve", "--db", str(db), "--port", str(port)],
        env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"serve exited: {proc.stderr.read()}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_token_gate(served):
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{served}/", timeout=10)
    assert refused.value.code == 401
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(f"{served}/static/js/textual.js", timeout=10)
    with urllib.request.urlopen(f"{served}/?token=tok-123", timeout=10) as page:
        assert page.status == 200
        assert "workbench_token=tok-123" in page.headers["Set-Cookie"]
        assert "HttpOnly" in page.headers["Set-Cookie"]


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium installed (apt-get install chromium)")
def test_every_pane_in_a_real_browser(served):
    playwright = pytest.importorskip("playwright.sync_api", reason="playwright not installed")
    frames: list[str] = []

    def on_frame(payload: str | bytes) -> None:
        text = payload if isinstance(payload, str) else payload.decode("utf-8", "replace")
        frames.append(ANSI.sub(" ", text))

    def wait_for(marker: str, since: int, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if marker in " ".join("".join(frames[since:]).split()):
                return
            page.wait_for_timeout(100)  # lets Playwright deliver the queued frames
        raise AssertionError(f"{marker!r} never appeared in the browser")

    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.on("websocket", lambda ws: ws.on("framereceived", on_frame))
            page.goto(f"{served}/?token=tok-123")
            wait_for("Pipeline runs", 0)
            page.click("body")
            for key, marker in PANES.items():
                since = len(frames)
                page.keyboard.press(key)
                wait_for(marker, since)
        finally:
            browser.close()


def test_serve_refuses_a_public_host_without_token(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "WORKBENCH_SERVE_TOKEN"}
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run(
        [*workbench_command(), "serve", "--db", str(tmp_path / "wb.db"), "--host", "0.0.0.0"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "token" in done.stderr


def test_serve_on_a_port_in_use_is_one_line(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run(
            [*workbench_command(), "serve", "--db", str(tmp_path / "wb.db"), "--port", str(port)],
            env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
            timeout=60,
        )  # fmt: skip
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "in use" in done.stderr
