"""Dashboards kept in the document store, inside the storage limits (SPEC 11).

Documents:

- ``dashboard/<id>``: ``{"dashboard": {…}, "size": n, "whitelisted": b, "protected": b}``;
- ``dashboard_fetch/<id>``: ``{"at": ISO time}``, the last read, written at most
  once per ``FETCH_INTERVAL`` per dashboard and process (coarse-grained, so
  reads never become a write storm; the cost is up to that much staleness);
- ``dashboard_quota/usage``: ``{"bytes": n, "count": n}``, all dashboards' size;
- ``dashboard_quota/lock``: held by the one writer allowed at a time.

Every change of a dashboard runs under the lock, in any number of processes:
plan the eviction, evict, update the usage (with ``expected_version``), then
write. A crash between the last two leaves usage over-counted, never under,
so the quota can never be overrun; ``recount`` repairs it.
"""

from __future__ import annotations

import builtins
import logging
import time
from datetime import UTC, datetime
from typing import Any

from backdrop.audit import audit
from backdrop.core.dashboards import eviction
from backdrop.core.dashboards.lock import DocumentLock
from backdrop.core.dashboards.validation import check_id, size_of, slug, validate
from backdrop.core.data_sets import Registry
from backdrop.core.storage.base import Document, JSONObject, StorageEngine
from backdrop.errors import BadRequest, Conflict, Forbidden, NotFound

KIND = "dashboard"
FETCH = "dashboard_fetch"
QUOTA = "dashboard_quota"
FETCH_INTERVAL = 600.0
EDITABLE = ("title", "description", "published", "tiles")

log = logging.getLogger("backdrop.dashboards")


def not_found(dashboard_id: str) -> NotFound:
    return NotFound(f"No dashboard {dashboard_id}")


def summary(document: Document, last_fetched: datetime | None = None) -> dict[str, Any]:
    """A dashboard as ``GET /dashboards`` lists it."""
    body = document.body
    return {
        "id": document.id,
        "title": body["dashboard"]["title"],
        "updated": document.updated_at.isoformat(),
        "last_fetched": last_fetched.isoformat() if last_fetched else None,
        "size": body["size"],
        "published": body["dashboard"]["published"],
        "whitelisted": body["whitelisted"],
        "protected": body["protected"],
        "version": document.version,
    }


def full(document: Document, last_fetched: datetime | None = None) -> dict[str, Any]:
    """A dashboard with its tiles, as ``GET /dashboards/<id>`` shows it."""
    return {**summary(document, last_fetched), **document.body["dashboard"]}


