"""Dashboards in the document store of every engine: the documents they use,
ids, protect and whitelist, usage, and eviction by last use (SPEC 11)."""

from __future__ import annotations

import logging

import pytest

from backdrop.core.dashboards.eviction import InsufficientStorage
from backdrop.core.dashboards.lock import Busy, DocumentLock
from backdrop.core.dashboards.store import Dashboards
from backdrop.errors import Conflict, Forbidden, NotFound, PayloadTooLarge
from tests.core.dashboards.conftest import SMALL, sized


def test_create_stores_the_documents_and_counts_usage(store, engine):
    created = store.create(sized("Visits per week", 200))
    assert created["id"] == "visits-per-week" and created["size"] == 200
    stored = engine.documents.get("dashboard", "visits-per-week")
    assert stored.body["dashboard"]["title"] == "Visits per week"
    assert engine.documents.get("dashboard_quota", "usage").body == {"bytes": 200, "count": 1}
    assert engine.documents.get("dashboard_quota", "lock") is None  # released


def test_ids_are_slugs_made_unique(store):
    ids = [store.create(sized("Sales: UK!", 100))["id"] for _ in range(3)]
    assert ids == ["sales-uk", "sales-uk-2", "sales-uk-3"]
    assert store.create(sized("Schema", 100))["id"] == "schema-dashboard"


def test_a_given_id_that_is_taken_is_409(store):
    store.create(sized("A", 100), "a")
    with pytest.raises(Conflict, match="already exists"):
        store.create(sized("B", 100), "a")


def test_a_dashboard_over_max_bytes_is_413_and_not_stored(store, engine):
    with pytest.raises(PayloadTooLarge, match="401 bytes, the limit is 400"):
        store.create(sized("Big", 401))
    assert engine.documents.list("dashboard") == []


def test_update_changes_fields_and_usage(store, engine):
    store.create(sized("A", 100), "a")
    updated = store.update("a", {"description": "short"})
    assert updated["description"] == "short" and updated["version"] == 2
    assert store.usage()["bytes"] == updated["size"] < 100


def test_protected_refuses_update_and_delete_and_is_whitelisted(store):
    store.create(sized("A", 100), "a")
    protected = store.set_flags("a", protected=True)
    assert protected["protected"] and protected["whitelisted"]
    with pytest.raises(Forbidden, match="^Dashboard a is protected$"):
        store.update("a", {"title": "B"})
    with pytest.raises(Forbidden, match="^Dashboard a is protected$"):
        store.delete("a")
    writable = store.set_flags("a", protected=False)
    assert not writable["protected"] and writable["whitelisted"]  # whitelist unchanged
    store.delete("a")
    assert store.usage() == {"bytes": 0, "count": 0}


def test_unknown_dashboards_are_404(store):
    for action in (store.fetch, store.delete, lambda i: store.update(i, {})):
        with pytest.raises(NotFound, match="^No dashboard nope$"):
            action("nope")


def test_eviction_takes_the_least_recently_used_first(engine, caplog):
    store = Dashboards(engine, SMALL)
    for name in ("a", "b", "c", "d"):
        store.create(sized(name, 200), name)
    Dashboards(engine, SMALL).fetch("a")  # a is now the most recently used
    with caplog.at_level(logging.WARNING, "backdrop.dashboards"):
        # 800 + 200 > 900: evict b (800), c (600), d (400 ≤ the target, 500)
        store.create(sized("e", 200), "e")
    assert [d["id"] for d in store.list()] == ["a", "e"]
    assert store.usage() == {"bytes": 400, "count": 2}
    evicted = [r.getMessage() for r in caplog.records if r.name == "backdrop.dashboards"]
    assert [line.split(" (")[0] for line in evicted] == [
        f"evicted dashboard {name}" for name in ("b", "c", "d")
    ]
    assert evicted[0].startswith("evicted dashboard b (200 bytes, last used 20")


def test_whitelisted_and_protected_dashboards_are_never_evicted(store):
    for name in ("a", "b", "c", "d"):
        store.create(sized(name, 200), name)
    store.set_flags("a", whitelisted=True)
    store.set_flags("b", protected=True)
    store.create(sized("e", 200), "e")  # c and d go; 600 is over the target but all it can do
    assert [d["id"] for d in store.list()] == ["a", "b", "e"]
    assert store.usage() == {"bytes": 600, "count": 3}


def test_507_when_nothing_can_be_evicted(store):
    for name in ("a", "b", "c"):
        store.create(sized(name, 300), name)
        store.set_flags(name, whitelisted=True)
    with pytest.raises(InsufficientStorage) as raised:
        store.create(sized("d", 200), "d")
    assert raised.value.status == 507
    assert store.usage() == {"bytes": 900, "count": 3}


def test_usage_is_counted_from_the_dashboards_when_missing(store, engine):
    store.create(sized("a", 150), "a")
    engine.documents.delete("dashboard_quota", "usage")
    store.create(sized("b", 100), "b")
    assert store.usage() == {"bytes": 250, "count": 2}
    assert store.recount() == {"bytes": 250, "count": 2}


def test_reads_write_last_fetched_at_most_once_per_interval(store, engine):
    store.create(sized("a", 100), "a")
    store.fetch("a")
    first = engine.documents.get("dashboard_fetch", "a")
    for _ in range(5):
        assert store.fetch("a")["last_fetched"] is not None
    assert engine.documents.get("dashboard_fetch", "a").version == first.version == 1


def test_the_lock_excludes_a_second_holder_and_a_dead_holder_expires(engine):
    with DocumentLock(engine.documents, "dashboard_quota", "lock"):
        with pytest.raises(Busy):
            with DocumentLock(engine.documents, "dashboard_quota", "lock", wait=0.1):
                pass
    with DocumentLock(engine.documents, "dashboard_quota", "lock", ttl=-1):  # dies, expired
        with DocumentLock(engine.documents, "dashboard_quota", "lock", wait=1) as taken:
            assert taken.version is not None
