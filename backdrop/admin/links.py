"""Public addresses of the read and write apps, for the URLs and curl
snippets pages show (the admin app itself never calls them)."""

from __future__ import annotations

from flask import request

from backdrop.web.extension import services

READ_PORT, WRITE_PORT = 3038, 3039


def _on_this_host(port: int) -> str:
    host = request.host
    if not host.endswith("]"):  # keep IPv6 literals whole
        host = host.rsplit(":", 1)[0]
    return f"{request.scheme}://{host}:{port}"


def read_url() -> str:
    return (services().settings.read_url or _on_this_host(READ_PORT)).rstrip("/")


def write_url() -> str:
    return (services().settings.write_url or _on_this_host(WRITE_PORT)).rstrip("/")
