"""Record write routes and the error table of SPEC 4, through the Flask test client."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote

import pytest

from backdrop.core.periods import PERIOD_KEYS
from backdrop.core.query import Where

URL = "/data/group/type"


def test_post_one_object(client, auth, stored):
    response = client.post(URL, json={"_id": "a", "value": 1}, headers=auth)
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
    (record,) = stored()
    assert record["_id"] == "a" and record["value"] == 1
    assert record["_updated_at"].tzinfo is not None


def test_post_a_batch(client, auth, stored):
    batch = [{"_timestamp": f"2024-01-0{day}T00:00:00Z", "num": day} for day in range(1, 6)]
    assert client.post(URL, json=batch, headers=auth).get_json() == {"status": "ok"}
    records = stored()
    assert sorted(r["num"] for r in records) == [1, 2, 3, 4, 5]
    assert not set(PERIOD_KEYS) & set(records[0])


def test_writing_an_existing_id_replaces_it(client, auth, stored):
    client.post(URL, json=[{"_id": "a", "value": 1}], headers=auth)
    client.post(URL, json=[{"_id": "a", "value": 2}], headers=auth)
    assert [(r["_id"], r["value"]) for r in stored()] == [("a", 2)]


def test_a_batch_with_one_invalid_record_stores_nothing(client, auth, stored):
    batch = [{"_id": "good", "value": 1}, {"_id": "bad", "foo-bar": 2}, {"_id": "also", "value": 3}]
    response = client.post(URL, json=batch, headers=auth)
    assert response.status_code == 400
    assert response.get_json()["messages"] == ["record 1: foo-bar is not a valid key"]
    assert stored() == []


def test_all_errors_are_returned(client, auth):
    response = client.post(
        URL, json=[{"_foo": 1}, {"nested": {"x": 1}, "_timestamp": "nope"}], headers=auth
    )
    assert response.status_code == 400
    assert response.get_json()["messages"] == [
        "record 0: _foo is not a recognised internal field",
        "record 1: nested has an invalid value",
        "record 1: nope in the _timestamp field is not a valid date",
    ]


def test_writes_dispatch_the_batch_time_range(client, auth, dispatcher):
    batch = [
        {"_timestamp": "2024-01-03T00:00:00Z"},
        {"value": "no timestamp"},
        {"_timestamp": "2024-01-01T12:00:00+01:00"},
    ]
    client.post(URL, json=batch, headers=auth)
    assert dispatcher.calls == [
        ("things", datetime(2024, 1, 1, 11, tzinfo=UTC), datetime(2024, 1, 3, tzinfo=UTC))
    ]


def test_a_batch_without_timestamps_dispatches_nothing(client, auth, dispatcher):
    assert client.post(URL, json=[{"value": 1}], headers=auth).status_code == 200
    assert dispatcher.calls == []


def test_a_failing_dispatcher_never_fails_a_committed_write(app, client, auth, stored):
    class Broken:
        def dispatch(self, *args):
            raise RuntimeError("broker down")

    app.extensions["backdrop"]._dispatcher = Broken()
    response = client.post(URL, json={"_timestamp": "2024-01-01T00:00:00Z"}, headers=auth)
    assert response.status_code == 200
    assert len(stored()) == 1


def test_write_is_audited_without_the_token(client, auth, token, caplog):
    caplog.set_level("INFO", logger="backdrop")
    client.post(URL, json=[{"_timestamp": "2024-01-01T00:00:00Z"}, {"value": 1}], headers=auth)
    (line,) = [r for r in caplog.records if r.name == "backdrop.audit"]
    assert line.data_set == "things" and line.records == 2
    assert line.start == line.end == "2024-01-01T00:00:00+00:00"
    assert all(token not in r.getMessage() for r in caplog.records)


def test_put_empty_list_empties_the_data_set(client, auth, stored):
    client.post(URL, json=[{"value": 1}, {"value": 2}], headers=auth)
    response = client.put(URL, json=[], headers=auth)
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "message": "things now contains 0 records"}
    assert stored() == []


def test_put_anything_else_is_refused(client, auth, stored):
    client.post(URL, json=[{"value": 1}], headers=auth)
    response = client.put(URL, json=[{"value": 2}], headers=auth)
    assert response.status_code == 400
    assert response.get_json()["message"] == (
        "Not implemented: you can only pass an empty JSON list"
    )
    assert len(stored()) == 1


def test_delete_a_record(client, auth, stored, dispatcher):
    client.post(URL, json=[{"_id": "a.b", "value": 1}, {"_id": "keep"}], headers=auth)
    client.post(URL, json=[{"_id": "x:1", "_timestamp": "2024-02-02T00:00:00Z"}], headers=auth)
    response = client.delete(f"{URL}/{quote('x:1', safe='')}", headers=auth)
    assert response.get_json() == {"status": "ok"}
    assert sorted(r["_id"] for r in stored()) == ["a.b", "keep"]
    assert dispatcher.calls[-1][1] == datetime(2024, 2, 2, tzinfo=UTC)


def test_delete_a_record_whose_id_has_a_slash(client, auth, stored):
    client.post(URL, json=[{"_id": "a/b"}, {"_id": "keep"}], headers=auth)
    assert client.delete(f"{URL}/{quote('a/b', safe='')}", headers=auth).status_code == 200
    assert [r["_id"] for r in stored()] == ["keep"]


def test_delete_an_unknown_record_is_404(client, auth):
    response = client.delete(f"{URL}/nope", headers=auth)
    assert response.status_code == 404
    assert response.get_json()["status"] == "error"


def test_patch_merges_revalidates_and_recomputes_period_keys(app, client, auth, stored):
    client.post(
        URL,
        json={"_id": "a", "_timestamp": "2024-01-01T00:00:00Z", "value": 1, "width": 2},
        headers=auth,
    )
    response = client.patch(
        f"{URL}/a", json={"_timestamp": "2024-06-15T10:00:00Z", "value": 5}, headers=auth
    )
    assert response.get_json() == {"status": "ok"}
    (record,) = stored()
    assert record["_id"] == "a" and record["value"] == 5 and record["width"] == 2
    assert record["_timestamp"] == datetime(2024, 6, 15, 10, tzinfo=UTC)
    grouped = app.extensions["backdrop"].engine.records.aggregate(
        "things", Where(), (), "month", ()
    )
    assert [row["_start_at"] for row in grouped] == [datetime(2024, 6, 1, tzinfo=UTC)]


def test_patch_keeps_the_id_of_an_auto_id_data_set(client, make_data_set, stored):
    token = make_data_set("auto", auto_ids=["kind"])
    headers = {"Authorization": f"Bearer {token}"}
    client.post("/data/auto/auto", json={"kind": "x", "value": 1}, headers=headers)
    (record,) = stored("auto")
    response = client.patch(f"/data/auto/auto/{record['_id']}", json={"kind": "y"}, headers=headers)
    assert response.status_code == 200
    assert [(r["_id"], r["kind"]) for r in stored("auto")] == [(record["_id"], "y")]


def test_patch_with_invalid_fields_changes_nothing(client, auth, stored):
    client.post(URL, json={"_id": "a", "value": 1}, headers=auth)
    response = client.patch(f"{URL}/a", json={"bad-key": 1}, headers=auth)
    assert response.status_code == 400
    assert response.get_json()["messages"] == ["bad-key is not a valid key"]
    assert stored()[0]["value"] == 1


def test_patch_cannot_change_the_id(client, auth):
    client.post(URL, json={"_id": "a"}, headers=auth)
    response = client.patch(f"{URL}/a", json={"_id": "b"}, headers=auth)
    assert response.status_code == 400


def test_patch_an_unknown_record_is_404(client, auth):
    assert client.patch(f"{URL}/nope", json={"value": 1}, headers=auth).status_code == 404


def test_transform_trigger_dispatches_the_range(client, auth, dispatcher):
    response = client.post(
        f"{URL}/transform",
        json={"_start_at": "2024-01-01T00:00:00Z", "_end_at": "2024-01-08T00:00:00Z"},
        headers=auth,
    )
    assert response.get_json() == {"status": "ok"}
    assert dispatcher.calls == [
        ("things", datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 8, tzinfo=UTC))
    ]


def test_transform_trigger_end_defaults_to_now(client, auth, dispatcher):
    before = datetime.now(UTC)
    client.post(f"{URL}/transform", json={"_start_at": "2024-01-01T00:00:00"}, headers=auth)
    (_, start, end) = dispatcher.calls[0]
    assert start == datetime(2024, 1, 1, tzinfo=UTC) and end >= before


def test_transform_trigger_needs_a_start(client, auth, dispatcher):
    response = client.post(f"{URL}/transform", json={"_end_at": "2024-01-01"}, headers=auth)
    assert response.status_code == 400
    assert response.get_json()["message"] == "You must specify a _start_at timestamp"
    assert dispatcher.calls == []


def test_transform_trigger_rejects_a_bad_date(client, auth):
    response = client.post(f"{URL}/transform", json={"_start_at": "soon"}, headers=auth)
    assert response.status_code == 400
    assert response.get_json()["message"] == "soon in the _start_at field is not a valid date"


def test_legacy_write_by_name(client, auth, stored):
    response = client.post("/things", json=[{"value": 1}], headers=auth)
    assert response.status_code == 200
    assert response.get_json() == {
        "status": "ok",
        "message": "Deprecation Warning: accessing by data-set name is deprecated, "
        "Please use the /data-group/data-type form",
    }
    assert len(stored()) == 1


def test_status(client):
    response = client.get("/_status")
    assert response.get_json() == {"status": "ok", "message": "app is up"}


# --- the error table of SPEC 4 ---


def test_unknown_data_set_is_404(client, auth):
    for response in (
        client.post("/data/no/where", json={}, headers=auth),
        client.post("/nowhere", json={}, headers=auth),
    ):
        assert response.status_code == 404
        body = response.get_json()
        assert body["status"] == "error" and body["message"]


@pytest.mark.parametrize(
    "header",
    [None, "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Token abc", "Bearer two words"],
)
def test_missing_or_malformed_authorization_is_401(client, token, stored, header):
    headers = {} if header is None else {"Authorization": header}
    response = client.post(URL, json={"value": 1}, headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "bearer"
    assert response.get_json() == {
        "status": "error",
        "message": "Expected header of form: Authorization: Bearer <token>",
    }
    assert stored() == []


def test_wrong_token_is_401_naming_the_token_and_data_set(client, token, stored):
    response = client.post(URL, json={"value": 1}, headers={"Authorization": "Bearer wrong"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "bearer"
    assert response.get_json()["message"] == (
        "Unauthorized: Invalid bearer token 'wrong' for 'things'"
    )
    assert stored() == []


def test_another_data_sets_token_is_refused(client, make_data_set, token):
    other = make_data_set("other")
    response = client.post(URL, json={"value": 1}, headers={"Authorization": f"Bearer {other}"})
    assert response.status_code == 401


def test_every_write_route_needs_the_token(client, token):
    for method, path in [
        ("put", URL),
        ("patch", f"{URL}/a"),
        ("delete", f"{URL}/a"),
        ("post", f"{URL}/transform"),
        ("post", "/things"),
    ]:
        response = getattr(client, method)(path, json=[])
        assert response.status_code == 401, (method, path)


def test_empty_body_is_400(client, auth):
    response = client.post(URL, data=b"", headers=auth, content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["message"] == "Expected JSON request body but received zero bytes."


@pytest.mark.parametrize("body", [b"{", b"not json", b"[1,]", b"   "])
def test_unparseable_json_is_400(client, auth, body):
    response = client.post(URL, data=body, headers=auth, content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["message"].startswith("Error parsing JSON: ")


def test_body_over_the_limit_is_413(client, auth, settings, stored):
    body = b'{"value": "' + b"x" * settings.max_body_bytes + b'"}'
    response = client.post(URL, data=body, headers=auth, content_type="application/json")
    assert response.status_code == 413
    assert response.get_json()["status"] == "error"
    assert stored() == []


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", URL),
        ("delete", URL),
        ("options", URL),
        ("get", f"{URL}/a"),
        ("put", f"{URL}/a"),
        ("get", "/things"),
        ("post", "/_status"),
        ("put", "/data-sets"),
    ],
)
def test_wrong_method_is_405_json(client, token, method, path):
    response = getattr(client, method)(path)
    assert response.status_code == 405
    body = response.get_json()
    assert body["status"] == "error" and body["message"]


def test_an_empty_batch_is_ok_and_stores_nothing(client, auth, stored, dispatcher):
    response = client.post(URL, json=[], headers=auth)
    assert response.get_json() == {"status": "ok"}
    assert stored() == [] and dispatcher.calls == []


@pytest.mark.parametrize(
    "body", [b'[{"value": NaN}]', b'[{"value": 1e400}]', b"\xff\xfe", b'{"a": 1} {"b": 2}']
)
def test_json_that_cannot_be_stored_is_a_parse_error(client, auth, body, stored):
    response = client.post(URL, data=body, headers=auth, content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["message"].startswith("Error parsing JSON: ")
    assert stored() == []


@pytest.mark.parametrize("body", [b"5", b'"text"', b"null", b"[1, 2]"])
def test_non_object_records_are_invalid(client, auth, body):
    response = client.post(URL, data=body, headers=auth, content_type="application/json")
    assert response.status_code == 400
    assert "a record must be a JSON object" in response.get_json()["messages"][0]
