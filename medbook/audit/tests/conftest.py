from datetime import timedelta

import pytest

from medbook.audit import sealer


@pytest.fixture(autouse=True)
def head_every_seal(monkeypatch):
    """Sign a head at every seal, so that a test's heads do not depend on how fast it runs (the interval
    itself: test_tree.py::test_x3_under_load_a_head_is_signed_at_most_once_an_interval)."""
    monkeypatch.setattr(sealer, "HEAD_INTERVAL", timedelta(0))
