"""A person's path through the web UI in a real browser: sign in, create a data
set, put records in, explore them as a weekly chart per group, check the sums;
and the guards: a form without its CSRF token, a page visited signed out.

The tests of this module run in order on one browser session; the records
arrive the way a person would send them, as a CSV through the file input.
"""

from __future__ import annotations

import pytest

from tests.admin.conftest import visits
from tests.browser.conftest import ADMIN_TOKEN, make_driver, screenshot

pytestmark = pytest.mark.slow

SERIES_COLOURS = {"phone": (0x1D, 0x70, 0xB8), "web": (0xD4, 0x35, 0x1C)}  # charts.js order


def by_css(driver, selector):
    from selenium.webdriver.common.by import By

    return driver.find_element(By.CSS_SELECTOR, selector)


def all_css(driver, selector):
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, selector)


def wait_for(driver, selector, timeout=10):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(
        expected_conditions.presence_of_element_located((By.CSS_SELECTOR, selector))
    )


def sideways_overflow(driver):
    """At phone width the page itself never scrolls sideways (wide tables scroll
    inside their own box): the elements sticking out past 375 px, if any."""
    driver.set_window_size(375, 900)
    sticking_out = driver.execute_script(
        """
        const width = document.documentElement.clientWidth;
        if (document.documentElement.scrollWidth <= width) return [];
        return [...document.querySelectorAll('body *')]
          .filter((e) => e.getBoundingClientRect().right > width + 1)
          .filter((e) => !e.parentElement.closest('.table-wrap, pre'))
          .map((e) => `${e.tagName.toLowerCase()}.${e.className}#${e.id}`).slice(0, 10);
        """
    )
    driver.set_window_size(1280, 900)
    return sticking_out


def test_signed_out_pages_redirect_to_sign_in(browser, admin_app):
    browser.get(f"{admin_app.url}/data-sets")
    assert "/sign-in?next=/data-sets" in browser.current_url
    assert by_css(browser, "h1").text == "Sign in"
    screenshot(browser, "sign-in")
    assert sideways_overflow(browser) == []


def test_sign_in(browser, admin_app):
    by_css(browser, "#token").send_keys(ADMIN_TOKEN)
    by_css(browser, "form button[type=submit]").click()
    wait_for(browser, "header nav")
    assert browser.current_url == f"{admin_app.url}/data-sets"
    assert "There are no data sets yet" in browser.page_source


def test_create_a_data_set(browser, admin_app):
    by_css(browser, "a.button[href='/new-data-set']").click()
    by_css(browser, "#name").send_keys("visits")
    by_css(browser, "#data_group").send_keys("site")
    screenshot(browser, "create")
    by_css(browser, "form.config button[type=submit]").click()
    token = wait_for(browser, "#token").get_attribute("value")
    assert len(token) > 30
    assert "This is the only time the token is shown" in browser.page_source
    screenshot(browser, "token")
    by_css(browser, "a.button[href='/data-sets/visits']").click()
    assert by_css(browser, "#record-count").text == "0"


def test_upload_a_csv_verify_then_confirm(browser, admin_app, tmp_path):
    path = tmp_path / "visits.csv"
    lines = ["_timestamp,channel,count"] + [
        f"{record['_timestamp']},{record['channel']},{record['count']}" for record in visits(3)
    ]
    path.write_text("\n".join(lines) + "\n")
    by_css(browser, "a.button[href$='/upload']").click()
    by_css(browser, "#file").send_keys(str(path))
    screenshot(browser, "upload")
    by_css(browser, "#upload-form button[type=submit]").click()
    assert wait_for(browser, "#verify-records").text == "42"
    columns = [c.text for c in all_css(browser, "#columns tbody td:first-child")]
    assert columns[:3] == ["_timestamp", "channel", "count"]  # then the _id each row gets
    assert by_css(browser, "#new-columns").text == "_timestamp, channel, count"
    assert len(all_css(browser, "#sample tbody tr")) == 20
    screenshot(browser, "verify")
    assert sideways_overflow(browser) == []
    by_css(browser, "#confirm-form button[type=submit]").click()
    assert wait_for(browser, "p.notice").text == "Stored 42 records from visits.csv."
    assert by_css(browser, "#record-count").text == "42"
    assert "visits.csv" in by_css(browser, "#uploads").text
    assert len(all_css(browser, "#records tbody tr")) == 25
    screenshot(browser, "data-set")
    assert sideways_overflow(browser) == []


