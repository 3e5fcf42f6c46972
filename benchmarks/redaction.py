"""Redaction of agent data: recall, false positives and cost per hook-sized event.

- recall: a generated corpus of realistic (fake) secrets of 35 kinds embedded in commands,
  configs and tool output (tests/agents/secret_corpus.py); a sample counts as caught when
  its secret no longer occurs in the redacted text;
- false positives: the CPython standard library's source (this interpreter's, tests
  included where installed), line by line: the share of lines in which anything is marked;
- cost: `redact_json` over real-shaped PostToolUse events (a Bash call whose stdout is a
  slice of a stdlib file, 1 KB / 4 KB / 16 KB), median µs per event; peer in the same run:
  `json.loads` + `json.dumps` of the same event (what storing it costs anyway) and, when
  installed, detect-secrets' format detectors over the same event's lines, plus the time to
  import detect-secrets at all (the reason it is not on the hook path).

    python benchmarks/redaction.py [--per-kind 200] [--quick]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import sysconfig
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.agents.secret_corpus import corpus  # noqa: E402
from workbench.agents.redact import find_secrets, redact_json, redact_text  # noqa: E402


def recall(per_kind: int) -> tuple[int, int, Counter[str]]:
    missed: Counter[str] = Counter()
    samples = corpus(per_kind=per_kind, seed=12345)
    for kind, text, secret in samples:
        if secret in redact_text(text)[0]:
            missed[kind] += 1
    return len(samples), sum(missed.values()), missed


def false_positives(limit_files: int | None) -> tuple[int, int, int, Counter[str], list[str]]:
    root = Path(sysconfig.get_paths()["stdlib"])
    files = sorted(p for p in root.rglob("*.py") if "site-packages" not in p.parts)
    if limit_files:
        files = files[:limit_files]
    lines = flagged = 0
    kinds: Counter[str] = Counter()
    examples: list[str] = []
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        for line in text.splitlines():
            lines += 1
            spans = find_secrets(line)
            if spans:
                flagged += 1
                kinds.update(kind for _, _, kind in spans)
                if len(examples) < 8:
                    examples.append(f"{spans[0][2]}: {line.strip()[:100]}")
    return len(files), lines, flagged, kinds, examples


def event(size: int) -> dict:
    source = (Path(sysconfig.get_paths()["stdlib"]) / "argparse.py").read_text()[:size]
    return {
        "session_id": "0b9c5bde-7f55-4c44-9a57-1a0d2f3c9e11",
        "transcript_path": "/home/dev/.claude/projects/app/0b9c5bde.jsonl",
        "cwd": "/home/dev/app",
        "permission_mode": "default",
        "hook_event_name": "PostToolUse",
        "tool_name": "Bash",
        "tool_use_id": "toolu_01ABC",
        "tool_input": {"command": "cat lib/argparse.py", "description": "read it"},
        "tool_response": {"stdout": source, "stderr": "", "interrupted": False},
    }


def timed(fn, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1e6


def detect_secrets_scan():
    """A scanner over detect-secrets' format detectors, or None when it is not installed."""
    try:
        from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
        from detect_secrets.settings import transient_settings
    except ImportError:
        return None
    from tests.agents.test_redact import FORMAT_PLUGINS

    classes = {c.__name__: c for c in get_mapping_from_secret_type_to_class().values()}
    plugins = [classes[name]() for name in FORMAT_PLUGINS]

    def scan(text: str) -> int:
        found = 0
        with transient_settings({"plugins_used": [{"name": n} for n in FORMAT_PLUGINS]}):
            for number, line in enumerate(text.splitlines(), 1):
                for plugin in plugins:
                    found += len(plugin.analyze_line("x", line, number))
        return found

    return scan


def import_ms(module: str) -> float | None:
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    runs = []
    for _ in range(3):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        if out.returncode != 0:
            return None
        runs.append(float(out.stdout) * 1000)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-kind", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="50 per kind, 200 stdlib files")
    args = parser.parse_args()
    per_kind = 50 if args.quick else args.per_kind

    n, missed, by_kind = recall(per_kind)
    print(f"recall: {n - missed}/{n} = {(n - missed) / n:.4%} ({per_kind} per kind)")
    for kind, k in by_kind.most_common():
        print(f"  missed {k:>4}  {kind}")

    files, lines, flagged, kinds, examples = false_positives(200 if args.quick else None)
    print(
        f"false positives: {flagged}/{lines} lines = {flagged / lines:.4%} "
        f"({files} stdlib files, Python {sys.version.split()[0]})"
    )
    print("  by kind: " + ", ".join(f"{k} {v}" for k, v in kinds.most_common()))
    for line in examples:
        print(f"  e.g. {line}")

    scan = detect_secrets_scan()
    print("cost per PostToolUse event (median µs; ratio = redact_json / peer):")
    for size in (1024, 4096, 16384):
        ev = event(size)
        repeat = 200 if size <= 4096 else 60
        ours = timed(lambda ev=ev: redact_json(ev), repeat)
        encoded = json.dumps(ev)
        codec = timed(lambda encoded=encoded: json.dumps(json.loads(encoded)), repeat)
        line = (
            f"  {size // 1024:>2} KB  redact_json {ours:8.0f}  "
            f"json round trip {codec:6.0f} (x{ours / codec:.1f})"
        )
        if scan is not None:
            stdout = ev["tool_response"]["stdout"]
            theirs = timed(lambda stdout=stdout: scan(stdout), max(10, repeat // 10))
            line += f"  detect-secrets formats {theirs:8.0f} (x{ours / theirs:.2f})"
        print(line)
    ours_import = import_ms("workbench.agents.redact")
    theirs_import = import_ms("detect_secrets.core.scan")
    print(f"import: workbench.agents.redact {ours_import:.1f} ms", end="")
    if theirs_import is not None:
        print(f", detect_secrets.core.scan {theirs_import:.1f} ms", end="")
    print()


if __name__ == "__main__":
    main()
