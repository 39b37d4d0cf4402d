"""Dashboards over each storage engine, with small limits that tests can fill."""

from __future__ import annotations

import pytest

from backdrop.core.dashboards.eviction import Limits
from backdrop.core.dashboards.store import Dashboards
from backdrop.core.dashboards.validation import size_of

# A quota of 1,000 bytes: writes past 900 evict down to 500.
SMALL = Limits(max_bytes=400, quota_bytes=1000, threshold=0.9, target=0.5)


def sized(title: str, size: int) -> dict:
    """A dashboard without tiles that counts exactly ``size`` bytes."""
    body = {"title": title, "description": "", "published": False, "tiles": []}
    body["description"] = "x" * (size - size_of(body))
    assert size_of(body) == size
    return body


@pytest.fixture
def store(engine):
    return Dashboards(engine, SMALL)
