"""One data set's page: latest records, fields, transforms, the curl snippet."""

from __future__ import annotations

import pytest

from backdrop.core import writes
from backdrop.core.catalog import Catalog
from backdrop.web.extension import services
from tests.admin.conftest import visits


def test_latest_records_come_newest_first_in_pages(admin, app, make_data_set):
    make_data_set("many", [{"_id": f"r{i:03}", "num": i} for i in range(59)])
    with app.app_context():
        backdrop = services()
        config = backdrop.registry.get("many")
        writes.save(backdrop.engine, backdrop.dispatcher, config, [{"_id": "newest", "num": 99}])
    page = admin.get("/data-sets/many").text
    first_row = page.split("<tbody>")[1].split("</tr>")[0]
    assert "newest" in first_row
    assert page.count("<tr>") == 26  # header + 25
    assert 'rel="next" href="/data-sets/many?page=2"' in page
    last = admin.get("/data-sets/many?page=3").text
    assert last.count("<tr>") == 11 and 'rel="next"' not in last and 'rel="prev"' in last


def test_fields_seen_and_the_curl_snippet(admin, make_data_set):
    make_data_set("visits", visits(1), data_group="site", data_type="visits")
    page = admin.get("/data-sets/visits").text
    fields = page.split('id="fields"')[1].split("</ul>")[0]
    assert fields.index("channel") < fields.index("count") < fields.index("_id")
    assert "curl -X POST &#39;https://write.example.org/data/site/visits&#39;" in page
    assert 'href="https://read.example.org/data/site/visits"' in page


def test_transforms_are_listed(admin, app, make_data_set):
    make_data_set("visits")
    with app.app_context():
        Catalog(services().engine).add_transform(
            "visits",
            {
                "type": "rollup",
                "query": {"period": "week"},
                "options": {},
                "output": {"data_group": "weekly", "data_type": "visits"},
            },
        )
    assert "<code>weekly/visits</code>" in admin.get("/data-sets/visits").text


@pytest.mark.parametrize("page", ["0", "-1", "x", "201", "9" * 30])
def test_a_bad_page_number_is_a_400_page(admin, make_data_set, page):
    make_data_set("visits")
    response = admin.get(f"/data-sets/visits?page={page}")
    assert response.status_code == 400
    assert "page must be a whole number from 1 to 200" in response.text
