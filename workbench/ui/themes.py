"""Bundled themes are TOML files in `themes/`; a bad file is reported, never fatal."""

from __future__ import annotations

import tomllib
from pathlib import Path

from textual.theme import Theme

THEME_FIELDS = set(Theme.__dataclass_fields__)


def load_theme(path: Path) -> Theme:
    """Read one theme file; raises ValueError with the file name on any problem."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"{path.name}: {exc}") from None
    unknown = set(data) - THEME_FIELDS
    if unknown:
        raise ValueError(f"{path.name}: unknown theme keys {', '.join(sorted(unknown))}")
    if not isinstance(data.get("name"), str) or not isinstance(data.get("primary"), str):
        raise ValueError(f"{path.name}: a theme needs string 'name' and 'primary'")
    try:
        theme = Theme(**data)
        theme.to_color_system()  # validates every colour now, not at first paint
    except Exception as exc:  # colour parsing raises several types
        raise ValueError(f"{path.name}: {exc}") from None
    return theme


def load_themes(folder: Path) -> tuple[list[Theme], list[str]]:
    """All themes in a folder, plus one error line per file that could not be loaded."""
    themes, errors = [], []
    for path in sorted(folder.glob("*.toml")):
        try:
            themes.append(load_theme(path))
        except ValueError as exc:
            errors.append(str(exc))
    return themes, errors
