"""The eviction policy as a pure function (SPEC 11): threshold, order, target, 507."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from backdrop.core.dashboards.eviction import Candidate, InsufficientStorage, Limits, plan

LIMITS = Limits(max_bytes=1000, quota_bytes=1000, threshold=0.95, target=0.6)
T0 = datetime(2024, 1, 1, tzinfo=UTC)


def candidate(name: str, size: int, hours: int) -> Candidate:
    return Candidate(name, size, T0 + timedelta(hours=hours))


def test_a_write_that_stays_under_the_threshold_evicts_nothing():
    assert plan(900, 50, [candidate("a", 100, 0)], LIMITS) == []


def test_past_the_threshold_the_least_recently_used_go_first_until_the_target():
    candidates = [
        candidate("newest", 200, 3),
        candidate("oldest", 200, 0),
        candidate("middle", 200, 1),
        candidate("newer", 200, 2),
    ]
    # 900 + 100 = 1000 > 950; evict oldest (800), middle (600 ≤ 600): stop.
    assert [c.id for c in plan(900, 100, candidates, LIMITS)] == ["oldest", "middle"]


def test_the_target_is_honoured_exactly_at_its_boundary():
    candidates = [candidate("a", 340, 0), candidate("b", 100, 1)]
    # 1000 - 340 = 660 > 600, so b goes too
    assert [c.id for c in plan(960, 40, candidates, LIMITS)] == ["a", "b"]


def test_ties_in_last_use_are_broken_by_id():
    candidates = [candidate("b", 400, 0), candidate("a", 400, 0)]
    assert [c.id for c in plan(960, 40, candidates, LIMITS)] == ["a"]


def test_nothing_to_evict_and_over_the_quota_is_507_and_evicts_nothing():
    with pytest.raises(InsufficientStorage) as raised:
        plan(990, 20, [], LIMITS)
    assert raised.value.status == 507
    assert "1010 of 1000 bytes" in raised.value.message


def test_too_little_to_evict_is_507():
    with pytest.raises(InsufficientStorage):
        plan(900, 200, [candidate("a", 50, 0)], LIMITS)


def test_over_the_threshold_but_within_the_quota_evicts_what_there_is():
    assert [c.id for c in plan(900, 90, [candidate("a", 10, 0)], LIMITS)] == ["a"]
    assert plan(960, 30, [], LIMITS) == []


def test_a_write_that_shrinks_a_dashboard_never_evicts():
    assert plan(999, -10, [candidate("a", 100, 0)], LIMITS) == []
