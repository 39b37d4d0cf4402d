"""The rollup fields of the data-set form: dimensions as text (``+`` joins
the fields of a group), measures, the finest period, and the messages of bad
ones shown on the form."""

from __future__ import annotations

import pytest

from tests.admin.test_data_sets_pages import DEFAULT_FORM, config_of


def test_create_reads_dimensions_measures_and_grain(admin, app):
    dimensions = "channel, region\ndepartment + page"
    form = {"name": "tiles", "dimensions": dimensions, "measures": "count, value"}
    form["rollup_grain"] = "hour"
    response = admin.post("/new-data-set", {**DEFAULT_FORM, **form})
    assert response.status_code == 200, response.text
    config = config_of(app, "tiles")
    assert config.dimensions == ["channel", "region", ["department", "page"]]
    assert config.measures == ["count", "value"]
    assert config.rollup_grain == "hour"


def test_empty_fields_are_no_rollup(admin, app):
    response = admin.post("/new-data-set", {**DEFAULT_FORM, "name": "plain", "dimensions": " "})
    assert response.status_code == 200
    config = config_of(app, "plain")
    assert (config.dimensions, config.measures, config.rollup_grain) == (None, None, "day")
    assert config.rollup is None


def test_the_edit_form_shows_the_rollup_fields(admin, make_data_set):
    dimensions = ["channel", ["department", "page"]]
    make_data_set("tiles", dimensions=dimensions, measures=["count"], rollup_grain="hour")
    page = admin.get("/data-sets/tiles/edit").text
    assert 'name="dimensions" value="channel, department+page"' in page
    assert 'name="measures" value="count"' in page
    assert '<option value="hour" selected>' in page


def test_editing_keeps_and_changes_the_rollup(admin, app, make_data_set):
    make_data_set("tiles", dimensions=["channel"], measures=["count"])
    form = {"data_group": "tiles", "data_type": "tiles", "measures": "count"}
    form["dimensions"] = "channel, region"
    response = admin.post("/data-sets/tiles/edit", form)
    assert response.status_code == 302
    assert config_of(app, "tiles").dimensions == ["channel", "region"]


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"dimensions": "_timestamp"}, "dimensions[0] is not a field that can be rolled up"),
        ({"dimensions": "aa+bb+cc+dd+ee"}, "a group has at most 4"),
        ({"dimensions": "aa+"}, "dimensions[0][1] must be a field name"),
        ({"dimensions": "aa, aa"}, "dimensions[1] repeats an earlier entry"),
        ({"measures": "count, count"}, "measures names a field twice"),
        ({"dimensions": "count", "measures": "count"}, "cannot be both a dimension and a measure"),
        ({"rollup_grain": "minute"}, "rollup_grain must be"),
    ],
)
def test_bad_rollup_fields_are_shown_on_the_form(admin, app, form, message):
    response = admin.post("/new-data-set", {**DEFAULT_FORM, "name": "tiles", **form})
    assert response.status_code == 400
    assert "There is a problem" in response.text and message in response.text
    for key, value in form.items():
        if key != "rollup_grain":
            assert f'value="{value}"' in response.text


class NoBuilds:
    def start(self, data_set):
        pass


def test_the_data_set_page_shows_the_rollup_building_then_built(admin, app, make_data_set):
    app.extensions["backdrop"].registry.builds = NoBuilds()
    make_data_set("tiles", dimensions=["channel", ["department", "page"]], measures=["count"])
    page = admin.get("/data-sets/tiles").text
    assert "building: queries read the records until it is built" in page
    assert "<code>channel</code>, <code>department+page</code>" in page
    assert "<code>count</code>" in page
    app.extensions["backdrop"].engine.records.build_rollup("tiles")
    assert "built: covered grouped queries answer from it" in admin.get("/data-sets/tiles").text


def test_the_data_set_page_without_a_rollup_says_where_to_set_one(admin, make_data_set):
    make_data_set("plain")
    page = admin.get("/data-sets/plain").text
    assert 'id="rollup-heading"' in page and "Set dimensions and measures in" in page
