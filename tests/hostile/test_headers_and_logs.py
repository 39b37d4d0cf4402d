"""Security headers on every response; secrets in query strings stay out of
the access log (apps started as start-app.sh starts them)."""

from __future__ import annotations

import time

import requests

SECRET = "do-not-log-me-4f1b"


def test_every_app_sends_security_headers_on_answers_and_errors(start):
    read, write = start("read"), start("write")
    for response in (
        requests.get(f"{read.url}/_status", timeout=5),
        requests.get(f"{read.url}/data/none/none", timeout=5),  # 404
        requests.get(f"{read.url}/docs", timeout=5),  # a page
        requests.post(f"{write.url}/data/none/none", json={}, timeout=5),  # 404
        requests.get(f"{write.url}/openapi.json", timeout=5),
    ):
        assert response.headers["X-Content-Type-Options"] == "nosniff", response.url
        assert response.headers["X-Frame-Options"] == "DENY", response.url
        assert response.headers["Referrer-Policy"] == "no-referrer", response.url
        assert "Content-Security-Policy" in response.headers, response.url
    data = requests.get(f"{read.url}/_status", timeout=5)
    assert data.headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"


def test_tokens_in_query_strings_are_not_written_to_the_access_log(start):
    read = start("read")
    requests.get(f"{read.url}/data/a/b?token={SECRET}&period=week", timeout=5)
    requests.get(f"{read.url}/_status?bearer_token={SECRET}", timeout=5)
    requests.get(f"{read.url}/_status?api_key={SECRET}", timeout=5)
    time.sleep(0.5)  # gunicorn writes the access line after the response
    log = read.log()
    assert "/data/a/b?token=***&period=week" in log
    assert "/_status?bearer_token=***" in log
    assert SECRET not in log
