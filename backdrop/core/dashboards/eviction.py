"""The storage limits of dashboards and the eviction policy, as one pure
function over (usage, change, candidates) (SPEC 11, after the PSI Data Board).

A write that would take usage past ``threshold`` of the quota evicts the least
recently used candidates (neither whitelisted nor protected), oldest first,
until usage is at most ``target`` of the quota. If evicting every candidate
still leaves the write over the quota, nothing is evicted and it is refused.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from backdrop.errors import BackdropError, PayloadTooLarge
from backdrop.settings import Settings


class InsufficientStorage(BackdropError):
    status = 507
    default_message = "Dashboard storage is full"


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    quota_bytes: int
    threshold: float
    target: float

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(
            settings.dashboard_max_bytes,
            settings.dashboard_quota_bytes,
            settings.dashboard_eviction_threshold,
            settings.dashboard_target_utilization,
        )

    def check_size(self, size: int) -> None:
        if size > self.max_bytes:
            raise PayloadTooLarge(
                f"Dashboard is too large: {size} bytes, the limit is {self.max_bytes} bytes",
                detail="BACKDROP_DASHBOARD_MAX_BYTES sets the limit",
            )


@dataclass(frozen=True)
class Candidate:
    """A dashboard that may be evicted: its size and its last fetch or update."""

    id: str
    size: int
    last_used: datetime


def plan(
    usage: int, change: int, candidates: Iterable[Candidate], limits: Limits
) -> list[Candidate]:
    """The dashboards to evict, oldest use first, before a write that changes
    usage (bytes) by ``change``; ``InsufficientStorage`` if no plan makes room."""
    after = usage + change
    if change <= 0 or after <= limits.threshold * limits.quota_bytes:
        return []
    goal = limits.target * limits.quota_bytes
    chosen: list[Candidate] = []
    for candidate in sorted(candidates, key=lambda c: (c.last_used, c.id)):
        if after <= goal:
            break
        chosen.append(candidate)
        after -= candidate.size
    if after > limits.quota_bytes:
        raise InsufficientStorage(
            f"Dashboard storage is full: {usage + change} of {limits.quota_bytes} bytes "
            f"would be used and evicting every dashboard that is neither whitelisted nor "
            f"protected frees only {usage + change - after}",
            detail="delete dashboards, return some to eviction, or raise "
            "BACKDROP_DASHBOARD_QUOTA_BYTES",
        )
    return chosen
