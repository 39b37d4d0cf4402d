"""Gunicorn's logs: the request id on every access line, and under
``BACKDROP_LOG_FORMAT=json`` one JSON object per line for gunicorn's own lines
too (its error log in the app's JSON format; access lines with the app's
fields plus method, path, status, bytes and duration).

Query parameters whose name says they hold a secret (``token``, ``key``,
``secret``, ``password``, ``auth``…) are logged as ``***``: a client that
puts its data-set token in a query string by mistake does not leak it into
the logs (SPEC 4: tokens never appear in logs)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import orjson
from gunicorn import glogging  # type: ignore[import-untyped]

from backdrop.logging import JsonFormatter, RequestIdFilter
from backdrop.settings import Settings

# gunicorn's default ("combined") line, then the id the app put in the response.
TEXT_FORMAT = (
    '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" request_id=%({x-request-id}o)s'
)

_PARAMETER = re.compile(r"(^|[?&;])([^=&;?\s]+)=([^&;\s]*)")
_SECRET_NAME = re.compile(
    r"(?:^|[_.-])(?:token|key|apikey|secret|password|passwd|auth|authorization|signature|sig)$",
    re.IGNORECASE,
)


def _redact_one(match: re.Match) -> str:
    lead, name, value = match.groups()
    return f"{lead}{name}=***" if _SECRET_NAME.search(name) else match.group(0)


def redact(text: str) -> str:
    """``text`` (a request line, a query string, a URL) with secret values as ***."""
    return _PARAMETER.sub(_redact_one, text) if "=" in text else text


class AccessLogger(glogging.Logger):
    def __init__(self, cfg: Any):
        self.json = Settings.from_env().log_format == "json"
        super().__init__(cfg)

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        if self.json:
            for handler in self.error_log.handlers:
                handler.setFormatter(JsonFormatter())
                handler.addFilter(RequestIdFilter())

    def atoms(self, resp: Any, req: Any, environ: dict, request_time: Any) -> dict:
        atoms = super().atoms(resp, req, environ, request_time)
        for name in ("r", "q", "f"):  # request line, query string, referer
            atoms[name] = redact(atoms[name])
        return atoms

    def access(self, resp: Any, req: Any, environ: dict, request_time: Any) -> None:
        if not self.json:
            super().access(resp, req, environ, request_time)
            return
        if not self.access_log_enabled:
            return
        atoms = self.atoms(resp, req, environ, request_time)
        method, status = atoms["m"], int(atoms["s"])
        path = redact(environ.get("RAW_URI", atoms["U"]))
        line = {
            "time": datetime.now(UTC).isoformat(),
            "level": "INFO",
            "logger": "gunicorn.access",
            "message": f"{method} {path} {status}",
            "request_id": atoms.get("{x-request-id}o"),
            "method": method,
            "path": path,
            "status": status,
            "bytes": atoms["B"],
            "duration_ms": round(atoms["D"] / 1000, 3),
            "remote_addr": atoms["h"],
            "user_agent": atoms["a"],
        }
        self.access_log.info("%s", orjson.dumps(line).decode())
