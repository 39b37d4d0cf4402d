"""Generated requests, good and bad, never get a 5xx from either app.

Hypothesis builds query strings from the read parameters' values and their
near misses, and write bodies from valid and invalid keys, values and
timestamps (extreme dates included); every answer must be a JSON 2xx or 4xx.
"""

from __future__ import annotations

import gzip
import json
import logging
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backdrop.read import create_app as create_read_app
from backdrop.settings import Settings
from backdrop.write import create_app as create_write_app

ADMIN = {"Authorization": "Bearer admin"}
EXAMPLES = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

TIMES = [
    "2024-01-01T00:00:00Z",
    "2024-02-29T12:00:00+05:00",
    "2024-02-30T00:00:00",
    "0001-01-01T00:00:00Z",
    "0001-01-01T00:00:00+05:00",
    "9999-12-31T23:59:59Z",
    "9999-12-31T23:59:59-05:00",
    "x",
]
QUERY_VALUES = {
    "filter_by": ["name:web", "count:3", "flag:true", "none:null", ":", "name:", "$x:1", "n:1e400"],
    "filter_by_prefix": ["name:w", "name:%", "name:.*", "count:1"],
    "start_at": TIMES,
    "end_at": TIMES,
    "period": ["hour", "day", "week", "month", "quarter", "year", "fortnight"],
    "duration": ["1", "3", "0", "-1", "100001", "99999999999999999999"],
    "group_by": ["name", "count", "flag", "none", "ratio", "_id", "missing", "$a"],
    "collect": ["count:sum", "ratio:mean", "name:sum", "flag:sum", "name:set", "none:count"],
    "sort_by": ["name:ascending", "_count:descending", "count:sum:descending", "x", "name:up"],
    "limit": ["0", "5", "-1", "x", "99999999999999999999"],
    "flatten": ["true", "false", "x"],
    "inclusive": ["true", "TRUE", "x"],
    "format": ["csv", "json", "xml"],
    "unknown": ["1"],
}
KEYS = ["name", "count", "_id", "_timestamp", "_start_at", "_end_at", "_updated_at", "_x", "a-b"]
VALUES = st.one_of(
    st.sampled_from(TIMES),
    st.sampled_from(TIMES),  # twice: time parsing is where odd dates break things
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.sampled_from(["a"]), st.integers(), max_size=1),
)
RECORDS = st.lists(st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=4), max_size=4)


@pytest.fixture(scope="module")
def apps(tmp_path_factory):
    path = tmp_path_factory.mktemp("fuzz") / "t.db"
    config = Settings(database_url=f"sqlite:///{path}", admin_token="admin", log_level="CRITICAL")
    write, read = create_write_app(config), create_read_app(config)
    client = write.test_client()
    created = client.post("/data-sets", json={"name": "fuzz", "auto_ids": None}, headers=ADMIN)
    token = {"Authorization": f"Bearer {created.json['bearer_token']}"}
    seeded = client.post(
        "/data/fuzz/fuzz",
        json=[
            {
                "_id": f"id-{c}",
                "_timestamp": t,
                "name": n,
                "count": c,
                "flag": c % 2 == 0,
                "none": None,
                "ratio": c / 2,
            }
            for t, n, c in (
                ("2024-01-01T10:00:00Z", "web", 1),
                ("2024-03-05T10:00:00Z", "phone", 2),
                ("9999-12-31T23:59:59Z", "web", 3),
                ("0001-01-01T00:00:00Z", "post", 4),
            )
        ],
        headers=token,
    )
    assert seeded.status_code == 200, seeded.json
    logging.disable(logging.CRITICAL)  # the point is the status codes, not the logs
    yield client, read.test_client(), token
    logging.disable(logging.NOTSET)
    for app in (write, read):
        app.extensions["backdrop"].engine.close()


QUERIES = st.lists(
    st.sampled_from(sorted(QUERY_VALUES)).flatmap(
        lambda key: st.tuples(st.just(key), st.sampled_from(QUERY_VALUES[key]))
    ),
    min_size=1,
    max_size=5,
)


@EXAMPLES
@given(query=QUERIES)
def test_read_queries_never_get_a_server_error(apps, query):
    _, read, _ = apps
    response = read.get(f"/data/fuzz/fuzz?{urlencode(query)}")
    assert response.status_code < 500, (query, response.data[:300])
    if response.status_code >= 400:
        assert response.json["status"] == "error" and response.json["message"]


@EXAMPLES
@given(
    body=st.one_of(RECORDS, RECORDS.map(lambda r: r[0] if r else {}), st.just("text")),
    route=st.sampled_from(
        [
            ("POST", "/data/fuzz/fuzz"),
            ("POST", "/data/fuzz/fuzz"),
            ("POST", "/fuzz"),
            ("PATCH", "/data/fuzz/fuzz/id-1"),
            ("PUT", "/data/fuzz/fuzz"),
        ]
    ),
    compress=st.booleans(),
)
def test_writes_never_get_a_server_error(apps, body, route, compress):
    method, path = route
    write, _, token = apps
    data = json.dumps(body).encode()
    headers = {**token, "Content-Type": "application/json"}
    if compress:
        data, headers["Content-Encoding"] = gzip.compress(data), "gzip"
    response = write.open(path, method=method, data=data, headers=headers)
    assert response.status_code < 500, (method, path, body, response.data[:300])
    assert response.is_json
