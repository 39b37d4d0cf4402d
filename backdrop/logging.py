"""Text or JSON log lines, configured once per process.

Only the ``backdrop`` logger tree is configured, never the root logger, so
embedding applications and Celery keep their own handlers. Every line carries
the id of the request (or task) it belongs to: ``request_id`` is a context
variable the web layer sets per request, and the handler's filter copies it
onto each record.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from datetime import UTC, datetime

import orjson

from backdrop.settings import Settings

_RESERVED = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}

request_id: ContextVar[str | None] = ContextVar("backdrop_request_id", default=None)


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` (None outside a request) to every record it sees."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line; ``extra=`` fields become keys."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update({k: v for k, v in vars(record).items() if k not in _RESERVED})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


class TextFormatter(logging.Formatter):
    """Human-readable lines; ``extra=`` fields are appended as key=value."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        extras = {
            k: v
            for k, v in vars(record).items()
            if k not in _RESERVED and not (k == "request_id" and v is None)
        }
        if extras:
            text += " " + " ".join(f"{k}={v}" for k, v in extras.items())
        return text


def configure_logging(settings: Settings) -> None:
    logger = logging.getLogger("backdrop")
    logger.setLevel(settings.log_level)
    formatter = JsonFormatter() if settings.log_format == "json" else TextFormatter()
    for handler in logger.handlers:
        if getattr(handler, "_backdrop", False):
            handler.setFormatter(formatter)
            return
    handler = logging.StreamHandler()
    handler._backdrop = True  # type: ignore[attr-defined]
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(formatter)
    logger.addHandler(handler)
