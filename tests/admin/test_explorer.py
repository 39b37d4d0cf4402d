"""The query explorer: the page's URL is the read query; chart, table, read-API
URL and CSV come from the same parser and reader as the read app."""

from __future__ import annotations

import html
import json
import re
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.admin.conftest import visits

WEEKLY = (
    "period=week&group_by=channel&collect=count:sum"
    "&start_at=2024-01-01T00:00:00Z&end_at=2024-01-22T00:00:00Z"
)


def chart_of(page: str) -> dict:
    return json.loads(html.unescape(re.search(r'id="chart-data">(.*?)</script>', page).group(1)))


@pytest.fixture
def data(make_data_set):
    make_data_set("visits", visits(3), data_group="site", data_type="visits")


def test_a_weekly_grouped_query_is_one_line_per_group(admin, data):
    response = admin.get(f"/data-sets/visits/explore?{WEEKLY}")
    assert response.status_code == 200
    chart = chart_of(response.text)
    assert chart["kind"] == "line" and chart["value"] == "count:sum"
    assert [s["label"] for s in chart["series"]] == ["phone", "web"]
    # days 1-7, 8-14, 15-21 of January: sums 28, 77, 126 on phone, twice that on web
    assert chart["series"][0]["values"] == [28, 77, 126]
    assert chart["series"][1]["values"] == [56, 154, 252]
    assert len(chart["x"]) == 3


def test_the_table_holds_the_sums_per_group_and_period(admin, data):
    page = admin.get(f"/data-sets/visits/explore?{WEEKLY}").text
    table = page.split('id="result"')[1].split("</table>")[0]
    header = re.findall(r"<th scope=\"col\">(.*?)</th>", table)
    assert header[:3] == ["channel", "_start_at", "_end_at"]
    assert table.count("<tr>") == 1 + 6
    sums = re.findall(r'<td class="num">(\d+)</td>', table)
    assert sums.count("126") == 1 and sums.count("252") == 1


def test_read_api_url_and_csv_link_carry_the_same_query(admin, data):
    page = admin.get(f"/data-sets/visits/explore?{WEEKLY}").text
    read_url = html.unescape(re.search(r'id="read-api-url" href="([^"]+)"', page).group(1))
    assert read_url.startswith(
        "https://read.example.org/data/site/visits?period=week&group_by=channel"
    )
    csv_url = html.unescape(re.search(r'id="csv-download" href="([^"]+)"', page).group(1))
    csv = admin.get(csv_url)
    assert csv.mimetype == "text/csv"
    assert csv.headers["Content-Disposition"] == "attachment; filename=visits.csv"
    lines = csv.text.strip().splitlines()
    assert lines[0] == "_count,_end_at,_group_count,_start_at,channel,count:sum"
    assert len(lines) == 1 + 6


def test_group_by_alone_is_bars(admin, data):
    chart = chart_of(admin.get("/data-sets/visits/explore?group_by=channel&collect=count:sum").text)
    assert chart["kind"] == "bar" and chart["labels"] == ["phone", "web"]
    assert chart["series"][0]["values"] == [231, 462]


def test_raw_records_are_a_table_only(admin, data):
    page = admin.get("/data-sets/visits/explore?limit=3&filter_by=channel:web").text
    assert 'id="chart"' not in page
    assert page.split('id="result"')[1].count("<tr>") == 4


def test_empty_fields_are_dropped_from_the_url(admin, data):
    response = admin.get("/data-sets/visits/explore?period=&group_by=channel&collect=&limit=")
    assert response.status_code == 302
    assert response.headers["Location"] == "/data-sets/visits/explore?group_by=channel"


def test_the_form_shows_the_query_it_ran(admin, data):
    page = admin.get(f"/data-sets/visits/explore?{WEEKLY}").text
    assert '<option value="week" selected>' in page
    assert 'name="group_by" value="channel"' in page
    assert 'name="collect" value="count:sum"' in page


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("period=week", "Either &#39;duration&#39; or both"),
        ("period=fortnight&duration=3", "period"),
        ("collect=count:sum", "collect"),
        ("group_by=channel&collect=channel:sum", "collect"),
        ("group_by=channel&collect=channel2:median", "Unknown collection method"),
        ("limit=x", "limit"),
        ("unknown=1", "An unrecognised parameter was provided"),
        ("start_at=2024-02-30T00:00:00Z&period=day&duration=2", "start_at is not a valid datetime"),
    ],
)
def test_a_bad_query_is_a_400_page_with_the_read_api_message(admin, data, query, message):
    response = admin.get(f"/data-sets/visits/explore?{query}")
    assert response.status_code == 400
    assert "There is a problem" in response.text and message in response.text
    assert 'id="query-form"' in response.text  # the form stays, to fix the query


def test_a_bad_csv_query_is_a_400_page(admin, data):
    response = admin.get("/data-sets/visits/explore.csv?period=week")
    assert response.status_code == 400 and response.mimetype == "text/html"


def test_raw_queries_refused_when_the_data_set_forbids_them(admin, make_data_set):
    make_data_set("closed", visits(1), raw_queries_allowed=False)
    response = admin.get("/data-sets/closed/explore?limit=3")
    assert response.status_code == 400 and "querying for raw data is not allowed" in response.text


TIMES = [
    "2024-01-01T00:00:00Z",
    "2024-02-30T00:00:00",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
    "x",
    "",
]
VALUES = {
    "filter_by": ["channel:web", "count:3", ":", "$x:1", "channel:"],
    "filter_by_prefix": ["channel:w", "channel:.*"],
    "start_at": TIMES,
    "end_at": TIMES,
    "period": ["hour", "day", "week", "month", "quarter", "year", "fortnight", ""],
    "duration": ["1", "3", "0", "-1", "100001", "9" * 25],
    "group_by": ["channel", "count", "_id", "missing", "$a", "a b", ""],
    "collect": ["count:sum", "count:mean", "channel:sum", "channel:set", "count", "x:median"],
    "sort_by": ["channel:ascending", "_count:descending", "count:sum:descending", "x"],
    "limit": ["0", "5", "-1", "x", "9" * 25],
    "flatten": ["true", "false", "x"],
    "inclusive": ["true", "x"],
    "format": ["csv", "xml"],
    "page": ["1", "x"],
}
PARAMS = st.lists(
    st.sampled_from(sorted(VALUES)).flatmap(
        lambda k: st.tuples(st.just(k), st.sampled_from(VALUES[k]))
    )
    | st.tuples(st.text(max_size=8), st.text(max_size=12)),
    max_size=8,
)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(params=PARAMS)
def test_no_explorer_query_is_a_server_error(admin, data, params):
    query = urlencode(params)
    for path in (f"/data-sets/visits/explore?{query}", f"/data-sets/visits/explore.csv?{query}"):
        response = admin.get(path, follow_redirects=True)
        assert response.status_code in (200, 400), (path, response.status_code)
