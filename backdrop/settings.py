"""All configuration, read from BACKDROP_* environment variables in one place.

No other module reads ``os.environ``: apps, the worker and the CLI build a
``Settings`` once (or receive one from a test) and pass it down.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

MIB = 1024 * 1024


def _optional(value: str) -> str | None:
    return value or None


def _positive_int(value: str) -> int:
    number = int(value)
    if number <= 0:
        raise ValueError("must be a positive integer")
    return number


def _non_negative_int(value: str) -> int:
    if not value.isdigit():
        raise ValueError("must be 0 or a positive integer")
    return int(value)


def _fraction(value: str) -> float:
    number = float(value)
    if not 0 < number <= 1:
        raise ValueError("must be a number above 0 and at most 1")
    return number


def _boolean(value: str) -> bool:
    if value.lower() not in ("true", "false", "1", "0", ""):
        raise ValueError("must be 'true' or 'false'")
    return value.lower() in ("true", "1")


def _positive_seconds(value: str) -> float:
    number = float(value)
    if not number > 0:
        raise ValueError("must be a positive number of seconds")
    return number


def _optional_port(value: str) -> int | None:
    if not value:
        return None
    port = int(value)
    if not 0 < port < 65536:
        raise ValueError("must be a port number, 1 to 65535")
    return port


def _log_format(value: str) -> str:
    if value not in ("text", "json"):
        raise ValueError("must be 'text' or 'json'")
    return value


@dataclass(frozen=True)
class Setting:
    """One documented setting: its variable, default and how to read it."""

    field: str
    variable: str
    default: Any
    coerce: Callable[[str], Any]
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "database_url",
        "BACKDROP_DATABASE_URL",
        "sqlite:///var/backdrop.db",
        str,
        "Storage engine, chosen by scheme: sqlite:///path, mongodb://host:port/db "
        "(or mongodb+srv://), postgresql://…",
    ),
    Setting(
        "broker_url",
        "BACKDROP_BROKER_URL",
        None,
        _optional,
        "Celery broker (amqp://… or redis://…). Unset: transforms run in-process "
        "right after the write commits.",
    ),
    Setting(
        "admin_token",
        "BACKDROP_ADMIN_TOKEN",
        None,
        _optional,
        "Bearer token for the admin API. Unset: the admin API answers 403.",
    ),
    Setting(
        "max_body_bytes",
        "BACKDROP_MAX_BODY_BYTES",
        10 * MIB,
        _positive_int,
        "Largest request body accepted, also after gzip decompression.",
    ),
    Setting(
        "max_batch_records",
        "BACKDROP_MAX_BATCH_RECORDS",
        100_000,
        _positive_int,
        "Most records one write request may carry; past it the write answers 413.",
    ),
    Setting(
        "max_raw_records",
        "BACKDROP_MAX_RAW_RECORDS",
        10_000_000,
        _positive_int,
        "Most records one raw (ungrouped) read may return (it is streamed, so memory stays "
        "bounded whatever its size); past it the read answers 400 pointing to limit and the "
        "export route.",
    ),
    Setting(
        "result_cache_bytes",
        "BACKDROP_RESULT_CACHE_BYTES",
        64 * MIB,
        _non_negative_int,
        "Bytes of read answers each read-app process keeps, to send again until the data "
        "set's next write (an answer over an eighth of it is not kept). 0: no cache.",
    ),
    Setting(
        "database_timeout",
        "BACKDROP_DATABASE_TIMEOUT",
        10.0,
        _positive_seconds,
        "Seconds a request waits on the database (a query, a lock) before it answers 503.",
    ),
    Setting(
        "admin_url",
        "BACKDROP_ADMIN_URL",
        None,
        _optional,
        "Address of the admin UI, linked from the read and write apps' index (GET /). "
        "Unset: port 3040 on the host the request was sent to.",
    ),
    # Dashboards (SPEC 11): storage limits and eviction
    Setting(
        "dashboard_max_bytes",
        "BACKDROP_DASHBOARD_MAX_BYTES",
        MIB,
        _positive_int,
        "Largest dashboard, as compact JSON; a bigger one is refused (413).",
    ),
    Setting(
        "dashboard_quota_bytes",
        "BACKDROP_DASHBOARD_QUOTA_BYTES",
        1024 * MIB,
        _positive_int,
        "Bytes all dashboards may use together.",
    ),
    Setting(
        "dashboard_eviction_threshold",
        "BACKDROP_DASHBOARD_EVICTION_THRESHOLD",
        0.95,
        _fraction,
        "A write taking usage past this fraction of the quota evicts the least recently "
        "used dashboards that are neither whitelisted nor protected.",
    ),
    Setting(
        "dashboard_target_utilization",
        "BACKDROP_DASHBOARD_TARGET_UTILIZATION",
        0.60,
        _fraction,
        "Eviction stops once usage is at most this fraction of the quota.",
    ),
    # Sources (SPEC 12)
    Setting(
        "sources_allow_private",
        "BACKDROP_SOURCES_ALLOW_PRIVATE",
        False,
        _boolean,
        "true: sources may fetch from private, loopback and link-local addresses.",
    ),
    Setting(
        "sources_max_bytes",
        "BACKDROP_SOURCES_MAX_BYTES",
        50 * MIB,
        _positive_int,
        "Largest file a source may fetch.",
    ),
    Setting(
        "sources_timeout_seconds",
        "BACKDROP_SOURCES_TIMEOUT_SECONDS",
        30,
        _positive_int,
        "Connect and read timeout of each source fetch.",
    ),
    Setting(
        "sources_tick_seconds",
        "BACKDROP_SOURCES_TICK_SECONDS",
        30,
        _positive_int,
        "How often beat asks the worker to start the sources that are due.",
    ),
    Setting(
        "sources_queue",
        "BACKDROP_SOURCES_QUEUE",
        "celery",
        str,
        "Celery queue beat sends source pulls to (a worker must consume it).",
    ),
    # Uploads (SPEC 8)
    Setting(
        "max_upload_bytes",
        "BACKDROP_MAX_UPLOAD_BYTES",
        50 * MIB,
        _positive_int,
        "Largest file accepted by POST /data/<group>/<type>/upload (413 past it).",
    ),
    Setting(
        "max_upload_rows",
        "BACKDROP_MAX_UPLOAD_ROWS",
        1_000_000,
        _positive_int,
        "Most data rows one uploaded file may hold (413 past it).",
    ),
    Setting(
        "max_upload_unzipped_bytes",
        "BACKDROP_MAX_UPLOAD_UNZIPPED_BYTES",
        1024 * MIB,
        _positive_int,
        "Largest total an .xlsx may unzip to (a zip bomb is a 413 before it is inflated).",
    ),
    Setting(
        "upload_batch_size",
        "BACKDROP_UPLOAD_BATCH_SIZE",
        5000,
        _positive_int,
        "Records an upload validates and stores at a time: its memory is bounded by this.",
    ),
    # --- the admin app (web UI, SPEC 10) ---
    Setting(
        "secret_key",
        "BACKDROP_SECRET_KEY",
        None,
        _optional,
        "Signs the web UI's session cookies. Unset: one key is generated on first "
        "start and kept in the database, so every worker agrees (a log line says so).",
    ),
    Setting(
        "read_url",
        "BACKDROP_READ_URL",
        None,
        _optional,
        "Public address of the read app, for the read-API URLs the web UI shows. "
        "Unset: port 3038 on the host the page was requested from.",
    ),
    Setting(
        "write_url",
        "BACKDROP_WRITE_URL",
        None,
        _optional,
        "Public address of the write app, for the curl snippets the web UI shows. "
        "Unset: port 3039 on the host the page was requested from.",
    ),
    Setting("log_level", "BACKDROP_LOG_LEVEL", "INFO", str.upper, "Logging level."),
    Setting(
        "log_format",
        "BACKDROP_LOG_FORMAT",
        "text",
        _log_format,
        "Log line format: text, or json for structured logs.",
    ),
    Setting(
        "worker_metrics_port",
        "BACKDROP_WORKER_METRICS_PORT",
        None,
        _optional_port,
        "Port on which the Celery worker serves Prometheus metrics (transform and source "
        "runs, records written). Unset: the worker serves none.",
    ),
)


class SettingsError(ValueError):
    """A BACKDROP_* variable has a value that cannot be used."""


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite:///var/backdrop.db"
    broker_url: str | None = None
    admin_token: str | None = None
    max_body_bytes: int = 10 * MIB
    max_batch_records: int = 100_000
    max_raw_records: int = 10_000_000
    result_cache_bytes: int = 64 * MIB
    database_timeout: float = 10.0
    admin_url: str | None = None
    max_upload_bytes: int = 50 * MIB
    max_upload_rows: int = 1_000_000
    max_upload_unzipped_bytes: int = 1024 * MIB
    upload_batch_size: int = 5000
    dashboard_max_bytes: int = MIB
    dashboard_quota_bytes: int = 1024 * MIB
    dashboard_eviction_threshold: float = 0.95
    dashboard_target_utilization: float = 0.60
    secret_key: str | None = None
    read_url: str | None = None
    write_url: str | None = None
    log_level: str = "INFO"
    log_format: str = "text"
    sources_allow_private: bool = False
    sources_max_bytes: int = 50 * MIB
    sources_timeout_seconds: int = 30
    sources_tick_seconds: int = 30
    sources_queue: str = "celery"
    worker_metrics_port: int | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from the environment (``os.environ`` by default)."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for setting in SETTINGS:
            raw = environ.get(setting.variable)
            if raw is None:
                continue
            try:
                values[setting.field] = setting.coerce(raw.strip())
            except ValueError as error:
                raise SettingsError(f"{setting.variable}={raw!r}: {error}") from None
        return cls(**values)
