"""Storage contract, part 4: the document store (kind, id, version, body), on every engine."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from backdrop.errors import VersionConflict

BODY = {"title": "Visits", "n": 3, "ratio": 0.5, "on": True, "none": None, "list": [1, "a"]}


def test_a_created_document_comes_back_exactly(engine):
    before = datetime.now(UTC) - timedelta(seconds=1)
    stored = engine.documents.put("dashboard", "visits", BODY, expected_version=0)
    assert (stored.kind, stored.id, stored.version, stored.body) == ("dashboard", "visits", 1, BODY)
    got = engine.documents.get("dashboard", "visits")
    assert got == stored
    assert got.updated_at.tzinfo is not None and got.updated_at >= before


def test_unknown_documents_are_none_and_empty_lists(engine):
    assert engine.documents.get("dashboard", "nothing") is None
    assert engine.documents.list("dashboard") == []
    assert engine.documents.delete("dashboard", "nothing") is False


def test_kinds_are_separate_namespaces(engine):
    engine.documents.put("dashboard", "same", {"a": 1})
    engine.documents.put("source", "same", {"b": 2})
    assert engine.documents.get("dashboard", "same").body == {"a": 1}
    assert engine.documents.get("source", "same").body == {"b": 2}
    assert [d.body for d in engine.documents.list("source")] == [{"b": 2}]


def test_each_put_bumps_the_version(engine):
    engine.documents.put("setting", "key", {"v": 1})
    second = engine.documents.put("setting", "key", {"v": 2})
    third = engine.documents.put("setting", "key", {"v": 3}, expected_version=2)
    assert (second.version, third.version) == (2, 3)
    assert engine.documents.get("setting", "key").body == {"v": 3}


def test_create_only_refuses_an_existing_document(engine):
    engine.documents.put("dashboard", "d", {"v": 1}, expected_version=0)
    with pytest.raises(VersionConflict):
        engine.documents.put("dashboard", "d", {"v": 2}, expected_version=0)
    assert engine.documents.get("dashboard", "d").body == {"v": 1}


def test_a_stale_version_is_refused_and_changes_nothing(engine):
    engine.documents.put("dashboard", "d", {"v": 1})
    engine.documents.put("dashboard", "d", {"v": 2})
    with pytest.raises(VersionConflict):
        engine.documents.put("dashboard", "d", {"v": 3}, expected_version=1)
    with pytest.raises(VersionConflict):
        engine.documents.put("dashboard", "missing", {"v": 1}, expected_version=1)
    assert engine.documents.get("dashboard", "d").version == 2
    assert engine.documents.get("dashboard", "missing") is None


def test_delete_removes_one_document(engine):
    engine.documents.put("upload", "a", {"n": 1})
    engine.documents.put("upload", "b", {"n": 2})
    assert engine.documents.delete("upload", "a") is True
    assert [d.id for d in engine.documents.list("upload")] == ["b"]
    assert engine.documents.delete("upload", "a") is False


def test_delete_with_a_stale_version_is_refused(engine):
    engine.documents.put("upload", "a", {"n": 1})
    engine.documents.put("upload", "a", {"n": 2})
    with pytest.raises(VersionConflict):
        engine.documents.delete("upload", "a", expected_version=1)
    assert engine.documents.delete("upload", "a", expected_version=2) is True


def test_list_is_sorted_by_id_and_filters_on_top_level_fields(engine):
    for id_, data_set, on in (("c", "x", True), ("a", "x", False), ("b", "y", True)):
        engine.documents.put("transform", id_, {"data_set": data_set, "on": on, "n": 1})
    assert [d.id for d in engine.documents.list("transform")] == ["a", "b", "c"]
    assert [d.id for d in engine.documents.list("transform", {"data_set": "x"})] == ["a", "c"]
    assert [d.id for d in engine.documents.list("transform", {"data_set": "x", "on": True})] == [
        "c"
    ]
    assert engine.documents.list("transform", {"data_set": "nothing"}) == []


def test_filters_keep_true_apart_from_one_and_text_apart_from_numbers(engine):
    engine.documents.put("setting", "bool", {"v": True})
    engine.documents.put("setting", "int", {"v": 1})
    engine.documents.put("setting", "text", {"v": "1"})
    assert [d.id for d in engine.documents.list("setting", {"v": True})] == ["bool"]
    assert [d.id for d in engine.documents.list("setting", {"v": 1})] == ["int"]
    assert [d.id for d in engine.documents.list("setting", {"v": "1"})] == ["text"]


def test_unicode_and_nested_bodies_round_trip(engine):
    body = {"title": "Café ☕ \u2028", "tiles": [{"query": {"period": "week"}, "n": [1, 2.5]}]}
    engine.documents.put("dashboard", "ünïcode-id", body)
    assert engine.documents.get("dashboard", "ünïcode-id").body == body


def test_documents_survive_reconnecting(engine):
    engine.documents.put("setting", "secret", {"value": "s"})
    engine.close()
    assert engine.documents.get("setting", "secret").body == {"value": "s"}


@pytest.mark.parametrize("expected", [0, 1])
def test_of_concurrent_puts_expecting_one_version_exactly_one_wins(engine, expected):
    if expected:
        engine.documents.put("dashboard", "race", {"writer": -1})
    outcomes: list[str] = []
    barrier = threading.Barrier(8)

    def writer(n: int) -> None:
        barrier.wait()
        try:
            engine.documents.put("dashboard", "race", {"writer": n}, expected_version=expected)
            outcomes.append(f"won {n}")
        except VersionConflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [o for o in outcomes if o.startswith("won")]
    assert len(outcomes) == 8 and len(winners) == 1
    stored = engine.documents.get("dashboard", "race")
    assert stored.version == expected + 1
    assert f"won {stored.body['writer']}" == winners[0]
