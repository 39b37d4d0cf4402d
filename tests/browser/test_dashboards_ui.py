"""Building a dashboard in a real browser (SPEC 11): sign in, create a
two-tile dashboard with the tile editor, see both tiles drawn, publish it,
then view it signed out at the same address, read-only.

The tests of this module run in order on one browser session.
"""

from __future__ import annotations

import pytest

from backdrop.core import writes
from backdrop.core.data_sets import Registry
from backdrop.core.storage import open_engine
from tests.admin.conftest import visits
from tests.browser.conftest import ADMIN_TOKEN, NoTransforms, make_driver, screenshot
from tests.browser.test_web_ui import all_css, by_css, sideways_overflow, wait_for

pytestmark = pytest.mark.slow

WEEKLY = (
    "period=week&start_at=2024-01-01T00:00:00Z&end_at=2024-01-22T00:00:00Z"
    "&group_by=channel&collect=count:sum"
)


@pytest.fixture(scope="module", autouse=True)
def data(admin_app, database_url):
    engine = open_engine(database_url)
    registry = Registry(engine)
    config, _ = registry.create({"name": "visits", "data_group": "site"})
    writes.save(engine, NoTransforms(), config, visits(3))
    engine.close()


def fill_tile(browser, n, title, chart, query, value=""):
    from selenium.webdriver.support.ui import Select

    by_css(browser, f"#tile-{n}-title").send_keys(title)
    by_css(browser, f"#tile-{n}-data_set").send_keys("visits")
    Select(by_css(browser, f"#tile-{n}-chart")).select_by_value(chart)
    by_css(browser, f"#tile-{n}-query").send_keys(query)
    if value:
        by_css(browser, f"#tile-{n} summary").click()
        by_css(browser, f"#tile-{n}-value_attribute").send_keys(value)


def test_build_a_two_tile_dashboard(browser, admin_app):
    browser.get(f"{admin_app.url}/sign-in")
    by_css(browser, "#token").send_keys(ADMIN_TOKEN)
    by_css(browser, "form button[type=submit]").click()
    wait_for(browser, "header nav")
    by_css(browser, "header nav a[href='/dashboards']").click()
    assert "There are no dashboards yet" in browser.page_source
    by_css(browser, "#new-dashboard").click()
    by_css(browser, "#title").send_keys("Site visits")
    fill_tile(browser, 0, "Weekly visits", "line", WEEKLY)
    by_css(browser, "#add-tile").click()
    wait_for(browser, "#tile-1-title")
    assert by_css(browser, "#tile-0-title").get_attribute("value") == "Weekly visits"
    fill_tile(browser, 1, "Visits by channel", "bar", "group_by=channel&collect=count:sum")
    by_css(browser, "#published").click()
    screenshot(browser, "dashboard-form")
    by_css(browser, "#save").click()
    wait_for(browser, "#tiles")  # only the dashboard's page has it: the form's page is gone
    assert by_css(browser, "h1").text == "Site visits"
    assert browser.current_url == f"{admin_app.url}/dashboards/site-visits"
    charts = [wait_for(browser, f"#tile-{n} .tile-chart[data-drawn=true]") for n in (0, 1)]
    assert [c.get_attribute("data-series") for c in charts] == ["2", "1"]
    legend = [e.text for e in all_css(browser, "#tile-0 .u-legend .u-series .u-label")]
    assert legend[1:] == ["phone", "web"]
    screenshot(browser, "dashboard")
    assert sideways_overflow(browser) == []


def test_view_it_signed_out_read_only(admin_app):
    driver = make_driver()
    try:
        driver.get(f"{admin_app.url}/dashboards/site-visits")
        assert wait_for(driver, "h1").text == "Site visits"
        assert len(all_css(driver, ".tile")) == 2
        wait_for(driver, "#tile-1 .tile-chart[data-drawn=true]")
        assert all_css(driver, "#edit-dashboard") == [] and all_css(driver, "header nav") == []
        screenshot(driver, "dashboard-public")
        driver.get(f"{admin_app.url}/dashboards")
        assert "/sign-in" in driver.current_url
        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert errors == []
    finally:
        driver.quit()
