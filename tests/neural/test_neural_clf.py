""".clf export/import: round trips, and every kind of bad file refused with nothing written."""

from __future__ import annotations

import io
import json
import struct
import zipfile

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.neural.helpers import make_spec
from workbench.neural import ModelArtifact, export_clf, import_clf, predict, train
from workbench.neural.data import FeatureSpec


@pytest.fixture(scope="module")
def art():
    from tests.neural.helpers import blobs
    from workbench.neural import Dataset

    s = make_spec()
    X, y = blobs()
    return train(s, Dataset.from_arrays(X, y, s, label_names=["a", "b", "c"]), backend="numpy")


def test_round_trip_identical_predictions(tmp_path, art):
    a = art.artifact
    p = export_clf(a, tmp_path / "m.clf")
    assert sorted(x.name for x in tmp_path.iterdir()) == ["m.clf"]  # no temp left behind
    with zipfile.ZipFile(p) as zf:
        assert zf.namelist() == ["manifest.json", "weights.npz"]
    b = import_clf(p)
    X = np.random.default_rng(3).normal(size=(20, 4)).astype(np.float32)
    pa, pb = predict(a, X, backend="numpy"), predict(b, X, backend="numpy")
    assert [x.to_dict() for x in pa] == [x.to_dict() for x in pb]
    assert b.metrics == a.metrics and b.label_names == ["a", "b", "c"]
    assert ModelArtifact.from_bytes(a.to_bytes()).to_parts()[0] == a.to_parts()[0]


def test_failed_export_leaves_nothing(tmp_path, art, monkeypatch):
    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr("workbench.fsutil.os.fsync", boom)
    with pytest.raises(OSError):
        export_clf(art.artifact, tmp_path / "m.clf")
    assert list(tmp_path.iterdir()) == []


def _rebuild(src, dst, *, manifest=None, arrays=None, extra=None, rename=None):
    """Write a modified copy of a valid .clf."""
    with zipfile.ZipFile(src) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    if manifest is not None:
        members["manifest.json"] = manifest
    if arrays is not None:
        buf = io.BytesIO()
        np.savez(buf, **arrays)
        members["weights.npz"] = buf.getvalue()
    if rename:
        for old, new in rename.items():
            members[new] = members.pop(old)
    members.update(extra or {})
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zf:
        for n, data in members.items():
            zf.writestr(n, data)
    return dst


def _arrays(src):
    with zipfile.ZipFile(src) as zf, np.load(io.BytesIO(zf.read("weights.npz"))) as z:
        return {k: z[k] for k in z.files}


def _bad_files(tmp_path, good):
    man = json.loads(zipfile.ZipFile(good).read("manifest.json"))
    arr = _arrays(good)
    out = {}
    out["not a zip"] = (tmp_path / "a.clf", "bad zip")
    out["not a zip"][0].write_bytes(b"this is not a zip file at all")
    t = tmp_path / "b.clf"
    t.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    out["truncated"] = (t, "bad zip|truncated")
    out["traversal"] = (
        _rebuild(good, tmp_path / "c.clf", extra={"../evil.txt": b"x"}),
        "unexpected member '../evil.txt'",
    )
    out["absolute"] = (
        _rebuild(good, tmp_path / "c2.clf", extra={"/etc/evil": b"x"}),
        "unexpected member '/etc/evil'",
    )
    out["backslash"] = (
        _rebuild(good, tmp_path / "c3.clf", extra={"..\\evil": b"x"}),
        "unexpected member",
    )
    out["extra member"] = (
        _rebuild(good, tmp_path / "d.clf", extra={"readme.txt": b"hi"}),
        "unexpected member 'readme.txt'",
    )
    out["missing member"] = (
        _rebuild(good, tmp_path / "e.clf", rename={"weights.npz": "manifest.json"}),
        "missing member 'weights.npz'",
    )
    pickled = dict(arr, w0=np.array([object()] * 3, dtype=object))
    out["pickled array"] = (
        _rebuild(good, tmp_path / "f.clf", arrays=pickled),
        "w0.npy is a pickled object array; refused",
    )
    out["wrong shape"] = (
        _rebuild(good, tmp_path / "g.clf", arrays=dict(arr, w0=arr["w0"].T.copy())),
        r"w0 has shape \(8, 4\), expected \(4, 8\)",
    )
    out["wrong dtype"] = (
        _rebuild(good, tmp_path / "h.clf", arrays=dict(arr, b0=arr["b0"].astype(np.float64))),
        "b0 must be float32, got float64",
    )
    out["extra array"] = (
        _rebuild(good, tmp_path / "i.clf", arrays=dict(arr, w9=arr["w0"])),
        "unexpected array 'w9'",
    )
    out["bad manifest json"] = (
        _rebuild(good, tmp_path / "j.clf", manifest=b"{not json"),
        "manifest.json is not valid JSON",
    )
    out["bad version"] = (
        _rebuild(good, tmp_path / "k.clf", manifest=json.dumps(dict(man, version=99)).encode()),
        "unsupported version 99",
    )
    bad_layers = json.loads(json.dumps(man))
    bad_layers["spec"]["architecture"]["layers"][1]["size"] = 9
    out["manifest/array mismatch"] = (
        _rebuild(good, tmp_path / "l.clf", manifest=json.dumps(bad_layers).encode()),
        r"w0 has shape \(4, 8\), expected \(4, 9\)",
    )
    out["huge declared size"] = (_declare_huge(good, tmp_path / "m.clf"), "over the .* cap")
    return out


