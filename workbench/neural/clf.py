"""``.clf`` files: a zip of ``manifest.json`` + ``weights.npz`` (never pickle).

Export is atomic (temp file + rename). Import trusts nothing: member names, sizes
(declared and actual), JSON schema, array dtypes and shapes are all checked before an
artifact is returned, so a hostile file can neither write anything nor run anything.
"""

from __future__ import annotations

import io
import json
import zipfile
import zlib
from pathlib import Path

import numpy as np

from workbench.fsutil import atomic_write

from .artifact import MAX_ARRAY_BYTES, ModelArtifact, load_npz_bytes

MEMBERS = ("manifest.json", "weights.npz")
MAX_MANIFEST_BYTES = 16 << 20
MAX_CLF_BYTES = MAX_ARRAY_BYTES + MAX_MANIFEST_BYTES


def export_clf(artifact: ModelArtifact, path: str | Path) -> Path:
    """Write ``artifact`` to ``path`` atomically; a failure leaves no partial file."""
    dest = Path(path)
    meta, arrays = artifact.to_parts()
    manifest = json.dumps(meta, indent=2, sort_keys=True, allow_nan=False).encode("utf-8")
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    with (
        atomic_write(dest) as f,
        zipfile.ZipFile(f, "w", compression=zipfile.ZIP_DEFLATED) as zf,
    ):
        zf.writestr("manifest.json", manifest)
        zf.writestr("weights.npz", buf.getvalue())
    return dest


def _bad_name(name: str) -> bool:
    return (
        name.startswith(("/", "\\"))
        or "\\" in name
        or ".." in name.split("/")
        or ":" in name
        or name not in MEMBERS
    )


def import_clf(path: str | Path, *, max_bytes: int = MAX_ARRAY_BYTES) -> ModelArtifact:
    """Read and fully validate a .clf file; ValueError (one line) on anything wrong."""
    p = Path(path)
    where = p.name
    if not p.is_file():
        raise ValueError(f"{where}: no such file")
    if p.stat().st_size > max_bytes + MAX_MANIFEST_BYTES:
        raise ValueError(f"{where}: file is larger than the {max_bytes >> 20} MB cap")
    try:
        with zipfile.ZipFile(p) as zf:
            infos = zf.infolist()
            names = [i.filename for i in infos]
            for nm in names:
                if _bad_name(nm):
                    raise ValueError(f"{where}: unexpected member {nm!r} (allowed: {MEMBERS})")
            if len(set(names)) != len(names):
                raise ValueError(f"{where}: duplicate members")
            for want in MEMBERS:
                if want not in names:
                    raise ValueError(f"{where}: missing member {want!r}")
            caps = {"manifest.json": MAX_MANIFEST_BYTES, "weights.npz": max_bytes}
            for info in infos:
                if info.file_size > caps[info.filename]:
                    raise ValueError(
                        f"{where}: {info.filename} declares {info.file_size} bytes, over the "
                        f"{caps[info.filename]} byte cap"
                    )
            data = {}
            for info in infos:
                with zf.open(info) as f:
                    blob = f.read(caps[info.filename] + 1)
                if len(blob) > caps[info.filename]:
                    raise ValueError(f"{where}: {info.filename} is larger than declared")
                data[info.filename] = blob
    except zipfile.BadZipFile as e:
        raise ValueError(f"{where}: not a .clf file (bad zip: {e})") from None
    except (EOFError, OSError, zlib.error, NotImplementedError, RuntimeError) as e:
        # RuntimeError: zipfile's answer to a member flagged as encrypted.
        raise ValueError(f"{where}: truncated or corrupt ({type(e).__name__}: {e})") from None
    try:
        meta = json.loads(data["manifest.json"].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"{where}: manifest.json is not valid JSON ({e})") from None
    arrays = load_npz_bytes(data["weights.npz"], f"{where}: weights.npz", max_bytes)
    return ModelArtifact.from_parts(meta, arrays, f"{where}: manifest")


__all__ = ["MAX_CLF_BYTES", "export_clf", "import_clf"]
