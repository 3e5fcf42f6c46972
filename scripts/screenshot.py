"""Regenerate docs/screenshot.svg: the app over a freshly seeded store, on a chosen pane.

python scripts/screenshot.py [--pane hub] [--out docs/screenshot.svg]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import tempfile
from pathlib import Path

from workbench.engine import Engine
from workbench.ui.app import PANES, WorkbenchApp


async def shoot(pane: str, out: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        engine = Engine(Path(tmp) / "workbench.db", clock=lambda: dt.datetime(2026, 1, 15, 9, 30))
        engine.seed()
        app = WorkbenchApp(
            engine, watch=False, theme="workbench-dark", settings_path=Path(tmp) / "c"
        )
        async with app.run_test(size=(140, 42)) as pilot:
            await pilot.press(str(list(PANES).index(pane) + 1))
            await pilot.pause()
            app.save_screenshot(filename=out.name, path=str(out.parent))
        engine.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pane", choices=list(PANES), default="hub")
    parser.add_argument("--out", type=Path, default=Path("docs/screenshot.svg"))
    args = parser.parse_args()
    asyncio.run(shoot(args.pane, args.out))
    print(args.out)


if __name__ == "__main__":
    main()
