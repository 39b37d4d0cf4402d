"""Security headers on every response of every app (OWASP's secure headers).

- ``X-Content-Type-Options: nosniff``: a JSON or CSV body is never run as a
  script or page by a browser guessing its type.
- ``X-Frame-Options: DENY``: no page of Backdrop's is framed (clickjacking).
- ``Referrer-Policy: no-referrer``: links out never carry a URL with a query.
- A ``Content-Security-Policy`` that allows nothing on responses that are not
  pages; pages (``/docs``, the admin UI) set their own.

Values an app set already are kept (``setdefault``): this hook runs last.
"""

from __future__ import annotations

from flask import Flask, Response

HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
DATA_POLICY = "default-src 'none'; frame-ancestors 'none'"


def add_headers(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if response.mimetype != "text/html":
        response.headers.setdefault("Content-Security-Policy", DATA_POLICY)
    return response


def init_app(app: Flask) -> None:
    app.after_request(add_headers)
