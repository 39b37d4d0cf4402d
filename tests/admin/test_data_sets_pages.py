"""The data sets table, create, edit, rotate token and delete, through the pages."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backdrop.web.extension import services
from tests.admin.conftest import visits

DEFAULT_FORM = {"raw_queries_allowed": "on", "queryable": "on", "published": "on"}


def config_of(app, name):
    with app.app_context():
        return services().registry.get(name)


def token_on(page: str) -> str:
    return re.search(r'class="secret" value="([^"]+)"', page).group(1)


def test_the_table_shows_address_count_and_freshness(admin, app, make_data_set):
    make_data_set("visits", visits(1), data_group="site", data_type="visits")
    make_data_set("empty", max_age_expected=None)
    page = admin.get("/data-sets").text
    assert "<code>site/visits</code>" in page
    assert ">14</td>" in page  # 7 days × 2 channels
    assert "in date" in page and "not checked" in page
    assert "just now" in page or "second" in page


def test_a_stale_data_set_says_by_how_much(admin, app, make_data_set):
    make_data_set("old", [{"value": 1}], max_age_expected=60)
    with app.app_context():
        # Age the data set by a day: the table computes lateness from last_updated.
        from backdrop.admin.pages import data_sets

        row = data_sets.table_row(
            services().registry.get("old"), datetime.now(UTC) + timedelta(days=1)
        )
    assert row.out_of_date_by is not None and row.out_of_date_by > 86000
    assert "out of date by" not in admin.get("/data-sets").text


def test_search_by_name(admin, make_data_set):
    make_data_set("site-visits")
    make_data_set("payments")
    page = admin.get("/data-sets?q=visit").text
    assert "site-visits" in page and "payments" not in page
    assert "No data set has" in admin.get("/data-sets?q=zzz").text


def test_create_shows_the_token_once(admin, app):
    response = admin.post(
        "/new-data-set", {**DEFAULT_FORM, "name": "visits", "max_age_expected": "3600"}
    )
    assert response.status_code == 200
    token = token_on(response.text)
    config = config_of(app, "visits")
    assert config.token_matches(token)
    assert (config.data_group, config.data_type, config.max_age_expected) == (
        "visits",
        "visits",
        3600,
    )
    assert token not in admin.get("/data-sets/visits").text


@pytest.mark.parametrize(
    ("form", "status", "message"),
    [
        ({"name": "Bad Name"}, 400, "name is required and must match"),
        ({"name": "x", "max_age_expected": "soon"}, 400, "max_age_expected must be a whole number"),
        ({"name": "x", "max_age_expected": "¹"}, 400, "max_age_expected must be a whole number"),
        ({"name": "x", "capped_size": "-1"}, 400, "capped_size must be a whole number"),
        ({"name": "x", "schema": "{not json"}, 400, "schema is not valid JSON"),
        ({"name": "x", "schema": '{"type": 5}'}, 400, "schema is not a valid JSON Schema"),
        ({"name": "x", "auto_ids": "a-b"}, 400, "auto_ids must be a non-empty list"),
        ({"name": "x", "upload_format": "pdf"}, 400, "upload_format must be"),
        ({"name": "taken"}, 409, "already exists"),
    ],
)
def test_bad_create_forms_say_what_is_wrong_and_keep_the_input(
    admin, make_data_set, form, status, message
):
    make_data_set("taken")
    response = admin.post("/new-data-set", {**DEFAULT_FORM, **form})
    assert response.status_code == status
    assert "There is a problem" in response.text and message in response.text
    assert f'value="{form["name"]}"' in response.text


def test_edit_changes_the_config(admin, app, make_data_set):
    make_data_set("visits")
    form = {"data_group": "site", "data_type": "hits", "published": "on", "max_age_expected": ""}
    response = admin.post("/data-sets/visits/edit", form)
    assert response.headers["Location"] == "/data-sets/visits"
    config = config_of(app, "visits")
    assert (config.data_group, config.data_type) == ("site", "hits")
    assert config.published and not config.queryable and config.max_age_expected is None
    assert "Saved the settings of visits" in admin.get("/data-sets/visits").text


def test_edit_form_shows_current_values(admin, make_data_set):
    make_data_set("visits", auto_ids=["aa", "bb"], schema={"type": "object"}, realtime=True)
    page = admin.get("/data-sets/visits/edit").text
    assert 'value="aa, bb"' in page and "&#34;type&#34;: &#34;object&#34;" in page
    assert 'id="realtime" name="realtime" checked' in page


def test_a_bad_edit_changes_nothing(admin, app, make_data_set):
    make_data_set("visits")
    response = admin.post("/data-sets/visits/edit", {"data_group": "BAD", "data_type": "x"})
    assert response.status_code == 400 and "data_group must match" in response.text
    assert config_of(app, "visits").data_group == "visits"


def test_rotating_the_token_replaces_it(admin, app, make_data_set):
    old = make_data_set("visits")
    response = admin.post("/data-sets/visits/token")
    new = token_on(response.text)
    config = config_of(app, "visits")
    assert config.token_matches(new) and not config.token_matches(old)
    assert "The old token no longer works" in response.text


def test_delete_needs_the_name_typed(admin, app, make_data_set):
    make_data_set("visits", visits(1))
    page = admin.get("/data-sets/visits/delete").text
    assert "14 records" in page
    wrong = admin.post("/data-sets/visits/delete", {"confirm_name": "visit"})
    assert wrong.status_code == 400 and "type the data set&#39;s name exactly" in wrong.text
    assert admin.get("/data-sets/visits").status_code == 200
    done = admin.post("/data-sets/visits/delete", {"confirm_name": "visits"})
    assert done.headers["Location"] == "/data-sets"
    assert "Deleted visits and its 14 records" in admin.get("/data-sets").text
    assert admin.get("/data-sets/visits").status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/data-sets/nope",
        "/data-sets/nope/edit",
        "/data-sets/nope/delete",
        "/data-sets/nope/explore",
    ],
)
def test_an_unknown_data_set_is_a_404_page(admin, path):
    response = admin.get(path)
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert 'No collection exists with name "nope"' in html.unescape(response.text)


def test_an_unknown_page_is_a_404_page(admin):
    response = admin.get("/no/such/page")
    assert response.status_code == 404 and "There is no page at this address" in response.text


def test_a_wrong_method_is_a_405_page(admin):
    response = admin.client.delete("/data-sets")
    assert response.status_code == 405 and response.mimetype == "text/html"


FORM_TEXT = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        ["", "0", "-1", "1e3", "on", "null", "[]", '{"type": "object"}', "a,b", "x" * 300]
    ),
)
FIELDS = [
    "name",
    "data_group",
    "data_type",
    "max_age_expected",
    "capped_size",
    "schema",
    "auto_ids",
    "upload_format",
    "upload_filters",
    "dimensions",
    "measures",
    "rollup_grain",
    "realtime",
    "published",
]


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(form=st.dictionaries(st.sampled_from(FIELDS), FORM_TEXT, max_size=len(FIELDS)))
def test_no_data_set_form_is_a_server_error(admin, make_data_set, form):
    if admin.get("/data-sets/fuzzed").status_code == 404:
        make_data_set("fuzzed")
    for path in ("/new-data-set", "/data-sets/fuzzed/edit"):
        response = admin.post(path, form)
        assert response.status_code in (200, 302, 400, 409), (path, form, response.status_code)
