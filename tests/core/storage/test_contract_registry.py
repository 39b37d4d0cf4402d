"""Storage contract, part 1: the data-set registry and transforms, on every engine."""

from __future__ import annotations

import pytest

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
    engine.create_data_set(FULL_CONFIG)
    assert engine.get_data_set("full") == FULL_CONFIG
    assert engine.find_data_set("group", "type") == FULL_CONFIG


def test_unknown_data_sets_are_none(engine):
    assert engine.get_data_set("nothing") is None
    assert engine.find_data_set("no", "where") is None
    assert engine.list_data_sets() == []


def test_a_taken_name_is_a_conflict(engine):
    engine.create_data_set(config("taken", "g1", "t1"))
    with pytest.raises(Conflict) as caught:
        engine.create_data_set(config("taken", "g2", "t2"))
    assert "taken" in caught.value.message
    assert engine.find_data_set("g2", "t2") is None


def test_a_taken_address_is_a_conflict(engine):
    engine.create_data_set(config("first", "g", "t"))
    with pytest.raises(Conflict) as caught:
        engine.create_data_set(config("second", "g", "t"))
    assert caught.value.message != Conflict.default_message  # says what clashed
    assert engine.get_data_set("second") is None
    assert engine.find_data_set("g", "t")["name"] == "first"


def test_same_group_or_same_type_alone_is_no_conflict(engine):
    engine.create_data_set(config("one", "g", "t"))
    engine.create_data_set(config("two", "g", "u"))
    engine.create_data_set(config("three", "h", "t"))
    assert engine.find_data_set("g", "u")["name"] == "two"
    assert engine.find_data_set("h", "t")["name"] == "three"


def test_data_sets_are_listed_by_name(engine):
    for name in ("mango", "apple", "zebra-1", "kiwi_2"):
        engine.create_data_set(config(name))
    assert [c["name"] for c in engine.list_data_sets()] == ["apple", "kiwi_2", "mango", "zebra-1"]


def test_update_replaces_the_config_and_moves_the_address(engine):
    engine.create_data_set(config("moving", "old", "place", realtime=False, capped_size=0))
    updated = config("moving", "new", "place", realtime=True, capped_size=100)
    engine.update_data_set("moving", updated)
    assert engine.get_data_set("moving") == updated
    assert engine.find_data_set("new", "place") == updated
    assert engine.find_data_set("old", "place") is None


def test_update_keeping_the_address_is_fine(engine):
    engine.create_data_set(config("stay", "g", "t", realtime=False))
    engine.update_data_set("stay", config("stay", "g", "t", realtime=True))
    assert engine.find_data_set("g", "t")["realtime"] is True


def test_update_to_another_data_sets_address_is_a_conflict(engine):
    engine.create_data_set(config("mine", "g", "mine"))
    engine.create_data_set(config("yours", "g", "yours"))
    with pytest.raises(Conflict):
        engine.update_data_set("mine", config("mine", "g", "yours"))
    assert engine.get_data_set("mine") == config("mine", "g", "mine")
    assert engine.find_data_set("g", "yours")["name"] == "yours"


def test_update_of_an_unknown_data_set_is_not_found(engine):
    with pytest.raises(NotFound):
        engine.update_data_set("ghost", config("ghost"))
    assert engine.get_data_set("ghost") is None


def test_delete_removes_config_records_and_transforms(engine):
    engine.create_data_set(config("doomed", "g", "t"))
    engine.save_records("doomed", [record("a", "2024-01-01T00:00:00", n=1)])
    engine.add_transform("doomed", {"type": "rollup", "query": {"period": "week"}})
    engine.create_data_set(config("kept"))
    engine.save_records("kept", [record("a", n=2)])
    engine.add_transform("kept", {"type": "rate"})

    assert engine.delete_data_set("doomed") is True

    assert engine.get_data_set("doomed") is None
    assert engine.find_data_set("g", "t") is None
    assert engine.delete_data_set("doomed") is False
    # A new data set of the same name starts empty.
    engine.create_data_set(config("doomed", "g", "t"))
    assert engine.find("doomed", Where()) == []
    assert engine.get_record("doomed", "a") is None
    assert engine.list_transforms("doomed") == []
    # Others are untouched.
    assert [r["n"] for r in engine.find("kept", Where())] == [2]
    assert [t["type"] for t in engine.list_transforms("kept")] == ["rate"]


def test_delete_of_an_unknown_data_set_is_false(engine):
    assert engine.delete_data_set("never") is False


# --- transforms ---

ROLLUP = {
    "type": "rollup",
    "query": {"period": "week", "group_by": ["stage"], "collect": ["n:sum"]},
    "options": {"additionalFields": {"source": "x"}},
    "output": {"data_group": "g", "data_type": "weekly"},
}
RATE = {"type": "rate", "query": {"period": "day"}, "options": {}, "output": {"data_type": "r"}}


def test_transforms_are_stored_listed_oldest_first_with_ids(engine):
    engine.create_data_set(config("source"))
    first = engine.add_transform("source", ROLLUP)
    second = engine.add_transform("source", RATE)
    assert isinstance(first, str) and isinstance(second, str) and first != second
    assert engine.list_transforms("source") == [{**ROLLUP, "id": first}, {**RATE, "id": second}]


def test_transforms_belong_to_their_data_set(engine):
    engine.create_data_set(config("one"))
    engine.create_data_set(config("two"))
    one = engine.add_transform("one", ROLLUP)
    engine.add_transform("two", RATE)
    assert [t["id"] for t in engine.list_transforms("one")] == [one]
    assert engine.remove_transform("two", one) is False
    assert [t["type"] for t in engine.list_transforms("two")] == ["rate"]


def test_removing_a_transform(engine):
    engine.create_data_set(config("source"))
    first = engine.add_transform("source", ROLLUP)
    second = engine.add_transform("source", RATE)
    assert engine.remove_transform("source", first) is True
    assert engine.list_transforms("source") == [{**RATE, "id": second}]
    assert engine.remove_transform("source", first) is False
    assert engine.remove_transform("source", "not-an-id") is False
    assert engine.list_transforms("nobody") == []


def test_ping_and_reuse_after_close(engine):
    engine.ping()
    engine.create_data_set(config("lasting"))
    engine.close()
    assert engine.get_data_set("lasting") == config("lasting")  # reconnects by itself
    engine.ping()
