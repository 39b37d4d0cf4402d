"""Request ids: every request gets one, every response and log line carries it.

A client's ``X-Request-Id`` (or ``GOVUK-Request-Id``, as Backdrop's clients
send it) is kept when it is a short, printable token, so one id follows a
request through a proxy, the app and the worker; anything else is replaced by
a generated id rather than copied into logs.
"""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar
from typing import TypeVar

from flask import Flask, Response, g, request

from backdrop.logging import request_id

T = TypeVar("T")

HEADER = "X-Request-Id"
ACCEPTED = (HEADER, "GOVUK-Request-Id")
VALID = re.compile(r"[A-Za-z0-9._:@/+=-]{1,200}")


def incoming_id() -> str:
    """The client's id, when it sent a usable one, else a new one."""
    for name in ACCEPTED:
        value = request.headers.get(name, "")
        if VALID.fullmatch(value):
            return value
    return uuid.uuid4().hex


def current() -> str | None:
    """The id of the request being handled (None outside one)."""
    return request_id.get()


def bind(variable: ContextVar[T], value: T) -> None:
    """Set a context variable for the rest of this request only (a worker
    thread serves many requests, so each is reset at teardown)."""
    g.setdefault("context_tokens", []).append((variable, variable.set(value)))


def init_app(app: Flask) -> None:
    @app.before_request
    def bind_request_id() -> None:
        bind(request_id, incoming_id())

    @app.after_request
    def echo_request_id(response: Response) -> Response:
        value = request_id.get()
        if value is not None:
            response.headers[HEADER] = value
        return response

    @app.teardown_request
    def unbind(_error: BaseException | None) -> None:
        for variable, token in reversed(g.pop("context_tokens", [])):
            variable.reset(token)
