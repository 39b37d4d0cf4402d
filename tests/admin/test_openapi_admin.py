"""The admin app documents its pages in its OpenAPI document too (SPEC 14),
and /openapi.json, /docs and /metrics need no sign-in, like /_status."""

from __future__ import annotations

from openapi_spec_validator import validate

from backdrop.web.openapi import IMPLICIT_METHODS, openapi_path


def test_every_page_is_in_a_valid_document(app, client):
    spec = client.get("/openapi.json").get_json()
    validate(spec)
    for rule in app.url_map.iter_rules():
        for method in rule.methods - IMPLICIT_METHODS:
            assert method.lower() in spec["paths"][openapi_path(rule)], f"{method} {rule.rule}"
    explore = spec["paths"]["/data-sets/{name}/explore"]["get"]
    assert explore["tags"] == ["web UI"] and "400" in explore["responses"]


def test_docs_and_metrics_are_open(client):
    assert client.get("/metrics").status_code == 200
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "style-src 'self' 'unsafe-inline'" in docs.headers["Content-Security-Policy"]
