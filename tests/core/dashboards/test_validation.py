"""Dashboard validation: the shipped JSON Schema, then each tile's query and
data set; every problem named by its JSON path with what is allowed."""

from __future__ import annotations

import jsonschema
import pytest

from backdrop.core.dashboards.validation import InvalidDashboard, schema, validate
from backdrop.core.data_sets import Registry
from backdrop.core.storage.sqlite import SQLiteEngine

TILE = {
    "title": "Visits",
    "data_set": "visits",
    "chart": "line",
    "query": {"period": "week", "duration": 4},
}


@pytest.fixture
def registry(tmp_path):
    engine = SQLiteEngine(f"sqlite:///{tmp_path}/v.db")
    registry = Registry(engine)
    registry.create({"name": "visits"})
    registry.create({"name": "locked", "raw_queries_allowed": False})
    yield registry
    engine.close()


def messages(body, registry) -> list[str]:
    with pytest.raises(InvalidDashboard) as raised:
        validate(body, registry)
    assert raised.value.status == 400
    return raised.value.messages


def test_the_shipped_schema_is_a_valid_json_schema():
    jsonschema.Draft202012Validator.check_schema(schema())


def test_a_valid_dashboard_gets_its_defaults(registry):
    rate = {
        "title": "Completion",
        "data_set": "visits",
        "chart": "rate",
        "options": {
            "numerator_matcher": "done",
            "denominator_matcher": "start",
            "matching_attribute": "stage",
        },
    }
    valid = validate({"title": "Site", "tiles": [TILE, rate]}, registry)
    assert valid["description"] == "" and valid["published"] is False
    assert valid["tiles"][1]["query"] == {} and valid["tiles"][0]["options"] == {}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ([], "$: [] is not of type 'object'"),
        ({"tiles": []}, "$: 'title' is a required property"),
        ({"title": "", "tiles": []}, "title: '' should be non-empty"),
        ({"title": 3, "tiles": []}, "title: 3 is not of type 'string'"),
        ({"title": "t", "tiles": {}}, "tiles: {} is not of type 'array'"),
        (
            {"title": "t", "tiles": [], "owner": "me"},
            "$: Additional properties are not allowed ('owner' was unexpected); "
            "allowed: description, published, tiles, title",
        ),
        (
            {"title": "t", "tiles": [{**TILE, "chart": "pie"}]},
            "tiles[0].chart: "
            + '"pie" is not allowed; use one of "line", "bar", "number", "rate", "table"',
        ),
        (
            {"title": "t", "tiles": [{**TILE, "data_set": "Bad Name"}]},
            "tiles[0].data_set: 'Bad Name' does not match '^[a-z0-9][a-z0-9_-]*$'",
        ),
        (
            {"title": "t", "tiles": [{**TILE, "query": {"filter_by": {"a": 1}}}]},
            "tiles[0].query.filter_by: {'a': 1} is not valid under any of the given schemas",
        ),
        (
            {
                "title": "t",
                "tiles": [{**TILE, "chart": "rate", "options": {"numerator_matcher": "a"}}],
            },
            "tiles[0].options: 'denominator_matcher' is a required property (a rate tile needs "
            "options numerator_matcher, denominator_matcher, matching_attribute)",
        ),
        (
            {"title": "t", "tiles": [{**TILE, "chart": "rate"}]},
            "tiles[0]: 'options' is a required property (a rate tile needs options "
            "numerator_matcher, denominator_matcher, matching_attribute)",
        ),
        (
            {"title": "t", "tiles": [{**TILE, "published": True}]},
            "tiles[0]: Additional properties are not allowed ('published' was unexpected); "
            "allowed: chart, data_set, options, query, title",
        ),
    ],
)
def test_each_kind_of_schema_error_names_its_path(registry, body, expected):
    assert expected in messages(body, registry)


def test_every_schema_error_is_reported_at_once(registry):
    body = {"title": "", "tiles": [{**TILE, "chart": "pie"}, {"title": "x"}]}
    found = messages(body, registry)
    assert len(found) == 4  # title, chart, and tiles[1]'s data_set and chart
    assert any(m.startswith("tiles[1]: 'data_set' is a required") for m in found)


def test_a_tile_on_a_data_set_that_does_not_exist(registry):
    body = {"title": "t", "tiles": [{**TILE, "data_set": "nope"}]}
    assert messages(body, registry) == ["tiles[0].data_set: no data set named 'nope'"]


def test_a_tile_query_the_read_api_would_refuse(registry):
    body = {"title": "t", "tiles": [TILE, {**TILE, "query": {"period": "fortnight"}}]}
    [message] = messages(body, registry)
    assert message.startswith("tiles[1].query: ")
    assert "period" in message


def test_a_tile_query_is_checked_with_its_data_sets_rules(registry):
    raw = {**TILE, "data_set": "locked", "query": {}}
    [message] = messages({"title": "t", "tiles": [raw]}, registry)
    assert message.startswith("tiles[0].query: ")
    body = {"title": "t", "tiles": [{**raw, "data_set": "visits"}]}
    assert validate(body, registry)["tiles"][0]["data_set"] == "visits"
