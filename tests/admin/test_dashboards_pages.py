"""The dashboard pages (SPEC 10, 11): build one with the tile editor, view it
as a grid of charts, its switches, and what a signed-out visitor may see."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from backdrop.web.dashboards import dashboards
from tests.admin.conftest import visits

SPOTLIGHT = Path(__file__).parent.parent / "core" / "dashboards" / "spotlight_carers.json"
WEEKLY = (
    "period=week&start_at=2024-01-01T00:00:00Z&end_at=2024-01-22T00:00:00Z"
    "&group_by=channel&collect=count:sum"
)


def tile(n, **fields):
    return {f"tile-{n}-{key}": value for key, value in fields.items()}


@pytest.fixture
def site(make_data_set):
    make_data_set("visits", visits())


def create(admin, **extra):
    form = {
        "title": "Site visits",
        "description": "Weekly, by channel",
        "action": "save",
        **tile(0, title="Weekly visits", data_set="visits", chart="line", query=WEEKLY),
        **tile(
            1,
            title="Total",
            data_set="visits",
            chart="number",
            query="https://admin.example/data-sets/visits/explore?group_by=channel&collect=count:sum",
            value_attribute="count:sum",
        ),
        **extra,
    }
    return admin.post("/dashboards/new", data=form)


def test_create_with_two_tiles_then_view_the_grid(admin, site):
    response = create(admin)
    assert response.status_code == 302 and response.location == "/dashboards/site-visits"
    page = admin.get("/dashboards/site-visits").text
    assert "Weekly visits" in page and "Total" in page
    [line] = re.findall(r'<script type="application/json" class="tile-data">(.*?)</script>', page)
    chart = json.loads(line)
    assert chart["kind"] == "line" and {s["label"] for s in chart["series"]} == {"phone", "web"}
    web = next(s for s in chart["series"] if s["label"] == "web")
    assert web["values"] == [2 * sum(range(1, 8)), 2 * sum(range(8, 15)), 2 * sum(range(15, 22))]
    # the number tile: group_by without a period → the first row (phone) of count:sum
    assert '<p class="big-number" data-value="231">231</p>' in page


def test_add_another_tile_keeps_what_was_typed_and_stores_nothing(admin, site):
    response = create(admin, action="add-tile")
    assert response.status_code == 200
    assert 'value="Weekly visits"' in response.text and 'id="tile-2-title"' in response.text
    assert admin.get("/dashboards").text.count("<tr>") == 0


def test_an_invalid_tile_shows_the_form_again_with_its_path(admin, site):
    response = create(
        admin, **tile(0, title="Bad", data_set="visits", chart="line", query="period=fortnight")
    )
    assert response.status_code == 400
    assert "tiles[0].query" in response.text and 'value="Bad"' in response.text


def test_a_blank_title_is_400_naming_it(admin, site):
    response = create(admin, title="")
    assert response.status_code == 400 and "title: &#39;&#39; should be non-empty" in response.text


def test_the_list_switches_and_protection(admin, site, app):
    create(admin)
    listing = admin.get("/dashboards").text
    assert "Site visits" in listing and "Whitelist: off" in listing
    admin.post("/dashboards/site-visits/flags", data={"flag": "protected", "value": "on"})
    listing = admin.get("/dashboards").text
    assert "Protect: on" in listing and "Whitelist: on" in listing
    assert admin.get("/dashboards/site-visits").text.count("protected: read-only") == 1
    refused = admin.post("/dashboards/site-visits/delete")
    assert refused.status_code == 403 and "Dashboard site-visits is protected" in refused.text
    assert admin.post("/dashboards/site-visits/flags", data={"flag": "nope"}).status_code == 400


def test_edit_changes_tiles_and_keeps_imported_options(admin, site, app):
    create(admin)
    page = admin.get("/dashboards/site-visits/edit").text
    assert 'value="Weekly visits"' in page
    form = {
        "title": "Renamed",
        "action": "save",
        **tile(
            0,
            title="Weekly",
            data_set="visits",
            chart="bar",
            query="group_by=channel",
            kept='{"source": {"module-type": "kpi"}}',
        ),
    }
    assert admin.post("/dashboards/site-visits/edit", data=form).status_code == 302
    with app.app_context():
        [stored] = dashboards().get("site-visits").body["dashboard"]["tiles"]
    assert stored["chart"] == "bar" and stored["options"] == {"source": {"module-type": "kpi"}}


def test_signed_out_sees_a_published_dashboard_only(client, admin, site, make_data_set):
    create(admin)
    assert "/sign-in" in client.application.test_client().get("/dashboards/site-visits").location
    make_data_set("hidden", visits(1), published=False)
    admin.post(
        "/dashboards/site-visits/edit",
        data={
            "title": "Site visits",
            "published": "on",
            "action": "save",
            **tile(0, title="Weekly visits", data_set="visits", chart="line", query=WEEKLY),
            **tile(1, title="Secret", data_set="hidden", chart="table", query="group_by=channel"),
        },
    )
    outsider = client.application.test_client()
    page = outsider.get("/dashboards/site-visits")
    assert page.status_code == 200 and "Weekly visits" in page.text
    assert "Secret" not in page.text and "Edit" not in page.text and "Sign out" not in page.text
    assert outsider.get("/dashboards").status_code == 302  # the list is not public
    assert outsider.get("/dashboards/nope").status_code == 404


def test_imported_spotlight_tiles_draw_rate_and_unknown_as_table(admin, app, make_data_set):
    for data_type in ("transactions-by-channel", "journey", "kpi", "realtime"):
        make_data_set(f"ca-{data_type}", data_group="carers-allowance", data_type=data_type)
    with app.app_context():
        from backdrop.core.dashboards import spotlight

        body = json.loads(SPOTLIGHT.read_text())
        converted = spotlight.convert(body, dashboards().registry)
        dashboards().create(converted.dashboard, converted.id)
    page = admin.get("/dashboards/carers-allowance").text
    assert page.count('class="tile ') == 6
    assert "tile tile-rate" in page and "tile tile-table" in page
    assert "cannot run" not in page and "Traceback" not in page


def test_a_rate_tile_shows_the_latest_ratio_and_a_line_of_it(admin, make_data_set):
    journey = [
        {"_timestamp": f"2024-01-{day:02d}T00:00:00Z", "eventCategory": category, "uniqueEvents": n}
        for day, done in ((1, 4), (8, 6))
        for category, n in (("apply:start", 10), ("apply:done", done))
    ]
    make_data_set("journey", journey)
    query = (
        "period=week&start_at=2024-01-01T00:00:00Z&end_at=2024-01-15T00:00:00Z"
        "&group_by=eventCategory&collect=uniqueEvents:sum"
    )
    form = {
        "title": "Journey",
        "action": "save",
        **tile(
            0,
            title="Completion",
            data_set="journey",
            chart="rate",
            query=query,
            value_attribute="uniqueEvents:sum",
            matching_attribute="eventCategory",
            numerator_matcher="apply:done",
            denominator_matcher="apply:start",
        ),
    }
    assert admin.post("/dashboards/new", data=form).status_code == 302
    page = admin.get("/dashboards/journey").text
    assert '<p class="big-number" data-value="60.0%">60.0%</p>' in page
    [line] = re.findall(r'class="tile-data">(.*?)</script>', page)
    assert json.loads(line)["series"] == [{"label": "rate", "values": [0.4, 0.6]}]