def test_the_data_sets_table(browser, admin_app):
    browser.get(f"{admin_app.url}/data-sets")
    row = by_css(browser, "#data-sets tbody tr")
    assert "visits" in row.text and "site/visits" in row.text and "42" in row.text
    assert "in date" in row.text
    screenshot(browser, "data-sets")
    by_css(browser, "#data-sets tbody a").click()


def test_explore_weekly_sums_per_channel(browser, admin_app):
    from selenium.webdriver.support.ui import Select

    by_css(browser, "a.button[href$='/explore']").click()
    Select(by_css(browser, "#period")).select_by_value("week")
    by_css(browser, "#start_at").send_keys("2024-01-01T00:00:00Z")
    by_css(browser, "#end_at").send_keys("2024-01-22T00:00:00Z")
    by_css(browser, "#group_by").send_keys("channel")
    by_css(browser, "#collect").send_keys("count:sum")
    by_css(browser, "#query-form button[type=submit]").click()
    chart = wait_for(browser, "#chart[data-drawn=true]")
    assert "period=week" in browser.current_url and "group_by=channel" in browser.current_url
    assert chart.get_attribute("data-series") == "2"
    legend = [e.text for e in all_css(browser, "#chart .u-legend .u-series .u-label")]
    assert legend[1:] == ["phone", "web"]
    for colour in SERIES_COLOURS.values():
        assert count_pixels(browser, colour) > 50, f"no line drawn in {colour}"
    sums = [
        [cell.text for cell in row.find_elements("css selector", "td")]
        for row in all_css(browser, "#result tbody tr")
    ]
    header = [cell.text for cell in all_css(browser, "#result thead th")]
    column = header.index("count:sum")
    by_channel = {}
    for row in sums:
        by_channel.setdefault(row[0], []).append(int(row[column]))
    assert by_channel == {"phone": [28, 77, 126], "web": [56, 154, 252]}
    read_url = by_css(browser, "#read-api-url").get_attribute("href")
    assert read_url.startswith("http://read.example.test/data/site/visits?period=week")
    screenshot(browser, "explorer")
    assert sideways_overflow(browser) == []


def count_pixels(driver, rgb, tolerance=24):
    return driver.execute_script(
        """
        const [r, g, b, tol] = arguments;
        const canvas = document.querySelector('#chart canvas');
        const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        let n = 0;
        for (let i = 0; i < data.length; i += 4) {
          if (data[i + 3] > 200 && Math.abs(data[i] - r) < tol && Math.abs(data[i + 1] - g) < tol
              && Math.abs(data[i + 2] - b) < tol) n++;
        }
        return n;
        """,
        *rgb,
        tolerance,
    )


def test_a_bad_query_says_what_is_wrong(browser, admin_app):
    browser.get(f"{admin_app.url}/data-sets/visits/explore?period=week")
    summary = by_css(browser, ".error-summary")
    assert "Either 'duration' or both 'start_at' and 'end_at' are required" in summary.text


def test_a_form_without_its_csrf_token_is_rejected(browser, admin_app):
    browser.get(f"{admin_app.url}/data-sets/visits/delete")
    screenshot(browser, "delete")
    by_css(browser, "#confirm_name").send_keys("visits")
    browser.execute_script("document.querySelector('main form input[name=csrf_token]').remove()")
    by_css(browser, "form button.danger").click()
    assert wait_for(browser, ".status-code").text == "Error 400"
    assert "security token is missing or out of date" in by_css(browser, "main").text
    browser.get(f"{admin_app.url}/data-sets/visits")
    assert by_css(browser, "#record-count").text == "42"  # nothing was deleted


def test_an_unknown_page_is_a_404_page(browser, admin_app):
    browser.get(f"{admin_app.url}/no/such/page")
    assert by_css(browser, "h1").text == "Page not found"
    screenshot(browser, "not-found")


def test_sign_out_then_pages_redirect(browser, admin_app):
    browser.get(f"{admin_app.url}/data-sets")
    by_css(browser, "header form button").click()
    wait_for(browser, "#token")
    browser.get(f"{admin_app.url}/data-sets/visits")
    assert "/sign-in?next=/data-sets/visits" in browser.current_url


def test_no_console_errors_on_a_fresh_browser(admin_app):
    """A CSP violation or script error shows in the console: there is none."""
    driver = make_driver()
    try:
        driver.get(f"{admin_app.url}/sign-in")
        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    finally:
        driver.quit()
    assert errors == []
