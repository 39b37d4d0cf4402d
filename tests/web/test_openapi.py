"""Each app's /openapi.json describes every route it has and every read
parameter it accepts, and is a valid OpenAPI 3.1 document; /docs serves
Swagger UI from the package."""

from __future__ import annotations

import importlib
import importlib.util

import pytest
from openapi_spec_validator import validate

from backdrop.core import query_args
from backdrop.read import create_app as create_read_app
from backdrop.settings import Settings
from backdrop.web.openapi import (
    IMPLICIT_METHODS,
    Success,
    not_an_api,
    openapi_path,
    operation,
    operations,
)

APPS = [name for name in ("read", "write", "admin") if importlib.util.find_spec(f"backdrop.{name}")]


@pytest.fixture(params=APPS)
def app(request, tmp_path):
    factory = importlib.import_module(f"backdrop.{request.param}").create_app
    app = factory(Settings(database_url=f"sqlite:///{tmp_path}/o.db"))
    yield app
    app.extensions["backdrop"].engine.close()


def _document(app) -> dict:
    response = app.test_client().get("/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def test_the_document_is_valid_openapi_3_1(app):
    spec = _document(app)
    assert spec["openapi"] == "3.1.0"
    validate(spec)


def test_every_route_is_declared(app):
    _found, undeclared = operations(app)
    assert undeclared == [], "add an @operation (backdrop/web/openapi.py) to each"


def test_every_route_and_method_is_in_the_document(app):
    paths = _document(app)["paths"]
    routes = 0
    for rule in app.url_map.iter_rules():
        if isinstance(getattr(app.view_functions[rule.endpoint], "openapi", None), str):
            continue  # @not_an_api
        for method in rule.methods - IMPLICIT_METHODS:
            assert method.lower() in paths.get(openapi_path(rule), {}), f"{method} {rule.rule}"
            routes += 1
    assert routes >= 9


def test_every_read_parameter_is_documented_on_both_read_routes():
    app = create_read_app(Settings(database_url="sqlite:///:memory:"))
    paths = _document(app)["paths"]
    for path in ("/data/{data_group}/{data_type}", "/{name}"):
        documented = {p["name"] for p in paths[path]["get"]["parameters"] if p["in"] == "query"}
        assert documented == query_args.PARAMETERS


def test_an_undeclared_route_is_caught_and_left_out(app):
    app.add_url_rule("/undeclared", "undeclared", lambda: "")
    app.add_url_rule("/page", "page", not_an_api("an HTML page")(lambda: ""))
    assert operations(app)[1] == ["GET /undeclared (undeclared)"]
    paths = _document(app)["paths"]
    assert "/undeclared" not in paths and "/page" not in paths


def test_only_the_components_an_app_uses_are_in_its_document():
    app = create_read_app(Settings(database_url="sqlite:///:memory:"))
    components = _document(app)["components"]
    assert "securitySchemes" not in components  # reads need no token
    assert "NewDataSet" not in components["schemas"]
    assert {"Error", "QueryResult", "Freshness"} <= set(components["schemas"])


def test_every_operation_documents_its_errors_and_the_request_id(app):
    for path, methods in _document(app)["paths"].items():
        for method, spec in methods.items():
            assert spec["responses"], f"{method} {path}"
            headers = [p["name"] for p in spec["parameters"] if p["in"] == "header"]
            assert headers == ["X-Request-Id"]
            if spec.get("security"):
                assert "401" in spec["responses"], f"{method} {path}"


def test_docs_serve_swagger_ui_from_the_package(app):
    client = app.test_client()
    page = client.get("/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    html = page.get_data(as_text=True)
    assert "<script>" not in html and "http" not in html  # no inline script, no CDN
    for asset in ("/docs/swagger-ui-bundle.js", "/docs/init.js", "/docs/swagger-ui.css"):
        assert asset in html
    for asset in (
        "/docs/swagger-ui-bundle.js",
        "/docs/init.js",
        "/docs/swagger-ui.css",
        "/docs/LICENSE",
    ):
        with client.get(asset) as response:  # closes the file it streams
            assert response.status_code == 200, asset


@pytest.mark.parametrize("path", ["/docs/../settings.py", "/docs/%2e%2e/docs.py", "/docs/nope.js"])
def test_docs_assets_outside_the_vendored_files_are_404(app, path):
    response = app.test_client().get(path)
    assert response.status_code == 404
    if app.import_name == "backdrop.admin":  # the web UI answers its own error page
        assert b"settings" not in response.data and b"swagger" not in response.data.lower()
    else:
        assert response.get_json()["status"] == "error"


def test_a_file_upload_body_is_multipart(app):
    declared = operation(
        "Upload",
        tag="write",
        body="FileUpload",
        body_type="multipart/form-data",
        responses={200: Success("stored", "Ok"), 400: "BadRecords"},
    )
    app.add_url_rule("/up/<name>", "up", declared(lambda name: ""), methods=["POST"])
    spec = _document(app)
    validate(spec)
    body = spec["paths"]["/up/{name}"]["post"]["requestBody"]["content"]
    assert body == {"multipart/form-data": {"schema": {"$ref": "#/components/schemas/FileUpload"}}}
    assert spec["components"]["schemas"]["FileUpload"]["properties"]["file"]["format"] == "binary"


def test_an_unknown_shared_response_is_refused_when_declared():
    with pytest.raises(ValueError, match="Gone"):
        operation("x", tag="t", responses={410: "Gone"})


def test_an_unknown_body_schema_is_refused_when_declared():
    with pytest.raises(ValueError, match="Recordz"):
        operation("x", tag="t", body="Recordz", responses={200: Success("ok")})
