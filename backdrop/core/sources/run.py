"""One run of a source: fetch, skip if unchanged, parse, map, validate, store.

Every run is recorded (start, end, status, HTTP status, bytes, records,
error) whatever happens; a failed run stores nothing. Statuses: ``ok``,
``unchanged`` (the server said 304, or the file's SHA-256 is the one last
stored) and ``failed``. Records go through the upload path of SPEC 8: the
parsers of ``backdrop.core.files`` and the validation of a JSON write, all or
nothing; ``replace`` swaps the data set's records in one transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import IO, Any

import orjson

from backdrop import metrics
from backdrop.audit import audit
from backdrop.core.data_sets import DataSetConfig, Registry
from backdrop.core.dispatch import Dispatcher
from backdrop.core.files import ParseOptions, parse
from backdrop.core.records import prepare_records
from backdrop.core.sources.config import ENV_VALUE, SourceConfig
from backdrop.core.sources.fetch import Address, Fetched, FetchFailed, Limits, fetch
from backdrop.core.sources.store import Sources, new_id, now
from backdrop.core.storage.base import JSONObject, Record, StorageEngine
from backdrop.core.uploads import stable_id
from backdrop.core.writes import time_range
from backdrop.errors import BackdropError

log = logging.getLogger(__name__)


class RunFailed(Exception):
    """The run stops here: nothing is stored; the message goes in its record."""

    def __init__(self, message: str, http_status: int | None = None):
        super().__init__(message)
        self.http_status = http_status


def request_headers(source: SourceConfig, environ: Mapping[str, str]) -> dict[str, str]:
    """The configured headers with ``env:VAR`` values read now (never stored)."""
    resolved = {}
    for name, value in source.headers.items():
        match = ENV_VALUE.fullmatch(value)
        if match is None:
            resolved[name] = value
        elif match[1] in environ:
            resolved[name] = environ[match[1]]
        else:
            raise RunFailed(f"header {name}: the environment variable {match[1]} is not set")
    return resolved


def _pointer(document: Any, path: str) -> Any:
    """RFC 6901: ``/a/0/b`` with ``~1`` for ``/`` and ``~0`` for ``~``."""
    for token in path.split("/")[1:]:
        token = token.replace("~1", "/").replace("~0", "~")
        if isinstance(document, dict) and token in document:
            document = document[token]
        elif (
            isinstance(document, list)
            and token.isascii()
            and token.isdigit()
            and int(token) < len(document)
        ):
            document = document[int(token)]
        else:
            raise RunFailed(f"records_path {path}: the document has nothing at {token!r}")
    return document


def rows(source: SourceConfig, body: IO[bytes], max_bytes: int) -> Iterator[tuple[int, Record]]:
    """The file's records, in file order, with their row numbers."""
    if source.format == "json" and source.records_path:
        try:
            found = _pointer(orjson.loads(body.read()), source.records_path)
        except orjson.JSONDecodeError as error:
            raise RunFailed(f"the file is not valid JSON: {error}") from None
        if not isinstance(found, list) or not all(isinstance(r, dict) for r in found):
            raise RunFailed(f"records_path {source.records_path} is not an array of objects")
        yield from enumerate(found, 1)
        return
    options = ParseOptions(max_bytes=max_bytes)
    for row in parse(body, format=source.format, options=options):  # type: ignore[arg-type]
        yield row.number, row.record


def mapped(source: SourceConfig, record: dict[str, Any]) -> dict[str, Any]:
    rename, drop = source.mapping.get("rename", {}), set(source.mapping.get("drop", []))
    return {rename.get(key, key): value for key, value in record.items() if key not in drop}


def _store(
    engine: StorageEngine,
    source: SourceConfig,
    config: DataSetConfig,
    fetched: Fetched,
    limits: Limits,
    dispatcher: Dispatcher | None,
) -> int:
    assert fetched.body is not None
    try:
        raw = []
        for number, record in rows(source, fetched.body, limits.max_bytes):
            row = mapped(source, record)
            if "_id" not in row and not config.auto_ids:
                row["_id"] = stable_id(number, row)  # as uploads: the same row, the same _id
            raw.append(row)
        records = prepare_records(raw, config, now())
    except BackdropError as error:
        raise RunFailed(error.describe(), fetched.http_status) from None
    if not records and source.mode == "replace":
        raise RunFailed("the file has no records; replace keeps the stored ones", 200)
    if records or source.mode == "replace":
        engine.records.save(
            config.name, records, config.capped_size, replace=source.mode == "replace"
        )
    metrics.RECORDS_WRITTEN.labels("source").inc(len(records))
    span = time_range(records)
    if dispatcher is not None and span is not None:
        try:
            dispatcher.dispatch(config.name, span[0], span[1])
        except Exception:
            log.exception("transform dispatch after source %s failed", source.id)
    return len(records)


def _attempt(
    engine: StorageEngine,
    source: SourceConfig,
    state: JSONObject,
    run: JSONObject,
    limits: Limits,
    environ: Mapping[str, str],
    dispatcher: Dispatcher | None,
    allowed: Callable[[Address], bool] | None,
) -> None:
    config = Registry(engine).find_by_name(source.data_set)
    if config is None:
        raise RunFailed(f"the data set {source.data_set} no longer exists")
    headers = request_headers(source, environ)
    if state.get("etag"):
        headers["If-None-Match"] = state["etag"]
    if state.get("last_modified"):
        headers["If-Modified-Since"] = state["last_modified"]
    try:
        fetched = fetch(source.url, headers, limits, allowed)
    except FetchFailed as error:
        raise RunFailed(str(error), error.http_status) from None
    run.update(http_status=fetched.http_status, bytes=fetched.size)
    try:
        if fetched.not_modified or fetched.sha256 == state.get("sha256"):
            run["status"] = "unchanged"
            return
        run["records"] = _store(engine, source, config, fetched, limits, dispatcher)
        run["status"] = "ok"
        state.update(etag=fetched.etag, last_modified=fetched.last_modified, sha256=fetched.sha256)
    finally:
        if fetched.body is not None:
            fetched.body.close()


def run_source(
    engine: StorageEngine,
    source_id: str,
    limits: Limits,
    environ: Mapping[str, str],
    dispatcher: Dispatcher | None = None,
    allowed: Callable[[Address], bool] | None = None,
    if_due_at: datetime | None = None,
) -> JSONObject | None:
    """Run one source under its lock (``AlreadyRunning`` if held); the run's
    record. With ``if_due_at``, only if the source is still due then, judged
    under the lock (so a tick that saw it due before another run finished
    does not run it again): None when it is not."""
    sources = Sources(engine)
    source = sources.get(source_id)
    version = sources.lock(source_id)
    try:
        state = sources.state(source_id)
        if if_due_at is not None and not sources.is_due(source, if_due_at):
            return None
        run: JSONObject = dict(
            id=new_id(), source=source_id, data_set=source.data_set, started_at=now().isoformat()
        )
        run.update(status="failed", http_status=None, bytes=0, records=0, error=None)
        try:
            _attempt(engine, source, state, run, limits, environ, dispatcher, allowed)
        except RunFailed as error:
            run.update(error=str(error), http_status=error.http_status or run["http_status"])
        run["finished_at"] = now().isoformat()
        state.update({key: run[key] for key in ("started_at", "finished_at", "status", "error")})
        sources.set_state(source_id, state)
        sources.record_run(run)
    finally:
        sources.unlock(source_id, version)
    metrics.SOURCE_RUNS.labels(run["status"]).inc()
    audit("source.run", f"source {source_id} of {source.data_set}: {run['status']}", **run)
    return run
