"""GET/POST /data-sets/<name>/transforms and DELETE …/<id> on the write app."""

import pytest

from tests.transformers.conftest import ADMIN

ROLLUP = {
    "type": "rollup",
    "query": {"period": "week", "group_by": ["stage"], "collect": ["value:sum"]},
    "options": {"additionalFields": {"service": "tax"}},
    "output": {"data_group": "src", "data_type": "weekly"},
}


@pytest.fixture(autouse=True)
def source(make_data_set):
    make_data_set("src")


def test_add_list_and_remove(write):
    added = write.post("/data-sets/src/transforms", json=ROLLUP, headers=ADMIN)
    assert added.status_code == 201
    assert added.json == {"id": added.json["id"], **ROLLUP}

    listed = write.get("/data-sets/src/transforms", headers=ADMIN)
    assert listed.status_code == 200
    assert listed.json == [added.json]

    removed = write.delete(f"/data-sets/src/transforms/{added.json['id']}", headers=ADMIN)
    assert removed.status_code == 200
    assert removed.json["status"] == "ok"
    assert write.get("/data-sets/src/transforms", headers=ADMIN).json == []


def test_options_and_query_default_to_empty(write):
    body = {"type": "rate", "query": {"period": "day", "group_by": ["stage"]}}
    body["options"] = {
        "matchingAttribute": "stage",
        "numeratorMatcher": "a",
        "denominatorMatcher": ".",
    }
    body["output"] = {"data_group": "src", "data_type": "rate"}
    assert write.post("/data-sets/src/transforms", json=body, headers=ADMIN).status_code == 201
    body = {"type": "user_satisfaction", "query": {"group_by": ["service"]}}
    body["output"] = {"data_group": "src", "data_type": "satisfaction"}
    added = write.post("/data-sets/src/transforms", json=body, headers=ADMIN)
    assert added.status_code == 201
    assert added.json["options"] == {}


def _with(**changes):
    return {**ROLLUP, **changes}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([], "Expected a JSON object describing the transform"),
        (_with(extra=1), "Unknown transform fields: extra"),
        ({k: v for k, v in ROLLUP.items() if k != "type"}, "type is required; registered types:"),
        (_with(type="os.system"), "Unknown transform type 'os.system'"),
        (
            _with(type="backdrop.transformers.builtin.rollup:rollup"),
            "Unknown transform type 'backdrop.transformers.builtin.rollup:rollup'",
        ),
        (_with(query="period=week"), "Invalid query: query must be an object"),
        (_with(query={"period": "fortnight"}), "Invalid query: Unrecognised grouping for period"),
        (_with(query={"colour": "red"}), "Invalid query: An unrecognised parameter was provided"),
        (_with(query={"group_by": ["_id"]}), "Cannot group by internal fields"),
        (_with(query={"group_by": ["aa"], "collect": ["bb:median"]}), "Unknown collection method"),
        (_with(query={"filter_by": ["a"]}), "Invalid query: filter_by must be a field name"),
        (
            _with(query={"period": "week", "start_at": "2024-01-01T00:00:00"}),
            "query cannot set start_at",
        ),
        (_with(query={"period": "week", "duration": 3}), "query cannot set duration"),
        (_with(query={"group_by": {"a": 1}}), "query.group_by must be a string or a list"),
        (_with(query={}), "a transform query must group its records"),
        (_with(query={"group_by": "aa", "collect": ["bb"]}), "cannot collect sets"),
        (_with(options=[]), "options must be an object"),
        (_with(options={"additionalFields": "x"}), "options.additionalFields must be an object"),
        (_with(options={"additionalFields": {"_id": "x"}}), "_id is not a valid key"),
        (_with(options={"additionalFields": {"bad-key": 1}}), "bad-key is not a valid key"),
        (_with(options={"additionalFields": {"kk": [1]}}), "kk has an invalid value"),
        (_with(output=None), 'output must be {"data_group": …, "data_type": …}'),
        (_with(output={"data_group": "g"}), 'output must be {"data_group"'),
        (_with(output={"data_group": "G!", "data_type": "t"}), "output.data_group must match"),
        (
            _with(output={"data_group": "src", "data_type": "src"}),
            "output must be another data set",
        ),
        (
            _with(type="rate", options={"matchingAttribute": "stage"}),
            "Invalid options for rate: options.numeratorMatcher must be a non-empty string",
        ),
        (
            _with(type="mapping", options={"mappingKeys": ["stage"], "mappings": {"(": "x"}}),
            "Invalid options for mapping: options.mappings: '(' is not a valid regex",
        ),
    ],
)
def test_bad_transforms_get_400_with_a_message_and_are_not_stored(write, body, message):
    response = write.post("/data-sets/src/transforms", json=body, headers=ADMIN)
    assert response.status_code == 400
    assert response.json["status"] == "error"
    assert message in response.json["message"]
    assert write.get("/data-sets/src/transforms", headers=ADMIN).json == []


def test_unparseable_and_empty_bodies(write):
    empty = write.post("/data-sets/src/transforms", data=b"", headers=ADMIN)
    assert (empty.status_code, empty.json["message"]) == (
        400,
        "Expected JSON request body but received zero bytes.",
    )
    broken = write.post("/data-sets/src/transforms", data=b"{", headers=ADMIN)
    assert broken.status_code == 400
    assert broken.json["message"].startswith("Error parsing JSON: ")


def test_unknown_data_set_and_transform_are_404(write):
    for method, path in [
        ("get", "/data-sets/nope/transforms"),
        ("post", "/data-sets/nope/transforms"),
        ("delete", "/data-sets/nope/transforms/1"),
    ]:
        kwargs = {"json": ROLLUP} if method == "post" else {}
        response = getattr(write, method)(path, headers=ADMIN, **kwargs)
        assert response.status_code == 404
        assert response.json["message"] == 'No collection exists with name "nope"'
    missing = write.delete("/data-sets/src/transforms/999", headers=ADMIN)
    assert missing.status_code == 404
    assert missing.json["message"] == "No transform with id '999' for data set 'src'"


def test_admin_token_is_required(write, make_data_set):
    token = make_data_set("other")
    for headers in ({}, token, {"Authorization": "Bearer wrong"}):
        response = write.get("/data-sets/src/transforms", headers=headers)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == "bearer"
        response = write.post("/data-sets/src/transforms", json=ROLLUP, headers=headers)
        assert response.status_code == 401
    assert write.get("/data-sets/src/transforms", headers=ADMIN).json == []


def test_admin_api_is_disabled_without_an_admin_token(tmp_path):
    from backdrop.settings import Settings
    from backdrop.write import create_app

    app = create_app(Settings(database_url=f"sqlite:///{tmp_path}/x.db"))
    response = app.test_client().get("/data-sets/src/transforms", headers=ADMIN)
    assert response.status_code == 403
    assert "BACKDROP_ADMIN_TOKEN" in response.json["message"]
    app.extensions["backdrop"].engine.close()
