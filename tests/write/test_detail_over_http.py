"""The write API renders an error's ``detail`` beside SPEC's messages."""

from __future__ import annotations


def test_an_invalid_record_answers_the_messages_and_the_rule(client, auth):
    response = client.post("/data/group/type", json=[{"a": 1}], headers=auth)
    assert response.status_code == 400
    body = response.get_json()
    assert body["status"] == "error"
    assert body["messages"] == ["record 0: a is not a valid key"]
    assert body["detail"].startswith("keys match ^[a-z_][a-z0-9_]+$ in any case")


def test_a_patch_keeps_the_detail(client, auth):
    client.post("/data/group/type", json={"_id": "one", "count": 1}, headers=auth)
    response = client.patch("/data/group/type/one", json={"nested": [1]}, headers=auth)
    assert response.status_code == 400
    assert response.get_json() == {
        "status": "error",
        "messages": ["nested has an invalid value"],
        "detail": "values are strings, numbers, booleans or null, not objects or arrays",
    }


def test_errors_without_detail_keep_their_exact_body(client, token):
    response = client.post("/data/group/type", json={"x1": 1})
    assert response.get_json() == {
        "status": "error",
        "message": "Expected header of form: Authorization: Bearer <token>",
    }
