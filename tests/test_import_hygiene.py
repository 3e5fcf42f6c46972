"""The engine and every domain package import without Textual (the UI is optional)."""

import pkgutil
import subprocess
import sys

import workbench

NON_UI = sorted(
    f"workbench.{m.name}"
    for m in pkgutil.iter_modules(workbench.__path__)
    if m.name not in {"ui", "__main__"}
)


def test_non_ui_modules_are_discovered():
    assert {"workbench.engine", "workbench.store", "workbench.cli"} <= set(NON_UI)


def test_engine_and_domain_packages_do_not_import_textual():
    code = (
        "import importlib, sys\n"
        f"for name in {NON_UI!r}:\n"
        "    importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"textual imported by the core: {out.stdout.strip()}"


def test_the_ui_does_import_textual():
    """Guards the test above: the probe really detects Textual when it is imported."""
    code = "import sys, workbench.ui.app; print('textual' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"