class Dashboards:
    """Create, read, change and delete dashboards within the limits."""

    def __init__(self, engine: StorageEngine, limits: eviction.Limits):
        self.documents = engine.documents
        self.registry = Registry(engine)
        self.limits = limits
        self._fetch_written: dict[str, float] = {}

    def _lock(self) -> DocumentLock:
        return DocumentLock(self.documents, QUOTA, "lock")

    # --- reading ---

    def get(self, dashboard_id: str) -> Document:
        document = self.documents.get(KIND, dashboard_id)
        if document is None:
            raise not_found(dashboard_id)
        return document

    def fetch(self, dashboard_id: str) -> dict[str, Any]:
        """The dashboard for a viewer: counts as a use for eviction."""
        document = self.get(dashboard_id)
        self.touch(dashboard_id)
        return full(document, self.last_fetched(dashboard_id))

    def public(self, dashboard_id: str) -> dict[str, Any]:
        """A published dashboard for anyone (404 otherwise, as for an unknown
        one): only the tiles whose data set is queryable and published, each
        with the read-API ``path`` to query."""
        document = self.get(dashboard_id)
        dashboard = document.body["dashboard"]
        if not dashboard["published"]:
            raise not_found(dashboard_id)
        self.touch(dashboard_id)
        tiles = []
        for tile in dashboard["tiles"]:
            config = self.registry.find_by_name(tile["data_set"])
            if config is not None and config.queryable and config.published:
                tiles.append({**tile, "path": f"/data/{config.data_group}/{config.data_type}"})
        view = {key: dashboard[key] for key in ("title", "description", "published")}
        return {
            "id": dashboard_id,
            **view,
            "tiles": tiles,
            "updated": document.updated_at.isoformat(),
        }

    def touch(self, dashboard_id: str) -> None:
        now = time.monotonic()
        if now - self._fetch_written.get(dashboard_id, -FETCH_INTERVAL) < FETCH_INTERVAL:
            return
        self._fetch_written[dashboard_id] = now
        self.documents.put(FETCH, dashboard_id, {"at": datetime.now(UTC).isoformat()})

    def last_fetched(self, dashboard_id: str) -> datetime | None:
        document = self.documents.get(FETCH, dashboard_id)
        return None if document is None else datetime.fromisoformat(document.body["at"])

    def _fetches(self) -> dict[str, datetime]:
        return {d.id: datetime.fromisoformat(d.body["at"]) for d in self.documents.list(FETCH)}

    def list(self) -> builtins.list[dict[str, Any]]:
        fetches = self._fetches()
        return [summary(d, fetches.get(d.id)) for d in self.documents.list(KIND)]

    def usage(self) -> dict[str, int]:
        document = self.documents.get(QUOTA, "usage")
        return {"bytes": 0, "count": 0} if document is None else dict(document.body)

    # --- writing ---

    def create(self, body: Any, dashboard_id: str | None = None, **flags: bool) -> dict[str, Any]:
        """Store a new dashboard; its id is ``dashboard_id`` (409 if taken) or
        a slug of its title, made unique."""
        dashboard = validate(body, self.registry)
        if dashboard_id is not None:
            check_id(dashboard_id)
        stored: JSONObject = {"dashboard": dashboard, "whitelisted": False, "protected": False}
        stored.update(flags)
        size = stored["size"] = size_of(dashboard)
        self.limits.check_size(size)
        with self._lock():
            if dashboard_id is None:
                dashboard_id = self._unique_id(dashboard["title"])
            elif self.documents.get(KIND, dashboard_id) is not None:
                raise Conflict(f"A dashboard with id {dashboard_id} already exists")
            self._account(size, 1, exclude=dashboard_id)
            document = self.documents.put(KIND, dashboard_id, stored, expected_version=0)
        audit("dashboard.create", f"created dashboard {dashboard_id}", dashboard=dashboard_id)
        return full(document)

    def _unique_id(self, title: str) -> str:
        base = slug(title)
        candidate, n = base, 1
        while self.documents.get(KIND, candidate) is not None:
            n += 1
            candidate = f"{base}-{n}"
        return candidate

    def update(self, dashboard_id: str, changes: Any) -> dict[str, Any]:
        """Change some of title, description, published and tiles; 403 if protected."""
        if not isinstance(changes, dict):
            raise BadRequest("Expected a JSON object of dashboard fields to change")
        unknown = sorted(set(changes) - set(EDITABLE))
        if unknown:
            raise BadRequest(
                f"These dashboard fields cannot be changed: {', '.join(unknown)}",
                detail=f"changeable: {', '.join(EDITABLE)}",
            )
        with self._lock():
            current = self._writable(dashboard_id)
            dashboard = validate({**current.body["dashboard"], **changes}, self.registry)
            stored = {**current.body, "dashboard": dashboard}
            stored["size"] = size_of(dashboard)
            self.limits.check_size(stored["size"])
            self._account(stored["size"] - current.body["size"], 0, exclude=dashboard_id)
            document = self.documents.put(KIND, dashboard_id, stored, current.version)
        audit(
            "dashboard.update",
            f"changed {', '.join(sorted(changes)) or 'nothing'} of dashboard {dashboard_id}",
            dashboard=dashboard_id,
        )
        return full(document, self.last_fetched(dashboard_id))

    def _writable(self, dashboard_id: str) -> Document:
        current = self.get(dashboard_id)
        if current.body["protected"]:
            raise Forbidden(
                f"Dashboard {dashboard_id} is protected",
                detail=f"DELETE /dashboards/{dashboard_id}/protect makes it writable again",
            )
        return current

    def delete(self, dashboard_id: str) -> None:
        with self._lock():
            current = self._writable(dashboard_id)
            self.documents.delete(KIND, dashboard_id, current.version)
            self.documents.delete(FETCH, dashboard_id)
            self._add_usage(-current.body["size"], -1)
        audit("dashboard.delete", f"deleted dashboard {dashboard_id}", dashboard=dashboard_id)

    def set_flags(self, dashboard_id: str, **flags: bool) -> dict[str, Any]:
        """Whitelist or protect (protecting also whitelists), or undo either."""
        if flags.get("protected"):
            flags["whitelisted"] = True
        with self._lock():
            current = self.get(dashboard_id)
            stored = {**current.body, **flags}
            if stored != current.body:
                current = self.documents.put(KIND, dashboard_id, stored, current.version)
        said = ", ".join(f"{name} {value}" for name, value in sorted(flags.items()))
        audit("dashboard.flags", f"set {said} on dashboard {dashboard_id}", dashboard=dashboard_id)
        return full(current, self.last_fetched(dashboard_id))

    # --- the quota ---

    def _account(self, change: int, count: int, exclude: str) -> None:
        """Make room for ``change`` more bytes (evicting if the plan says so),
        then add them to the usage. Runs under the lock."""
        usage = self._usage_document().body["bytes"]
        if change > 0 and usage + change > self.limits.threshold * self.limits.quota_bytes:
            for candidate in eviction.plan(usage, change, self._candidates(exclude), self.limits):
                self._evict(candidate)
        self._add_usage(change, count)

    def _candidates(self, exclude: str) -> builtins.list[eviction.Candidate]:
        fetches = self._fetches()
        return [
            eviction.Candidate(
                d.id, d.body["size"], max(d.updated_at, fetches.get(d.id, d.updated_at))
            )
            for d in self.documents.list(KIND)
            if d.id != exclude and not (d.body["whitelisted"] or d.body["protected"])
        ]

    def _evict(self, candidate: eviction.Candidate) -> None:
        self.documents.delete(KIND, candidate.id)
        self.documents.delete(FETCH, candidate.id)
        self._add_usage(-candidate.size, -1)
        log.warning(
            "evicted dashboard %s (%d bytes, last used %s) to make room",
            candidate.id,
            candidate.size,
            candidate.last_used.isoformat(),
            extra={"dashboard": candidate.id, "size": candidate.size},
        )
        audit("dashboard.evict", f"evicted dashboard {candidate.id}", dashboard=candidate.id)

    def _usage_document(self) -> Document:
        """The usage, counted from the dashboards the first time (an upgrade)."""
        current = self.documents.get(QUOTA, "usage")
        return current or self.documents.put(QUOTA, "usage", self._counted(), expected_version=0)

    def _add_usage(self, change: int, count: int) -> None:
        current = self._usage_document()
        new = {"bytes": current.body["bytes"] + change, "count": current.body["count"] + count}
        self.documents.put(QUOTA, "usage", new, expected_version=current.version)

    def _counted(self) -> JSONObject:
        sizes = [d.body["size"] for d in self.documents.list(KIND)]
        return {"bytes": sum(sizes), "count": len(sizes)}

    def recount(self) -> dict[str, int]:
        """Set the usage to the sum of the stored dashboards' sizes."""
        with self._lock():
            current = self.documents.get(QUOTA, "usage")
            counted = self._counted()
            self.documents.put(QUOTA, "usage", counted, current.version if current else 0)
        return {"bytes": counted["bytes"], "count": counted["count"]}
