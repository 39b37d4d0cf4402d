"""Storage contract, part 7: ``page`` — keyset pages in ``_id`` order (SPEC 13)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from backdrop.core.catalog import Catalog
from tests.core.storage.contract import UPDATED, config, ids, record, returned

NAME = "pages"


@pytest.fixture
def stored(engine):
    Catalog(engine).create(config(NAME))
    engine.records.save(
        NAME,
        [
            record(f"r{n:03}", "2024-01-01T00:00:00", updated_at=UPDATED + timedelta(hours=n), n=n)
            for n in reversed(range(25))
        ],
    )
    return engine


def walk(engine, limit, updated_since=None) -> list[list[str]]:
    pages, after = [], None
    while True:
        page = engine.records.page(NAME, after, limit, updated_since)
        if not page:
            return pages
        pages.append(ids(page))
        after = page[-1]["_id"]


def test_pages_walk_every_record_once_in_id_order(stored):
    pages = walk(stored, 10)
    assert [len(page) for page in pages] == [10, 10, 5]
    assert sum(pages, []) == [f"r{n:03}" for n in range(25)]


def test_a_page_holds_whole_records_without_period_keys(stored):
    first = stored.records.page(NAME, None, 1)
    assert first == [returned(record("r000", "2024-01-01T00:00:00", updated_at=UPDATED, n=0))]


def test_updated_since_keeps_records_written_at_or_after_it(stored):
    since = UPDATED + timedelta(hours=20)
    assert sum(walk(stored, 2, since), []) == [f"r{n:03}" for n in range(20, 25)]


def test_records_written_during_a_walk_never_make_it_skip_or_repeat(stored):
    seen, after = [], None
    for step in range(100):
        page = stored.records.page(NAME, after, 4)
        if not page:
            break
        seen.extend(ids(page))
        after = page[-1]["_id"]
        # before, inside and after the cursor; and rewriting a record already seen
        stored.records.save(
            NAME,
            [record(f"a{step}"), record(f"r{step:03}x"), record(f"z{step}"), record("r000")],
        )
    existing = [f"r{n:03}" for n in range(25)]
    assert [i for i in seen if i in existing] == existing
    assert len(seen) == len(set(seen))


def test_an_unknown_data_set_or_a_cursor_past_the_end_has_no_records(engine):
    assert engine.records.page("never-made", None, 10) == []
    Catalog(engine).create(config(NAME))
    engine.records.save(NAME, [record("a")])
    assert engine.records.page(NAME, "a", 10) == []
    assert engine.records.page(NAME, "", 10) == [returned(record("a"))]


def test_scan_gives_what_find_gives_in_the_same_order(stored):
    from backdrop.core.query import Filter, Sort, Where

    for where, sort, limit in [
        (Where(), None, None),
        (Where(), Sort("n", descending=True), 7),
        (Where(filters=(Filter("n", "3"),)), None, None),
        (Where(), None, 0),
    ]:
        assert list(stored.records.scan(NAME, where, sort, limit)) == stored.records.find(
            NAME, where, sort, limit
        )
    assert list(stored.records.scan("never-made", Where())) == []


def test_a_scan_closed_half_way_releases_its_cursor(stored):
    from backdrop.core.query import Where

    for _ in range(30):  # more than a pool's connections: each must come back
        records = stored.records.scan(NAME, Where())
        assert next(records)["_id"] == "r000"
        records.close()
    assert len(stored.records.find(NAME, Where())) == 25
