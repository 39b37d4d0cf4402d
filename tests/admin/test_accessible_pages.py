"""Every page a signed-in person sees: one h1, every form control labelled,
no inline script or style, and no page a 5xx."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from tests.admin.conftest import visits

PAGES = [
    "/data-sets",
    "/data-sets?q=vis",
    "/new-data-set",
    "/data-sets/visits",
    "/data-sets/visits/edit",
    "/data-sets/visits/delete",
    "/data-sets/visits/upload",
    "/data-sets/visits/explore",
    "/data-sets/visits/explore?period=week&duration=3&group_by=channel&collect=count:sum",
    "/data-sets/visits/explore?period=week",
    "/no/such/page",
]
CONTROLS = {"input", "select", "textarea"}


class Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.h1 = 0
        self.labels: set[str] = set()
        self.controls: list[dict] = []
        self.inline: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "h1":
            self.h1 += 1
        if tag == "label" and attributes.get("for"):
            self.labels.add(attributes["for"])
        if tag in CONTROLS and attributes.get("type") not in ("hidden", "submit"):
            self.controls.append(attributes)
        if "style" in attributes or any(name.startswith("on") for name in attributes):
            self.inline.append(f"<{tag} {attributes}>")
        if tag == "style" or (tag == "script" and not attributes.get("src")):
            if attributes.get("type") != "application/json":
                self.inline.append(tag)


@pytest.mark.parametrize("path", PAGES)
def test_every_page_is_labelled_and_has_no_inline_code(admin, make_data_set, path):
    make_data_set("visits", visits(1))
    response = admin.get(path)
    assert response.status_code < 500
    assert '<html lang="en">' in response.text
    page = Page()
    page.feed(response.text)
    assert page.h1 == 1
    unlabelled = [c for c in page.controls if c.get("id") not in page.labels]
    assert unlabelled == []
    assert page.inline == []
