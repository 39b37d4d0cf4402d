"""Signing in and out, the session cookie, CSRF, and the headers of every page."""

from __future__ import annotations

import logging

import pytest

from backdrop.admin import create_app
from tests.admin.conftest import ADMIN_TOKEN, SignedIn, csrf_of


def test_a_signed_out_visitor_is_sent_to_sign_in_and_back(client):
    response = client.get("/data-sets?q=vis")
    assert response.status_code == 302
    assert response.headers["Location"] == "/sign-in?next=/data-sets?q%3Dvis"
    page = client.get(response.headers["Location"]).text
    signed = client.post(
        "/sign-in",
        data={"token": ADMIN_TOKEN, "csrf_token": csrf_of(page), "next": "/data-sets?q=vis"},
    )
    assert signed.headers["Location"] == "/data-sets?q=vis"


@pytest.mark.parametrize("path", ["/", "/data-sets/x", "/data-sets/x/explore", "/nowhere"])
def test_every_page_needs_sign_in(client, path):
    assert client.get(path).headers["Location"].startswith("/sign-in")


def test_status_and_static_files_need_no_sign_in(client):
    assert client.get("/_status").json == {"status": "ok", "message": "app is up"}
    with client.get("/static/admin.css") as response:
        assert response.status_code == 200


def test_a_wrong_token_is_refused_and_not_echoed(client, caplog):
    caplog.set_level(logging.INFO, logger="backdrop")
    csrf = csrf_of(client.get("/sign-in").text)
    response = client.post("/sign-in", data={"token": "guess-123", "csrf_token": csrf})
    assert response.status_code == 401
    assert "That is not the admin token" in response.text
    assert "guess-123" not in response.text and "guess-123" not in caplog.text
    assert client.get("/data-sets").status_code == 302


def test_the_admin_token_never_appears_in_a_page_or_a_log(admin, make_data_set, caplog):
    caplog.set_level(logging.DEBUG, logger="backdrop")
    make_data_set("visits")
    for path in ["/data-sets", "/data-sets/visits", "/data-sets/visits/edit", "/sign-in"]:
        assert ADMIN_TOKEN not in admin.get(path, follow_redirects=True).text
    assert ADMIN_TOKEN not in caplog.text


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example"])
def test_next_never_leaves_the_site(client, target):
    csrf = csrf_of(client.get("/sign-in").text)
    response = client.post(
        "/sign-in", data={"token": ADMIN_TOKEN, "csrf_token": csrf, "next": target}
    )
    assert response.headers["Location"] == "/data-sets"


def test_sign_out_ends_the_session(admin):
    response = admin.post("/sign-out")
    assert response.headers["Location"] == "/sign-in"
    assert admin.get("/data-sets").status_code == 302


def test_without_an_admin_token_sign_in_says_how_to_enable_it(settings):
    from dataclasses import replace

    client = create_app(replace(settings, admin_token=None)).test_client()
    response = client.get("/sign-in")
    assert response.status_code == 403
    assert "BACKDROP_ADMIN_TOKEN" in response.text
    assert client.get("/data-sets").headers["Location"].startswith("/sign-in")


def test_changing_the_admin_token_signs_every_session_out(settings, tmp_path):
    from dataclasses import replace

    first = create_app(settings)
    client = first.test_client()
    SignedIn(client)
    second = create_app(replace(settings, admin_token="a-new-admin-token"))
    cookie = client.get_cookie("backdrop_session")
    other = second.test_client()
    other.set_cookie("backdrop_session", cookie.value)
    assert other.get("/data-sets").status_code == 302


def test_session_cookie_flags(client):
    response = client.get("/sign-in")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    secure = client.get("/sign-in", base_url="https://admin.example.org")
    assert "Secure" in secure.headers["Set-Cookie"]


def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(admin, make_data_set):
    make_data_set("visits")
    for data in ({}, {"csrf_token": "forged"}):
        response = admin.client.post(
            "/data-sets/visits/delete", data={"confirm_name": "visits", **data}
        )
        assert response.status_code == 400
        assert "security token is missing or out of date" in response.text
    assert admin.get("/data-sets/visits").status_code == 200


def test_sign_in_itself_needs_the_csrf_token(client):
    response = client.post("/sign-in", data={"token": ADMIN_TOKEN})
    assert response.status_code == 400
    assert client.get("/data-sets").status_code == 302


@pytest.mark.parametrize("path", ["/sign-in", "/static/admin.css", "/nowhere"])
def test_security_headers_on_every_response(client, path):
    with client.get(path) as response:
        headers = response.headers
    csp = headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_pages_have_no_inline_script(admin, make_data_set):
    make_data_set("visits")
    for path in ["/data-sets", "/data-sets/visits", "/data-sets/visits/explore?group_by=channel"]:
        page = admin.get(path).text
        for tag in page.split("<script")[1:]:
            opening = tag.split(">", 1)[0]
            assert 'src="/static/' in opening or 'type="application/json"' in opening


def test_the_generated_session_key_is_kept_in_the_database(settings):
    """Without BACKDROP_SECRET_KEY two apps (two workers) on one database agree,
    so a session opened by one is valid on the other."""
    from dataclasses import replace

    unset = replace(settings, secret_key=None)
    client = create_app(unset).test_client()
    SignedIn(client)
    other = create_app(unset).test_client()
    other.set_cookie("backdrop_session", client.get_cookie("backdrop_session").value)
    assert other.get("/data-sets").status_code == 200


def test_changes_from_pages_are_audited_as_the_web_ui(admin, caplog):
    caplog.set_level(logging.INFO, logger="backdrop.audit")
    admin.post("/new-data-set", {"name": "visits", "published": "on"})
    admin.post("/data-sets/visits/delete", {"confirm_name": "visits"})
    lines = [(r.action, r.actor) for r in caplog.records if getattr(r, "audit", False)]
    assert ("data_set.create", "web UI (admin)") in lines
    assert ("data_set.delete", "web UI (admin)") in lines


def test_a_session_expires_after_twelve_hours(client, monkeypatch):
    from datetime import UTC, datetime, timedelta

    from itsdangerous import TimestampSigner

    SignedIn(client)
    cookie = client.get_cookie("backdrop_session")
    assert timedelta(hours=11) < cookie.expires - datetime.now(UTC) <= timedelta(hours=12)
    # The signature expires too: a cookie kept past its time is refused.
    later = int((datetime.now(UTC) + timedelta(hours=13)).timestamp())
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: later)
    assert client.get("/data-sets").status_code == 302
