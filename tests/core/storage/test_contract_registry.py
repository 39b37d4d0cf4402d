"""Storage contract, part 1: the data-set registry and transforms, on every engine."""

from __future__ import annotations

import pytest

from backdrop.core.catalog import Catalog
from backdrop.core.query import Where
from backdrop.errors import Conflict, NotFound
from tests.core.storage.contract import config, record

FULL_CONFIG = config(
    "full",
    "group",
    "type",
    raw_queries_allowed=False,
    queryable=True,
    published=False,
    realtime=True,
    max_age_expected=None,
    capped_size=4096,
    schema={"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]},
    auto_ids=["a", "b"],
    upload_format="csv",
    upload_filters=[],
    token_hash="ab" * 32,
)


def test_a_created_data_set_comes_back_exactly(engine):
    Catalog(engine).create(FULL_CONFIG)
    assert Catalog(engine).get("full") == FULL_CONFIG
    assert Catalog(engine).find("group", "type") == FULL_CONFIG


def test_unknown_data_sets_are_none(engine):
    assert Catalog(engine).get("nothing") is None
    assert Catalog(engine).find("no", "where") is None
    assert Catalog(engine).list() == []


def test_a_taken_name_is_a_conflict(engine):
    Catalog(engine).create(config("taken", "g1", "t1"))
    with pytest.raises(Conflict) as caught:
        Catalog(engine).create(config("taken", "g2", "t2"))
    assert "taken" in caught.value.message
    assert Catalog(engine).find("g2", "t2") is None


def test_a_taken_address_is_a_conflict(engine):
    Catalog(engine).create(config("first", "g", "t"))
    with pytest.raises(Conflict) as caught:
        Catalog(engine).create(config("second", "g", "t"))
    assert caught.value.message != Conflict.default_message  # says what clashed
    assert Catalog(engine).get("second") is None
    assert Catalog(engine).find("g", "t")["name"] == "first"


def test_same_group_or_same_type_alone_is_no_conflict(engine):
    Catalog(engine).create(config("one", "g", "t"))
    Catalog(engine).create(config("two", "g", "u"))
    Catalog(engine).create(config("three", "h", "t"))
    assert Catalog(engine).find("g", "u")["name"] == "two"
    assert Catalog(engine).find("h", "t")["name"] == "three"


def test_data_sets_are_listed_by_name(engine):
    for name in ("mango", "apple", "zebra-1", "kiwi_2"):
        Catalog(engine).create(config(name))
    assert [c["name"] for c in Catalog(engine).list()] == ["apple", "kiwi_2", "mango", "zebra-1"]


def test_update_replaces_the_config_and_moves_the_address(engine):
    Catalog(engine).create(config("moving", "old", "place", realtime=False, capped_size=0))
    updated = config("moving", "new", "place", realtime=True, capped_size=100)
    Catalog(engine).update("moving", updated)
    assert Catalog(engine).get("moving") == updated
    assert Catalog(engine).find("new", "place") == updated
    assert Catalog(engine).find("old", "place") is None


def test_update_keeping_the_address_is_fine(engine):
    Catalog(engine).create(config("stay", "g", "t", realtime=False))
    Catalog(engine).update("stay", config("stay", "g", "t", realtime=True))
    assert Catalog(engine).find("g", "t")["realtime"] is True


def test_update_to_another_data_sets_address_is_a_conflict(engine):
    Catalog(engine).create(config("mine", "g", "mine"))
    Catalog(engine).create(config("yours", "g", "yours"))
    with pytest.raises(Conflict):
        Catalog(engine).update("mine", config("mine", "g", "yours"))
    assert Catalog(engine).get("mine") == config("mine", "g", "mine")
    assert Catalog(engine).find("g", "yours")["name"] == "yours"


def test_update_of_an_unknown_data_set_is_not_found(engine):
    with pytest.raises(NotFound):
        Catalog(engine).update("ghost", config("ghost"))
    assert Catalog(engine).get("ghost") is None


def test_delete_removes_config_records_and_transforms(engine):
    Catalog(engine).create(config("doomed", "g", "t"))
    engine.records.save("doomed", [record("a", "2024-01-01T00:00:00", n=1)])
    Catalog(engine).add_transform("doomed", {"type": "rollup", "query": {"period": "week"}})
    Catalog(engine).create(config("kept"))
    engine.records.save("kept", [record("a", n=2)])
    Catalog(engine).add_transform("kept", {"type": "rate"})

    assert Catalog(engine).delete("doomed") is True

    assert Catalog(engine).get("doomed") is None
    assert Catalog(engine).find("g", "t") is None
    assert Catalog(engine).delete("doomed") is False
    # A new data set of the same name starts empty.
    Catalog(engine).create(config("doomed", "g", "t"))
    assert engine.records.find("doomed", Where()) == []
    assert engine.records.get("doomed", "a") is None
    assert Catalog(engine).list_transforms("doomed") == []
    # Others are untouched.
    assert [r["n"] for r in engine.records.find("kept", Where())] == [2]
    assert [t["type"] for t in Catalog(engine).list_transforms("kept")] == ["rate"]


def test_delete_of_an_unknown_data_set_is_false(engine):
    assert Catalog(engine).delete("never") is False


# --- transforms ---

ROLLUP = {
    "type": "rollup",
    "query": {"period": "week", "group_by": ["stage"], "collect": ["n:sum"]},
    "options": {"additionalFields": {"source": "x"}},
    "output": {"data_group": "g", "data_type": "weekly"},
}
RATE = {"type": "rate", "query": {"period": "day"}, "options": {}, "output": {"data_type": "r"}}


def test_transforms_are_stored_listed_oldest_first_with_ids(engine):
    Catalog(engine).create(config("source"))
    first = Catalog(engine).add_transform("source", ROLLUP)
    second = Catalog(engine).add_transform("source", RATE)
    assert isinstance(first, str) and isinstance(second, str) and first != second
    assert Catalog(engine).list_transforms("source") == [
        {**ROLLUP, "id": first},
        {**RATE, "id": second},
    ]


def test_transforms_belong_to_their_data_set(engine):
    Catalog(engine).create(config("one"))
    Catalog(engine).create(config("two"))
    one = Catalog(engine).add_transform("one", ROLLUP)
    Catalog(engine).add_transform("two", RATE)
    assert [t["id"] for t in Catalog(engine).list_transforms("one")] == [one]
    assert Catalog(engine).remove_transform("two", one) is False
    assert [t["type"] for t in Catalog(engine).list_transforms("two")] == ["rate"]


def test_removing_a_transform(engine):
    Catalog(engine).create(config("source"))
    first = Catalog(engine).add_transform("source", ROLLUP)
    second = Catalog(engine).add_transform("source", RATE)
    assert Catalog(engine).remove_transform("source", first) is True
    assert Catalog(engine).list_transforms("source") == [{**RATE, "id": second}]
    assert Catalog(engine).remove_transform("source", first) is False
    assert Catalog(engine).remove_transform("source", "not-an-id") is False
    assert Catalog(engine).list_transforms("nobody") == []


def test_ping_and_reuse_after_close(engine):
    engine.ping()
    Catalog(engine).create(config("lasting"))
    engine.close()
    assert Catalog(engine).get("lasting") == config("lasting")  # reconnects by itself
    engine.ping()


def test_a_create_that_fails_midway_leaves_its_address_free(engine, monkeypatch):
    def refuse(name):
        raise Conflict("storage refused")

    monkeypatch.setattr(engine.records, "create", refuse)
    with pytest.raises(Conflict):
        Catalog(engine).create(config("failed", "g", "t"))
    monkeypatch.undo()
    Catalog(engine).create(config("other", "g", "t"))
    assert Catalog(engine).find("g", "t")["name"] == "other"
