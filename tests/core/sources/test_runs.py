"""Source runs against a real HTTP server on 127.0.0.1, on every engine."""

from __future__ import annotations

import io
import threading

import openpyxl
import orjson
import pytest

from backdrop.core.sources.run import run_source
from backdrop.core.sources.store import AlreadyRunning, Sources
from tests.core.sources.conftest import LIMITS
from tests.file_server import Reply

CSV = b"_id,_timestamp,count,notes\na,2024-01-01T00:00:00Z,3,x\nb,2024-01-02T00:00:00Z,4,y\n"


def run(engine, source_id, **kwargs):
    return run_source(engine, source_id, kwargs.pop("limits", LIMITS), kwargs.pop("environ", {}),
                      **kwargs)  # fmt: skip


def stored_ids(engine):
    return sorted(record["_id"] for record in engine.records.page("pulled", None, 1000))


def xlsx(rows) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_a_csv_source_stores_its_rows_and_records_the_run(stored, server, add_source):
    server.routes["/a.csv"] = Reply(CSV, headers={"Content-Type": "text/csv"})
    source = add_source(f"{server.url}/a.csv")
    done = run(stored, source)
    assert done["status"] == "ok" and done["records"] == 2 and done["http_status"] == 200
    assert done["bytes"] == len(CSV) and done["error"] is None
    assert stored.records.get("pulled", "a")["count"] == 3
    assert Sources(stored).history(source)[0]["id"] == done["id"]


def test_an_xlsx_source(stored, server, add_source):
    server.routes["/b.xlsx"] = Reply(xlsx([["_id", "count"], ["x1", 5], ["x2", 6]]))
    done = run(stored, add_source(f"{server.url}/b.xlsx", format="xlsx"))
    assert done["status"] == "ok", done["error"]
    assert stored.records.get("pulled", "x2")["count"] == 6


def test_a_json_source_with_records_path(stored, server, add_source):
    document = {
        "meta": {"n": 2},
        "data": {"items": [{"_id": "j1", "vv": 1}, {"_id": "j2", "vv": 2}]},
    }
    server.routes["/c.json"] = Reply(orjson.dumps(document))
    done = run(
        stored, add_source(f"{server.url}/c.json", format="json", records_path="/data/items")
    )
    assert done["status"] == "ok", done["error"]
    assert stored_ids(stored) == ["j1", "j2"]


def test_a_jsonl_source_with_a_mapping(stored, server, add_source):
    lines = [{"Key": f"k{n}", "Date": f"2024-01-0{n}", "notes": "x"} for n in (1, 2)]
    server.routes["/d.jsonl"] = Reply(b"".join(orjson.dumps(line) + b"\n" for line in lines))
    mapping = {"rename": {"Key": "_id", "Date": "_timestamp"}, "drop": ["notes"]}
    done = run(stored, add_source(f"{server.url}/d.jsonl", format="jsonl", mapping=mapping))
    assert done["status"] == "ok", done["error"]
    record = stored.records.get("pulled", "k2")
    assert record["_timestamp"].isoformat() == "2024-01-02T00:00:00+00:00" and "notes" not in record


def test_an_unchanged_file_is_skipped_by_etag_and_by_sha256(stored, server, add_source):
    server.routes["/e.csv"] = Reply(CSV, headers={"ETag": '"v1"'})
    server.routes["/f.csv"] = Reply(CSV)
    for path in ("/e.csv", "/f.csv"):
        source = add_source(f"{server.url}{path}")
        assert run(stored, source)["status"] == "ok"
        stored.records.delete("pulled", "a")  # a second store would bring it back
        again = run(stored, source)
        assert again["status"] == "unchanged" and again["records"] == 0
        assert stored_ids(stored) == ["b"]
        stored.records.empty("pulled")
    assert server.seen_headers["/e.csv"]["If-None-Match"] == '"v1"'


def test_a_changed_file_in_replace_mode_swaps_the_records(stored, server, add_source):
    server.routes["/g.csv"] = Reply(CSV)
    source = add_source(f"{server.url}/g.csv", mode="replace")
    run(stored, source)
    server.routes["/g.csv"] = Reply(b"_id,count\nc,1\n")
    assert run(stored, source)["status"] == "ok"
    assert stored_ids(stored) == ["c"]


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        (Reply(b"oops", 500), "HTTP 500 from"),
        (Reply(CSV, delay=2.5), "ReadTimeoutError"),
        (Reply(b"x" * 1_000_001), "the file is larger than the limit of 1000000 bytes"),
        (Reply(b"_id,count\na,1\nb\n"), "row 3"),
        (Reply(b"_id,bad-key\na,1\n"), "bad-key is not a valid key"),
        (Reply(b"", 302, {"Location": "/h.csv"}), "too many redirects (more than 5)"),
    ],
    ids=["500", "timeout", "too-large", "malformed", "invalid-record", "redirect-loop"],
)
def test_each_failure_is_a_failed_run_with_a_clear_error_and_nothing_stored(
    stored, server, add_source, reply, error
):
    server.routes["/h.csv"] = reply
    done = run(stored, add_source(f"{server.url}/h.csv"))
    assert done["status"] == "failed" and error in done["error"], done["error"]
    assert stored_ids(stored) == []
    assert Sources(stored).state(done["source"])["status"] == "failed"


