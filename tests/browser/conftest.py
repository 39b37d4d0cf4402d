"""A real admin app under gunicorn and a real headless Chromium driving it.

Chromium and chromedriver are Debian's packages, installed by
``tools/ensure-browser.sh`` (``./run_tests.sh`` runs it); when they are
missing the tests skip and say so. Screenshots go to ``var/screenshots/``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from backdrop.testing import ROOT, start_app

ADMIN_TOKEN = "browser-admin-token"
SCREENSHOTS = ROOT / "var" / "screenshots"
WIDTHS = {"desktop": 1280, "phone": 375}


def _browser() -> tuple[str, str]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not (chromium and driver):
        pytest.skip(
            "headless Chromium not installed (Debian packages chromium, chromium-driver; "
            "tools/ensure-browser.sh installs them when run as root)"
        )
    return chromium, driver


@pytest.fixture(scope="module")
def database_url(tmp_path_factory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('browser')}/backdrop.db"


@pytest.fixture(scope="module")
def admin_app(database_url, tmp_path_factory):
    _browser()
    env = {
        **os.environ,
        "BACKDROP_DATABASE_URL": database_url,
        "BACKDROP_ADMIN_TOKEN": ADMIN_TOKEN,
        "BACKDROP_SECRET_KEY": "browser-test-secret",
        "BACKDROP_READ_URL": "http://read.example.test",
    }
    app = start_app("admin", env, tmp_path_factory.mktemp("logs") / "admin.log")
    yield app
    app.stop()


def make_driver(width: int = WIDTHS["desktop"]):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, driver_path = _browser()
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in (
        "--headless=new",
        "--no-sandbox",  # tests run as root in containers
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--force-device-scale-factor=1",
        f"--window-size={width},900",
    ):
        options.add_argument(argument)
    browser = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    browser.set_page_load_timeout(30)
    browser.implicitly_wait(5)  # the next page's elements, after a click
    return browser


@pytest.fixture(scope="module")
def browser(admin_app):
    driver = make_driver()
    yield driver
    driver.quit()


def screenshot(driver, name: str) -> list[Path]:
    """Full-page screenshots of the current page at desktop and phone widths."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    paths = []
    original = driver.get_window_size()
    for label, width in WIDTHS.items():
        driver.set_window_size(width, 900)
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(width, min(max(height, 600), 4000))
        path = SCREENSHOTS / f"{name}-{label}.png"
        driver.save_screenshot(str(path))
        paths.append(path)
    driver.set_window_size(original["width"], original["height"])
    return paths


class NoTransforms:
    """A dispatcher for records seeded straight into the database by a test:
    the data sets it seeds have no transforms to run."""

    def dispatch(self, data_set, start, end):
        return None
