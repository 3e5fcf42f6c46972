from __future__ import annotations

import pytest

from tests.neural.helpers import blobs, make_spec  # noqa: F401
from workbench.neural import Dataset


@pytest.fixture
def spec():
    return make_spec()


@pytest.fixture
def blob_ds(spec):
    X, y = blobs()
    return Dataset.from_arrays(X, y, spec, label_names=["a", "b", "c"])
