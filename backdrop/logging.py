"""Text or JSON log lines, configured once per process.

Only the ``backdrop`` logger tree is configured, never the root logger, so
embedding applications and Celery keep their own handlers.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import orjson

from backdrop.settings import Settings

_RESERVED = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


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
        extras = {k: v for k, v in vars(record).items() if k not in _RESERVED}
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
    handler.setFormatter(formatter)
    logger.addHandler(handler)
