"""Regenerate the README's screenshot from a snapshot test's picture (issue 17: the
README shows what a test pins, at 80x24): copy the snapshot SVG to docs/ and render it
to PNG with headless Chromium (Debian's `chromium` package).

python scripts/screenshot.py [--snapshot NAME] [--out docs/screenshot.png]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SNAPSHOTS = ROOT / "tests" / "ui" / "__snapshots__"
DEFAULT = "test_layout_snapshots/test_models_trained[80x24-model].svg"
WINDOW = "1000,620"  # an 80x24 snapshot's SVG at Chromium's default scale


def render(svg: Path, png: Path) -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        sys.exit("chromium is not installed (apt-get install chromium)")
    subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         f"--screenshot={png}", f"--window-size={WINDOW}", svg.as_uri()],
        check=True, capture_output=True,
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--snapshot", default=DEFAULT, help="path under tests/ui/__snapshots__")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshot.png")
    args = parser.parse_args()
    source = SNAPSHOTS / args.snapshot
    if not source.is_file():
        sys.exit(f"no such snapshot: {source} (run pytest --snapshot-update first)")
    svg = args.out.with_suffix(".svg")
    shutil.copyfile(source, svg)
    render(svg, args.out)
    print(args.out)


if __name__ == "__main__":
    main()
