"""Every change leaves one audit line naming what changed, who changed it and
the request it came in; a refused request leaves none, and no line has a token."""

from __future__ import annotations

import logging

import pytest

from tests.write.conftest import ADMIN_TOKEN


@pytest.fixture
def audit_lines(caplog):
    caplog.set_level(logging.INFO, logger="backdrop")

    def lines():
        return [r for r in caplog.records if r.name == "backdrop.audit"]

    return lines


def _only(lines):
    (line,) = lines
    return line


def test_admin_changes_are_audited_as_admin(client, admin, audit_lines):
    client.post("/data-sets", json={"name": "a1"}, headers={**admin, "X-Request-Id": "r-create"})
    client.patch("/data-sets/a1", json={"realtime": True}, headers=admin)
    client.post("/data-sets/a1/token", headers=admin)
    client.delete("/data-sets/a1", headers=admin)
    lines = audit_lines()
    assert [line.action for line in lines] == [
        "data_set.create",
        "data_set.update",
        "data_set.rotate_token",
        "data_set.delete",
    ]
    assert {line.actor for line in lines} == {"admin"}
    assert {line.data_set for line in lines} == {"a1"}
    assert lines[0].request_id == "r-create"
    assert lines[1].fields == ["realtime"]
    assert lines[1].getMessage() == "changed realtime of data set a1"


def test_record_writes_are_audited_with_count_and_range(client, auth, audit_lines):
    records = [
        {"_id": "1", "_timestamp": "2024-01-01T00:00:00Z"},
        {"_id": "2", "_timestamp": "2024-01-03T00:00:00Z"},
    ]
    client.post("/data/group/type", json=records, headers={**auth, "X-Request-Id": "w-1"})
    client.patch("/data/group/type/1", json={"count": 1}, headers=auth)
    client.delete("/data/group/type/2", headers=auth)
    client.put("/data/group/type", json=[], headers=auth)
    lines = audit_lines()
    assert [line.action for line in lines if line.action.startswith("records.")] == [
        "records.write",
        "records.patch",
        "records.delete",
        "records.empty",
    ]
    write = next(line for line in lines if line.action == "records.write")
    assert (write.records, write.start, write.end) == (
        2,
        "2024-01-01T00:00:00+00:00",
        "2024-01-03T00:00:00+00:00",
    )
    assert (write.actor, write.data_set, write.request_id) == ("data-set token", "things", "w-1")


def test_transform_changes_and_triggers_are_audited(client, admin, auth, audit_lines):
    transform = {
        "type": "rollup",
        "query": {"period": "week", "collect": ["count:sum"]},
        "output": {"data_group": "out", "data_type": "weekly"},
    }
    added = client.post("/data-sets/things/transforms", json=transform, headers=admin).get_json()
    trigger = {"_start_at": "2024-01-01T00:00:00Z"}
    client.post("/data/group/type/transform", json=trigger, headers=auth)
    client.delete(f"/data-sets/things/transforms/{added['id']}", headers=admin)
    actions = [line.action for line in audit_lines()]
    assert actions[-3:] == ["transform.add", "transforms.trigger", "transform.remove"]


def test_refused_requests_leave_no_audit_line(client, admin, token, audit_lines):
    client.post("/data-sets", json={"name": "Bad Name"}, headers=admin)
    client.post("/data/group/type", json={"a-b": 1}, headers={"Authorization": f"Bearer {token}"})
    client.post("/data/group/type", json={"count": 1}, headers={"Authorization": "Bearer wrong"})
    client.delete("/data-sets/things", headers={"Authorization": "Bearer wrong"})
    assert audit_lines() == []


def test_no_audit_line_holds_a_token(client, admin, caplog):
    caplog.set_level(logging.INFO, logger="backdrop")
    created = client.post("/data-sets", json={"name": "secretive"}, headers=admin).get_json()
    rotated = client.post("/data-sets/secretive/token", headers=admin).get_json()
    text = "\n".join(f"{r.getMessage()} {vars(r)}" for r in caplog.records)
    for secret in (created["bearer_token"], rotated["bearer_token"], ADMIN_TOKEN):
        assert secret not in text


def test_source_changes_are_audited_as_admin(client, admin, audit_lines):
    client.post("/data-sets", json={"name": "pulled"}, headers=admin)
    source = {"url": "https://example.org/latest.csv", "format": "csv", "schedule": "0 2 * * *"}
    added = client.post("/data-sets/pulled/sources", json=source, headers=admin).get_json()
    client.delete(f"/data-sets/pulled/sources/{added['id']}", headers=admin)
    lines = [line for line in audit_lines() if line.action.startswith("source.")]
    assert [(line.action, line.source_id, line.actor) for line in lines] == [
        ("source.add", added["id"], "admin"),
        ("source.remove", added["id"], "admin"),
    ]
