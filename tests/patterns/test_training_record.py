"""Where an experience came from is not a feature of it."""

from __future__ import annotations

import json

from workbench.patterns.continuous import training_record
from workbench.store import models as m


def test_provenance_keys_never_become_feature_columns():
    entry = m.ExperienceBuffer(
        input=json.dumps(
            {"operation": "split the module", "agent_session": "sess-1", "strategy": "balanced"}
        ),  # fmt: skip
        label="systems",
    )
    assert training_record(entry) == {"operation": "split the module", "label": "systems"}