def _declare_huge(src, dst):
    """Patch weights.npz's declared uncompressed size (local + central headers) to ~4 GB."""
    data = bytearray(src.read_bytes())
    for sig, off in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        i = data.find(sig)
        while i != -1:
            name_off = 30 if sig == b"PK\x03\x04" else 46
            n = struct.unpack_from("<H", data, i + (26 if sig == b"PK\x03\x04" else 28))[0]
            if bytes(data[i + name_off : i + name_off + n]) == b"weights.npz":
                struct.pack_into("<I", data, i + off, 0xFFFFFFF0)
            i = data.find(sig, i + 4)
    dst.write_bytes(bytes(data))
    return dst


def test_malicious_files_refused_with_nothing_written(tmp_path, art):
    good = export_clf(art.artifact, tmp_path / "good.clf")
    bad = _bad_files(tmp_path, good)
    before = sorted(p.name for p in tmp_path.iterdir())
    for case, (path, msg) in bad.items():
        with pytest.raises(ValueError, match=msg) as e:
            import_clf(path)
        assert "\n" not in str(e.value), case
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_actual_size_bomb_refused(tmp_path, art):
    a = art.artifact
    big = ModelArtifact(a.spec, a.feature_spec, a.weights, a.biases, a.metrics)
    p = export_clf(big, tmp_path / "m.clf")
    with pytest.raises(ValueError, match="exceeds the|over the"):
        import_clf(p, max_bytes=200)


@settings(max_examples=15, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 9), min_size=2, max_size=4),
    classes=st.integers(2, 4),
    seed=st.integers(0, 1000),
)
def test_round_trip_random_architectures(tmp_path_factory, sizes, classes, seed):
    sizes = sizes[:-1] + [classes]
    s = make_spec(tuple(sizes))
    rng = np.random.default_rng(seed)
    ws = [
        rng.normal(size=(a, b)).astype(np.float32) for a, b in zip(sizes, sizes[1:], strict=False)
    ]
    bs = [rng.normal(size=b).astype(np.float32) for b in sizes[1:]]
    names = [f"c{i}" for i in range(classes)]
    fs = FeatureSpec(sizes[0], kind="array", label_names=names)
    a = ModelArtifact(s.to_dict(), fs, ws, bs, {"accuracy": None})
    p = export_clf(a, tmp_path_factory.mktemp("clf") / "r.clf")
    b = import_clf(p)
    X = rng.normal(size=(5, sizes[0])).astype(np.float32)
    pa, pb = predict(a, X, backend="numpy"), predict(b, X, backend="numpy")
    assert [x.probabilities for x in pa] == [x.probabilities for x in pb]
    for wa, wb in zip(a.weights, b.weights, strict=True):
        np.testing.assert_array_equal(wa, wb)
