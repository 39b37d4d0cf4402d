"""A Spotlight dashboard (SPEC 11, last paragraph) imported through the write
API: one tile per module and per tab, the module kept in ``options.source``,
the unknown type reported, and every tile's query answered by the read API."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from backdrop.read import create_app as create_read_app
from backdrop.settings import Settings
from backdrop.write import create_app as create_write_app

SPOTLIGHT = json.loads((Path(__file__).parent / "spotlight_carers.json").read_text())
ADMIN = {"Authorization": "Bearer admin"}
DATA_TYPES = ("transactions-by-channel", "journey", "kpi", "realtime")


@pytest.fixture
def apps(tmp_path):
    settings = Settings(database_url=f"sqlite:///{tmp_path}/s.db", admin_token="admin")
    write, read = create_write_app(settings), create_read_app(settings)
    writer = write.test_client()
    for data_type in DATA_TYPES:
        body = {"name": f"ca-{data_type}", "data_group": "carers-allowance", "data_type": data_type}
        assert writer.post("/data-sets", json=body, headers=ADMIN).status_code == 201
    yield writer, read.test_client()
    for app in (write, read):
        app.extensions["backdrop"].engine.close()


def test_each_module_and_tab_becomes_a_tile_with_its_source(apps):
    writer, _ = apps
    response = writer.post("/dashboards?format=spotlight", json=SPOTLIGHT, headers=ADMIN)
    assert response.status_code == 201, response.get_json()
    dashboard = response.get_json()
    assert (dashboard["id"], dashboard["title"], dashboard["published"]) == (
        "carers-allowance",
        "Carer's Allowance",
        True,
    )
    tiles = dashboard["tiles"]
    assert [(t["title"], t["chart"], t["data_set"]) for t in tiles] == [
        ("Transactions by channel", "line", "ca-transactions-by-channel"),
        ("Completion rate", "rate", "ca-journey"),
        ("Cost per transaction", "number", "ca-kpi"),
        ("Visitors: Right now", "line", "ca-realtime"),
        ("Visitors: Daily", "line", "ca-realtime"),
        ("Where claims come from", "table", "ca-transactions-by-channel"),
    ]
    modules = SPOTLIGHT["modules"]
    assert [t["options"]["source"] for t in tiles] == [
        *modules[:3],
        *modules[3]["tabs"],
        modules[4],
    ]
    assert tiles[3]["options"]["tab_of"]["slug"] == "visitors"
    assert tiles[1]["options"] | {"source": None} == {
        "numerator_matcher": "(done)$",
        "denominator_matcher": "start$",
        "matching_attribute": "eventCategory",
        "value_attribute": "uniqueEvents:sum",
        "source": None,
    }
    assert tiles[0]["query"] == modules[0]["data-source"]["query-params"]
    assert dashboard["unknown_module_types"] == [
        {"module": "modules[4]", "module_type": "heatmap", "tile": 5}
    ]


def test_every_imported_tile_query_is_accepted_by_the_read_api(apps):
    writer, reader = apps
    assert (
        writer.post("/dashboards?format=spotlight", json=SPOTLIGHT, headers=ADMIN).status_code
        == 201
    )
    public = reader.get("/dashboards/carers-allowance").get_json()
    assert len(public["tiles"]) == 6
    for tile in public["tiles"]:
        answer = reader.get(tile["path"], query_string=tile["query"])
        assert answer.status_code == 200, (tile["title"], answer.get_json())


def test_a_module_on_a_data_set_that_is_not_there_is_400_naming_it(apps):
    writer, _ = apps
    body = json.loads(json.dumps(SPOTLIGHT))
    body["modules"][3]["tabs"][1]["data-source"]["data-type"] = "gone"
    response = writer.post("/dashboards?format=spotlight", json=body, headers=ADMIN)
    assert response.status_code == 400
    assert response.get_json()["messages"] == [
        "modules[3].tabs[1].data-source: no data set has data_group 'carers-allowance' "
        "and data_type 'gone'"
    ]
    assert writer.get("/dashboards", headers=ADMIN).get_json() == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([], "expected a JSON object with a slug"),
        ({"slug": "x", "modules": {}}, "modules must be a list of objects"),
        (
            {"slug": "x", "modules": [{"module-type": "tab", "tabs": 3}]},
            "modules[0].tabs must be a list",
        ),
        ({"slug": "x", "modules": [{"module-type": "kpi"}]}, "modules[0]: no data-source"),
    ],
)
def test_malformed_spotlight_dashboards_are_400(apps, body, message):
    writer, _ = apps
    response = writer.post("/dashboards?format=spotlight", json=body, headers=ADMIN)
    assert response.status_code == 400 and message in response.get_json()["message"]
