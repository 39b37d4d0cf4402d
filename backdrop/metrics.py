"""Every Prometheus metric Backdrop exports, declared in one place (SPEC 14).

Adding one is one line here, then one call where the thing happens:

    EXPORTS = counter("backdrop_exports_total", "Bulk exports, by format", "format")
    EXPORTS.labels(format="csv").inc()

Labels must stay few: route templates, methods, outcomes, never paths,
record ids or data-set names. Under gunicorn, prometheus-client's
multiprocess mode is on (``PROMETHEUS_MULTIPROC_DIR``, set up by
``backdrop/gunicorn_conf.py`` before any worker starts): each worker writes
its samples to files there and ``exposition`` sums them, so a scrape shows
the whole server whichever worker answers it.
"""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
    start_http_server,
    values,
)

# Seconds, from a cached read to a slow aggregate over millions of records.
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


def counter(name: str, documentation: str, *labels: str) -> Counter:
    return Counter(name, documentation, labels)


def histogram(name: str, documentation: str, *labels: str) -> Histogram:
    return Histogram(name, documentation, labels, buckets=DURATION_BUCKETS)


HTTP_REQUESTS = counter(
    "backdrop_http_requests_total",
    "HTTP requests answered, by app, route template, method and status",
    "app",
    "route",
    "method",
    "status",
)
HTTP_DURATION = histogram(
    "backdrop_http_request_duration_seconds",
    "Time to answer an HTTP request, by app, route template and method",
    "app",
    "route",
    "method",
)
RECORDS_WRITTEN = counter(
    "backdrop_records_written_total",
    "Records stored, by operation (write, patch, transform, upload)",
    "operation",
)
QUERY_DURATION = histogram(
    "backdrop_query_duration_seconds",
    "Time to run a read query in the database, by shape (raw, grouped, period, grouped_period)",
    "shape",
)
UPLOADS = counter("backdrop_uploads_total", "File uploads, by outcome (ok, invalid)", "outcome")
TRANSFORM_RUNS = counter(
    "backdrop_transform_runs_total",
    "Transform runs, by type and outcome (ok, error)",
    "type",
    "outcome",
)
SOURCE_RUNS = counter("backdrop_source_runs_total", "Source pulls, by outcome", "outcome")
RESULT_CACHE_HITS = counter("backdrop_result_cache_hits_total", "Read answers sent from the cache")
RESULT_CACHE_MISSES = counter(
    "backdrop_result_cache_misses_total", "Read answers looked up in the cache and not found"
)
RESULT_CACHE_BYTES = Gauge(
    "backdrop_result_cache_bytes",
    "Bytes of read answers the cache holds, summed over live processes",
    multiprocess_mode="livesum",
)
DATABASE_ERRORS = counter(
    "backdrop_database_errors_total",
    "Database operations that failed because the database was unreachable or too slow, by engine",
    "engine",
)


def multiprocess_mode() -> bool:
    """Whether prometheus-client was imported with PROMETHEUS_MULTIPROC_DIR set."""
    return values.ValueClass is not values.MutexValue


def _registry() -> CollectorRegistry:
    """Under multiprocess mode, a registry that sums every process's files."""
    if not multiprocess_mode():
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return registry


def exposition() -> tuple[bytes, str]:
    """The current samples in Prometheus text format, and its content type."""
    return generate_latest(_registry()), CONTENT_TYPE_LATEST


def serve(port: int) -> None:
    """Serve ``/metrics`` on ``port`` from a thread (for processes that are not
    web apps, such as the Celery worker)."""
    start_http_server(port, registry=_registry())
