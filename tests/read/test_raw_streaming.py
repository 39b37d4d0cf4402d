"""Large raw reads are streamed from a database cursor; their bodies are the
same bytes a whole response had, and they keep ETags and 304s."""

from __future__ import annotations

import csv
import io

import orjson

from backdrop.core.query import Where
from backdrop.read.raw import STREAM_AFTER
from backdrop.web.json import dumps

N = STREAM_AFTER * 2 + 17


def records(n: int = N) -> list[dict]:
    return [{"_id": f"r{i:05}", "_timestamp": f"2024-01-01T00:{i // 60 % 60:02}:{i % 60:02}Z",
             "num": i, **({"odd": True} if i % 2 else {})} for i in range(n)]  # fmt: skip


def test_a_large_raw_read_is_streamed_and_equal_to_a_whole_body(app, client, data_set):
    data_set("big", records(), data_group="g", data_type="t")
    response = client.get("/data/g/t")
    assert response.is_streamed and response.status_code == 200
    body = response.get_data()
    stored = app.extensions["backdrop"].engine.records.find("big", Where())
    assert body == dumps({"data": stored})
    assert len(orjson.loads(body)["data"]) == N


def test_limits_sorts_and_filters_still_apply(client, data_set):
    data_set("big", records(), data_group="g", data_type="t")
    limited = orjson.loads(client.get("/data/g/t?limit=1500&sort_by=num:descending").get_data())
    assert [r["num"] for r in limited["data"][:2]] == [N - 1, N - 2] and len(
        limited["data"]
    ) == 1500
    odd = orjson.loads(client.get("/data/g/t?filter_by=odd:true").get_data())["data"]
    assert len(odd) == N // 2 and all(r["odd"] is True for r in odd)


def test_a_streamed_read_has_an_etag_that_changes_with_the_data(app, client, data_set):
    config = data_set("big", records(), data_group="g", data_type="t")
    first = client.get("/data/g/t")
    first.get_data()
    etag = first.headers["ETag"]
    assert etag.startswith('"') and etag.endswith('"')
    again = client.get("/data/g/t", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    from datetime import UTC, datetime

    from backdrop.core.records import prepare_records

    engine = app.extensions["backdrop"].engine
    engine.records.save("big", prepare_records([{"_id": "new"}], config, datetime.now(UTC)))
    changed = client.get("/data/g/t", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and b'"new"' in changed.get_data()


def test_a_streamed_csv_has_every_key_in_its_header(client, data_set):
    data_set("big", records(), data_group="g", data_type="t")
    response = client.get("/data/g/t?format=csv")
    assert response.is_streamed
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["_id", "_timestamp", "_updated_at", "num", "odd"]
    assert len(rows) == N + 1 and rows[2][4] == "true"


def test_unpublished_streamed_reads_keep_their_warning(client, data_set):
    data_set("big", records(), data_group="g", data_type="t", published=False)
    body = orjson.loads(client.get("/data/g/t").get_data())
    assert body["warning"].startswith("Warning: This data-set is unpublished")
    assert len(body["data"]) == N
