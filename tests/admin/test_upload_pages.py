"""The upload steps through the pages: choose → verify (dry run) → confirm."""

from __future__ import annotations

import html
import io
import re

import pytest

from backdrop.admin import staging
from backdrop.web.extension import services

CSV = b"_timestamp,channel,count\n2024-01-01T00:00:00Z,web,3\n2024-01-02T00:00:00Z,phone,4\n"


def send(admin, name, content, filename="visits.csv", follow=False, **form):
    data = {"file": (io.BytesIO(content), filename), **form}
    return admin.post(
        f"/data-sets/{name}/upload",
        data,
        content_type="multipart/form-data",
        follow_redirects=follow,
    )


def verify_url(response) -> str:
    assert response.status_code == 303
    return response.headers["Location"]


def records_of(app, name):
    with app.app_context():
        return services().engine.records.count(name)


def test_choose_verify_confirm_stores_and_records_history(admin, app, make_data_set):
    make_data_set("visits", [{"_timestamp": "2023-12-01T00:00:00Z", "channel": "web", "old": 1}])
    assert "Upload to visits" in admin.get("/data-sets/visits/upload").text
    url = verify_url(send(admin, "visits", CSV))
    page = admin.get(url)
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert re.search(r'id="verify-records">2<', text)
    assert 'id="new-columns">count<' in text and 'id="missing-columns">old<' in text
    assert "<code>channel</code></td><td>string</td>" in text
    assert records_of(app, "visits") == 1  # nothing stored by the dry run
    confirmed = admin.post(url)
    assert confirmed.status_code == 303 and confirmed.headers["Location"] == "/data-sets/visits"
    assert records_of(app, "visits") == 3
    shown = admin.get("/data-sets/visits").text
    assert "Stored 2 records from visits.csv" in shown
    history = shown.split('id="uploads"')[1].split("</table>")[0]
    assert "visits.csv" in history and "web UI (admin)" in history
    assert admin.get(url).status_code == 404  # confirmed: no longer waiting


def test_the_script_gets_json(admin, make_data_set):
    make_data_set("visits")
    response = admin.client.post(
        "/data-sets/visits/upload",
        data={"file": (io.BytesIO(CSV), "v.csv"), "csrf_token": admin.csrf},
        content_type="multipart/form-data",
        headers={"X-Backdrop-Upload": "1"},
    )
    assert response.status_code == 200 and response.json["next"].startswith(
        "/data-sets/visits/upload/"
    )
    no_file = admin.client.post(
        "/data-sets/visits/upload",
        data={"csrf_token": admin.csrf},
        content_type="multipart/form-data",
        headers={"X-Backdrop-Upload": "1"},
    )
    assert no_file.status_code == 400 and no_file.json["message"] == "Choose a file to upload"


@pytest.mark.parametrize(
    ("content", "filename", "expected"),
    [
        (b"_timestamp,count\nnot a date,1\n2024-01-01T00:00:00Z,x\n", "bad.csv", "row 2: "),
        (b"\x00\x01\x02binary", "bad.csv", ""),
        (b"a-b,c\n1,2\n", "keys.csv", "a-b"),
        (b"", "empty.csv", ""),
    ],
)
def test_a_bad_file_is_a_400_verify_page_with_every_problem(
    admin, app, make_data_set, content, filename, expected
):
    make_data_set("visits")
    page = admin.get(verify_url(send(admin, "visits", content, filename)))
    assert page.status_code == 400
    assert "This file cannot be stored" in page.text and expected in html.unescape(page.text)
    assert 'id="confirm-form"' not in page.text
    assert records_of(app, "visits") == 0


def test_no_file_and_a_bad_format_are_400_pages(admin, make_data_set):
    make_data_set("visits")
    response = admin.post("/data-sets/visits/upload", {}, content_type="multipart/form-data")
    assert response.status_code == 400 and "Choose a file to upload" in response.text
    bad = send(admin, "visits", CSV, format="pdf")
    assert bad.status_code == 400 and "format must be one of" in bad.text


def test_an_unknown_or_foreign_upload_id_is_a_404_page(admin, make_data_set):
    make_data_set("visits")
    make_data_set("other")
    url = verify_url(send(admin, "visits", CSV))
    foreign = url.replace("/visits/", "/other/")
    for path in (
        foreign,
        "/data-sets/visits/upload/../../etc",
        "/data-sets/visits/upload/" + "x" * 22,
    ):
        response = admin.get(path)
        assert response.status_code == 404
    assert "no longer waiting" in admin.get(foreign).text


def test_a_file_over_the_limit_is_a_413_page(settings, make_data_set):
    from dataclasses import replace

    from backdrop.admin import create_app
    from tests.admin.conftest import SignedIn

    app = create_app(replace(settings, max_upload_bytes=1000))
    admin = SignedIn(app.test_client())
    with app.app_context():
        services().registry.create({"name": "visits"})
    response = send(admin, "visits", b"a" * 200_000)
    assert response.status_code == 413
    assert "over the upload limit of 1,000 bytes" in response.text


def test_uploads_wait_an_hour_at_most(admin, make_data_set, monkeypatch):
    make_data_set("visits")
    url = verify_url(send(admin, "visits", CSV))
    later = staging.time.time() + staging.MAX_WAIT + 1
    monkeypatch.setattr(staging.time, "time", lambda: later)
    assert admin.get(url).status_code == 404