def test_a_redirect_to_a_private_address_is_refused(stored, server, add_source):
    """Only the test server's 127.0.0.1 counts as allowed here; 127.0.0.2
    stands for a private address (a refused address is never connected to)."""
    port = server.url.rsplit(":", 1)[1]
    server.routes["/i.csv"] = Reply(b"", 302, {"Location": f"http://127.0.0.2:{port}/j.csv"})
    server.routes["/j.csv"] = Reply(CSV)
    done = run(stored, add_source(f"{server.url}/i.csv"), allowed=lambda a: str(a) == "127.0.0.1")
    assert done["status"] == "failed" and "refused to fetch from 127.0.0.2" in done["error"]
    assert server.hits["/j.csv"] == 0 and stored_ids(stored) == []


def test_a_name_resolving_to_loopback_is_refused_unless_allowed(stored, server, add_source):
    url = server.url.replace("127.0.0.1", "localhost") + "/k.csv"
    server.routes["/k.csv"] = Reply(CSV)
    source = add_source(url)
    refused = run(stored, source, limits=LIMITS.__class__(1_000_000, 1, allow_private=False))
    assert refused["status"] == "failed" and "loopback" in refused["error"]
    assert server.hits["/k.csv"] == 0


def test_env_headers_are_read_at_run_time_and_never_stored(stored, server, add_source):
    server.routes["/l.csv"] = Reply(CSV)
    source = add_source(f"{server.url}/l.csv", headers={"Authorization": "env:PULL_TOKEN"})
    missing = run(stored, source)
    assert missing["status"] == "failed" and "PULL_TOKEN is not set" in missing["error"]
    assert run(stored, source, environ={"PULL_TOKEN": "Bearer s3cret"})["status"] == "ok"
    assert server.seen_headers["/l.csv"]["Authorization"] == "Bearer s3cret"
    everything = [d.body for kind in ("source", "source_state", "source_run")
                  for d in stored.documents.list(kind)]  # fmt: skip
    assert b"s3cret" not in orjson.dumps(everything)


def test_a_source_already_running_is_not_started_again(stored, server, add_source):
    server.routes["/m.csv"] = Reply(CSV)
    source = add_source(f"{server.url}/m.csv")
    held = Sources(stored).lock(source)
    with pytest.raises(AlreadyRunning):
        run(stored, source)
    assert server.hits["/m.csv"] == 0
    Sources(stored).unlock(source, held)
    assert run(stored, source)["status"] == "ok"


def test_deleting_a_data_set_removes_its_sources_and_their_runs(stored, server, add_source):
    from backdrop.core.data_sets import Registry

    server.routes["/n.csv"] = Reply(CSV)
    source = add_source(f"{server.url}/n.csv")
    run(stored, source)
    Registry(stored).delete("pulled")
    assert Sources(stored).list() == [] and Sources(stored).history(source) == []
    assert stored.documents.list("source_state") == []


def test_a_reader_polling_during_a_replace_sees_the_old_or_the_new_records(
    stored, server, add_source
):
    if stored.scheme == "mongodb":
        pytest.skip("mongomock has no transactions: replace is one transaction on a replica set")
    old = b"_id,count\n" + b"".join(b"old%d,%d\n" % (n, n) for n in range(3000))
    new = b"_id,count\n" + b"".join(b"new%d,%d\n" % (n, n) for n in range(3000))
    server.routes["/swap.csv"] = Reply(old)
    source = add_source(f"{server.url}/swap.csv", mode="replace")
    assert run(stored, source)["status"] == "ok"
    server.routes["/swap.csv"] = Reply(new)
    seen, stop = set(), threading.Event()

    def poll():
        while not stop.is_set():
            ids = [r["_id"] for r in stored.records.page("pulled", None, 10_000)]
            seen.add((len(ids), ids[0][:3] if ids else "", ids[-1][:3] if ids else ""))

    poller = threading.Thread(target=poll)
    poller.start()
    try:
        assert run(stored, source)["status"] == "ok"
    finally:
        stop.set()
        poller.join(10)
    assert seen <= {(3000, "old", "old"), (3000, "new", "new")} and len(seen) >= 1
    assert stored_ids(stored)[0].startswith("new")


def test_a_tick_that_saw_a_source_due_does_not_run_it_again_once_it_has_run(
    stored, server, add_source
):
    from backdrop.core.sources.store import now

    server.routes["/o.csv"] = Reply(CSV)
    source = add_source(f"{server.url}/o.csv")
    due_at = now()
    assert [s.id for s in Sources(stored).due(due_at)] == [source]
    assert run(stored, source, if_due_at=due_at)["status"] == "ok"
    assert run(stored, source, if_due_at=due_at) is None
    assert server.hits["/o.csv"] == 1 and Sources(stored).due(now()) == []
