"""The rollup fields of a data-set config through the admin API: what is
kept, and a 400 naming the problem for each kind of bad input."""

from __future__ import annotations

import pytest

DIMENSIONS = ["channel", "region", ["department", "page"]]


def test_a_config_keeps_its_dimensions_measures_and_grain(client, admin):
    body = {
        "name": "tiles",
        "dimensions": DIMENSIONS,
        "measures": ["value"],
        "rollup_grain": "hour",
    }
    created = client.post("/data-sets", json=body, headers=admin)
    assert created.status_code == 201, created.get_json()
    shown = client.get("/data-sets/tiles", headers=admin).get_json()
    assert shown["dimensions"] == DIMENSIONS
    assert shown["measures"] == ["value"]
    assert shown["rollup_grain"] == "hour"


def test_the_defaults_are_no_rollup_by_day(client, admin, make_data_set):
    make_data_set("plain")
    shown = client.get("/data-sets/plain", headers=admin).get_json()
    assert (shown["dimensions"], shown["measures"], shown["rollup_grain"]) == (None, None, "day")


def test_update_sets_and_clears_the_rollup_fields(client, admin, make_data_set):
    make_data_set("things")
    changed = client.patch("/data-sets/things", json={"dimensions": ["channel"]}, headers=admin)
    assert changed.status_code == 200 and changed.get_json()["dimensions"] == ["channel"]
    cleared = client.patch("/data-sets/things", json={"dimensions": None}, headers=admin)
    assert cleared.status_code == 200 and cleared.get_json()["dimensions"] is None


BAD = [
    ({"dimensions": "channel"}, "dimensions must be a list"),
    ({"dimensions": {"channel": 1}}, "dimensions must be a list"),
    ({"dimensions": [""]}, "dimensions[0] must be a field name"),
    ({"dimensions": [1]}, "dimensions[0] must be a field name"),
    ({"dimensions": [[]]}, "dimensions[0] must be a field name or a non-empty list"),
    ({"dimensions": [["a1", ["b1"]]]}, "dimensions[0][1] must be a field name"),
    ({"dimensions": ["_timestamp"]}, "dimensions[0] is not a field that can be rolled up"),
    ({"dimensions": ["ok", "_id"]}, "dimensions[1] is not a field that can be rolled up"),
    ({"dimensions": ["foo-bar"]}, "dimensions[0] is not a field that can be rolled up"),
    ({"dimensions": ["a"]}, "dimensions[0] is not a field that can be rolled up"),
    ({"dimensions": ["9lives"]}, "dimensions[0] is not a field that can be rolled up"),
    ({"dimensions": [["aa", "bb", "cc", "dd", "ee"]]}, "groups 5 fields; a group has at most 4"),
    ({"dimensions": [["aa", "aa"]]}, "dimensions[0] names a field twice"),
    ({"dimensions": ["aa", "aa"]}, "dimensions[1] repeats an earlier entry"),
    ({"dimensions": [["aa", "bb"], ["bb", "aa"]]}, "dimensions[1] repeats an earlier entry"),
    ({"dimensions": ["aa", ["aa"]]}, "dimensions[1] repeats an earlier entry"),
    ({"dimensions": [f"f{i:02}" for i in range(17)]}, "dimensions has 17 entries; at most 16"),
    ({"measures": "value"}, "measures must be a list"),
    ({"measures": [""]}, "measures[0] must be a field name"),
    ({"measures": [None]}, "measures[0] must be a field name"),
    ({"measures": ["_count"]}, "measures[0] is not a field that can be rolled up"),
    ({"measures": ["a b"]}, "measures[0] is not a field that can be rolled up"),
    ({"measures": ["value", "value"]}, "measures names a field twice: value"),
    ({"measures": [f"m{i:02}" for i in range(17)]}, "measures has 17 entries; at most 16"),
    (
        {"dimensions": ["region", ["channel", "value"]], "measures": ["value"]},
        "value cannot be both a dimension and a measure",
    ),
    ({"rollup_grain": "week"}, "rollup_grain must be 'day' or 'hour'"),
    ({"rollup_grain": None}, "rollup_grain must be 'day' or 'hour'"),
]


@pytest.mark.parametrize(("fields", "message"), BAD)
def test_create_rejects_bad_rollup_fields(client, admin, fields, message):
    response = client.post("/data-sets", json={"name": "bad", **fields}, headers=admin)
    assert response.status_code == 400
    assert message in response.get_json()["message"]
    assert client.get("/data-sets/bad", headers=admin).status_code == 404


@pytest.mark.parametrize(("fields", "message"), BAD)
def test_update_rejects_bad_rollup_fields(client, admin, make_data_set, fields, message):
    make_data_set("things")
    response = client.patch("/data-sets/things", json=fields, headers=admin)
    assert response.status_code == 400
    assert message in response.get_json()["message"]
    shown = client.get("/data-sets/things", headers=admin).get_json()
    assert (shown["dimensions"], shown["measures"]) == (None, None)


def test_a_measure_may_not_become_a_dimension_of_the_stored_config(client, admin, make_data_set):
    make_data_set("things", measures=["value"])
    response = client.patch("/data-sets/things", json={"dimensions": ["value"]}, headers=admin)
    assert response.status_code == 400
    assert response.get_json()["message"] == "value cannot be both a dimension and a measure"


def test_a_bad_field_name_says_what_is_allowed(client, admin):
    response = client.post("/data-sets", json={"name": "bad", "measures": ["_x"]}, headers=admin)
    assert "not starting with _" in response.get_json()["detail"]
