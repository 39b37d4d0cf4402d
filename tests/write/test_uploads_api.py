"""POST /data/<group>/<type>/upload and GET …/uploads over the write app (SPEC 8)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest

from backdrop.settings import Settings
from tests.core.files.conftest import xls_bytes, xlsx_bytes, zip_bomb_xlsx

URL = "/data/group/type/upload"
CSV = b"_timestamp,stage,count\n2024-01-01T00:00:00Z,start,3\n2024-01-03T00:00:00Z,end,4.5\n"


@pytest.fixture
def settings(tmp_path):
    return Settings(
        database_url=f"sqlite:///{tmp_path}/t.db",
        admin_token="admin-secret",
        max_upload_bytes=4 * 1024 * 1024,
        max_upload_rows=200_000,
        max_upload_unzipped_bytes=32 * 1024 * 1024,
        upload_batch_size=1000,
    )


def multipart(data: bytes, filename: str) -> tuple[bytes, str]:
    """A multipart/form-data body with the file in the field ``file``, built in
    memory (the test client would spool a large one to an unclosed temp file)."""
    boundary = "backdrop-test-boundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'
    ).encode()
    body = head + data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def send(client, auth, data: bytes, filename: str = "data.csv", query: str = ""):
    body, content_type = multipart(data, filename)
    return client.post(URL + query, data=body, headers=auth, content_type=content_type)


def plain(records):
    return sorted(
        ({k: v for k, v in r.items() if k not in ("_id", "_updated_at")} for r in records),
        key=lambda r: r["_timestamp"],
    )


EXPECTED = [
    {"_timestamp": datetime(2024, 1, 1, tzinfo=UTC), "stage": "start", "count": 3},
    {"_timestamp": datetime(2024, 1, 3, tzinfo=UTC), "stage": "end", "count": 4.5},
]


def test_a_csv_upload_stores_typed_records(client, auth, stored):
    response = send(client, auth, CSV)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["upload"]["records"] == 2
    assert plain(stored()) == EXPECTED


@pytest.mark.parametrize(("make", "name"), [(xlsx_bytes, "data.xlsx"), (xls_bytes, "data.xls")])
def test_an_excel_upload_stores_records_with_iso_dates(client, auth, stored, make, name):
    rows = [["_timestamp", "stage", "count"]]
    rows += [[datetime(2024, 1, 1), "start", 3], [datetime(2024, 1, 3), "end", 4.5]]
    response = send(client, auth, make({"Sheet1": rows}), name)
    assert response.status_code == 200, response.get_json()
    assert plain(stored()) == EXPECTED


def test_the_sheet_parameter_picks_a_sheet(client, auth, stored):
    book = xlsx_bytes({"one": [["stage"], ["a"]], "two": [["stage"], ["b"]]})
    assert send(client, auth, book, "b.xlsx", "?sheet=two").status_code == 200
    assert [r["stage"] for r in stored()] == ["b"]
    response = send(client, auth, book, "b.xlsx", "?sheet=three")
    assert response.status_code == 400
    assert response.get_json()["message"] == 'the workbook has no sheet named "three"'


def test_uploading_the_same_file_twice_stores_it_once(client, auth, stored):
    send(client, auth, CSV)
    send(client, auth, CSV)
    assert len(stored()) == 2


def test_a_dry_run_answers_columns_and_sample_and_stores_nothing(client, auth, stored):
    client.post("/data/group/type", json=[{"stage": "x", "region": "north"}], headers=auth)
    response = send(client, auth, CSV, query="?dry_run=true")
    assert response.status_code == 200
    body = response.get_json()
    assert body["records"] == 2
    assert body["columns"] == [
        {"name": "_timestamp", "type": "date", "empty": 0},
        {"name": "stage", "type": "string", "empty": 0},
        {"name": "count", "type": "number", "empty": 0},
        {"name": "_id", "type": "string", "empty": 0},
    ]
    assert [r["stage"] for r in body["sample"]] == ["start", "end"]
    assert body["new_columns"] == ["_timestamp", "count"]
    assert body["missing_columns"] == ["region"]
    assert len(stored()) == 1


def test_a_dry_run_of_a_bad_file_is_the_same_400(client, auth):
    bad = b"stage,stage\na,b\n"
    assert (
        send(client, auth, bad, query="?dry_run=true").get_json()
        == send(client, auth, bad).get_json()
    )


BAD_FILES = [
    ("empty.csv", b"", "the file is empty: expected a header row, then one row per record"),
    ("header.csv", b"stage,count\n", "the file has a header row but no data rows"),
    ("dup.csv", b"stage,Stage\na,b\n", 'row 1, column 2: duplicate header "Stage" (also column 1)'),
    ("key.csv", b"stage,foo-bar\na,b\n", "row 1, column 2: header foo-bar is not a valid key"),
    ("garbage.csv", bytes(range(256)) * 8, "the file holds binary data"),
    ("csv.xlsx", CSV, "the file is named csv.xlsx but its content is CSV text"),
    ("cut.xlsx", xlsx_bytes({"s": [["stage"]] + [["a"]] * 500})[:-300], "not a readable Excel"),
    ("nested.json", b'[{"stage": {"a": 1}}]', "row 1: stage has an invalid value"),
]


@pytest.mark.parametrize(("name", "data", "message"), BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_a_bad_file_is_400_naming_the_problem_and_stores_nothing(
    client, auth, stored, name, data, message
):
    response = send(client, auth, data, name)
    assert response.status_code == 400
    body = response.get_json()
    assert message in (body.get("message") or " ".join(body["messages"]))
    assert stored() == []
    assert client.get("/data/group/type/uploads", headers=auth).get_json()["uploads"] == []


def test_a_bad_timestamp_on_row_90000_stores_none_of_the_rows_before_it(client, auth, stored):
    lines = [b"_timestamp,num"] + [b"2024-01-01T00:00:00Z,%d" % n for n in range(2, 100_001)]
    lines[89_999] = b"2024-02-30T00:00:00Z,bad"
    response = send(client, auth, b"\n".join(lines) + b"\n")
    assert response.status_code == 400
    assert response.get_json()["messages"] == [
        "row 90000: 2024-02-30T00:00:00Z in the _timestamp field is not a valid date"
    ]
    assert stored() == []


def test_a_file_over_the_byte_limit_is_413(client, auth, stored):
    data = b"stage\n" + b"abcdefghijklmnop\n" * 300_000
    response = send(client, auth, data)
    assert response.status_code == 413
    assert "over the upload limit of 4194304 bytes" in response.get_json()["message"]
    assert stored() == []


def test_a_file_over_the_row_limit_is_413_naming_the_row(client, auth, stored):
    response = send(client, auth, b"stage\n" + b"a\n" * 200_001)
    assert response.status_code == 413
    assert response.get_json()["message"] == "row 200002: the file has more than 200000 rows"
    assert stored() == []


def test_a_zip_bomb_is_413(client, auth, stored):
    response = send(client, auth, zip_bomb_xlsx(64 << 20), "bomb.xlsx")
    assert response.status_code == 413
    assert "unzips to" in response.get_json()["message"]
    assert stored() == []


def test_the_history_lists_each_stored_upload_newest_first(client, auth):
    send(client, auth, CSV, "first.csv")
    send(client, auth, b"stage\nz\n", "second.csv")
    history = client.get("/data/group/type/uploads", headers=auth).get_json()["uploads"]
    assert [h["filename"] for h in history] == ["second.csv", "first.csv"]
    first = history[1]
    assert first["bytes"] == len(CSV)
    assert first["sha256"] == hashlib.sha256(CSV).hexdigest()
    assert first["records"] == 2
    assert first["uploaded_by"].startswith("data-set token")
    assert first["start_at"] == "2024-01-01T00:00:00+00:00"


def test_an_upload_triggers_the_transforms_once_over_its_whole_range(client, auth, dispatcher):
    days = [b"2024-01-%02dT00:00:00Z,%d" % (1 + n % 28, n) for n in range(3000)]
    lines = [b"_timestamp,num", *days]
    send(client, auth, b"\n".join(lines))
    assert dispatcher.calls == [
        ("things", datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 28, tzinfo=UTC))
    ]


@pytest.mark.parametrize(
    ("kwargs", "status", "message"),
    [
        ({"headers": {}}, 401, "Expected header of form: Authorization: Bearer <token>"),
        ({"query": "?dry_run=maybe"}, 400, "dry_run must be true or false, not 'maybe'"),
    ],
)
def test_requests_without_a_token_or_with_bad_parameters(client, auth, kwargs, status, message):
    headers = kwargs.get("headers", auth)
    response = send(client, headers, CSV, query=kwargs.get("query", ""))
    assert response.status_code == status
    assert response.get_json()["message"] == message


def test_a_body_without_a_file_field_says_how_to_send_one(client, auth):
    response = client.post(URL, data={"other": "x"}, headers=auth)
    assert response.status_code == 400
    assert "in the field 'file'" in response.get_json()["message"]


def test_an_unknown_data_set_is_404(client, auth):
    response = client.post("/data/no/such/upload", data={}, headers=auth)
    assert response.status_code == 404


def test_deleting_a_data_set_deletes_its_upload_history(client, auth, admin, make_data_set):
    send(client, auth, CSV)
    assert client.delete("/data-sets/things", headers=admin).status_code == 200
    token = make_data_set("things", data_group="group", data_type="type")
    again = {"Authorization": f"Bearer {token}"}
    assert client.get("/data/group/type/uploads", headers=again).get_json()["uploads"] == []
