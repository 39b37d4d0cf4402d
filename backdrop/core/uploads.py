"""File uploads (SPEC 8): a whole file validated, then stored all or nothing.

Memory holds one batch of records, never the file (which the caller can
open again: e.g. a spooled request part).

- ``check`` (a dry run) parses and validates every row, collecting the
  problems (up to ``MAX_PROBLEMS``, each naming its file row) and the
  columns' types, and stores nothing.
- ``store`` does the same while saving the batches in one transaction where
  the engine can (``BatchSaving``): a problem at any row raises at the end
  and rolls every batch back. Elsewhere it checks the whole file first, then
  stores it one transaction a batch, which validation can no longer fail.
  The transforms then run once over the upload's whole time range, and the
  upload is recorded in the data set's history (documents of kind
  ``upload``).

For the web UI as for the API: ``from_stream`` (a seekable file and the
settings' limits → ``Upload``), ``dry_run`` (SPEC 8's verify answer),
``store`` (with ``uploaded_by``: ``data-set token …`` or the UI user) and
``history``.

Rows without ``_id`` (and without ``auto_ids``) get one derived from their
row number and content (``stable_id``), so uploading the same file twice
stores it once, and ``backdrop push`` can retry a chunk without duplicates.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, BinaryIO

import orjson

from backdrop import metrics
from backdrop.audit import audit
from backdrop.core.catalog import UPLOAD
from backdrop.core.data_sets import DataSetConfig
from backdrop.core.dispatch import Dispatcher
from backdrop.core.files import ParseOptions, named_format, parse
from backdrop.core.records import new_id, prepare_record, rules_broken, schema_validator
from backdrop.core.storage.base import BatchSaving, Record, StorageEngine
from backdrop.core.upload_columns import Columns, compared, existing_fields
from backdrop.errors import BadRequest, InvalidRecords, PayloadTooLarge
from backdrop.settings import Settings

log = logging.getLogger(__name__)

KIND = UPLOAD
MAX_PROBLEMS = 100
SAMPLE_SIZE = 20


def stable_id(number: int, record: dict[str, Any]) -> str:
    """An ``_id`` from a row's number and content: the same row of the same
    file always gets the same one (22 URL-safe characters, 128 bits)."""
    digest = hashlib.sha256(b"%d:" % number)
    digest.update(orjson.dumps(record, option=orjson.OPT_SORT_KEYS))
    return base64.urlsafe_b64encode(digest.digest()[:16]).decode().rstrip("=")


@dataclass(frozen=True)
class Upload:
    """A file to upload: ``open`` gives a binary stream from its start, for
    one pass (a context manager: the caller decides what closing means)."""

    open: Callable[[], AbstractContextManager[BinaryIO]]
    filename: str | None
    options: ParseOptions
    format: str | None = None


@dataclass
class Checked:
    """What pass 1 found in a valid file."""

    records: int = 0
    columns: Columns = field(default_factory=Columns)
    sample: list[dict[str, Any]] = field(default_factory=list)
    start: datetime | None = None
    end: datetime | None = None
    size: int = 0
    sha256: str = ""

    def widen(self, stored: Record) -> None:
        moment = stored.get("_timestamp")
        if moment is not None:
            self.start = moment if self.start is None else min(self.start, moment)
            self.end = moment if self.end is None else max(self.end, moment)


def from_stream(
    stream: BinaryIO,
    filename: str | None,
    config: DataSetConfig,
    settings: Settings,
    *,
    sheet: str | None = None,
    format: str | None = None,  # noqa: A002 -- the name callers know
) -> Upload:
    """An ``Upload`` of a seekable stream (a spooled request part, a file),
    with the data set's filters and the upload limits of ``settings``. A
    name without a known extension is held to the data set's
    ``upload_format``. The stream stays open between passes."""
    options = ParseOptions(
        sheet=sheet or None,
        filters=tuple(config.upload_filters),
        max_rows=settings.max_upload_rows,
        max_bytes=settings.max_upload_bytes,
        max_unzipped_bytes=settings.max_upload_unzipped_bytes,
    )
    declared = format or None
    if declared is None and named_format(filename) is None:
        declared = config.upload_format

    @contextmanager
    def rewound() -> Iterator[BinaryIO]:
        stream.seek(0)
        yield stream

    return Upload(rewound, filename or None, options, declared)


def dry_run(engine: StorageEngine, config: DataSetConfig, upload: Upload) -> dict[str, Any]:
    """SPEC 8's dry-run answer: records, columns, sample, new and missing columns."""
    checked = check(config, upload)
    return {
        "status": "ok",
        "records": checked.records,
        "columns": checked.columns.described(),
        "sample": checked.sample,
        **compared(checked.columns, existing_fields(engine, config.name)),
    }


def _digest(stream: BinaryIO) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    while chunk := stream.read(1 << 20):
        digest.update(chunk)
        size += len(chunk)
    return size, digest.hexdigest()


def _prepared(
    upload: Upload, config: DataSetConfig, now: datetime, problems: list[str]
) -> Iterator[tuple[dict[str, Any], Record]]:
    """Every valid row as (raw record, stored form); the problems of the
    others go to ``problems``, up to ``MAX_PROBLEMS``, and reading goes on."""
    validator = schema_validator(config.schema)
    with upload.open() as stream:
        for number, raw in parse(stream, upload.filename, upload.format, upload.options):
            if "_id" not in raw and not config.auto_ids:
                raw["_id"] = stable_id(number, raw)
            stored, found = prepare_record(raw, validator, config.auto_ids, now)
            if not found:
                yield raw, stored
                continue
            problems.extend(f"row {number}: {problem}" for problem in found)
            if len(problems) >= MAX_PROBLEMS:
                return


def _now(now: datetime | None) -> datetime:
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def _scan(
    config: DataSetConfig, upload: Upload, now: datetime, checked: Checked
) -> Iterator[Record]:
    """The file's records in stored form, counted into ``checked``; raises
    ``InvalidRecords`` at the end if any row was wrong (yielding stops at
    the first wrong row, so nothing after it is handed on)."""
    with upload.open() as stream:
        checked.size, checked.sha256 = _digest(stream)
    problems: list[str] = []
    for raw, stored in _prepared(upload, config, now, problems):
        if problems:
            continue  # only looking for more problems now
        checked.records += 1
        checked.columns.add(raw)
        checked.widen(stored)
        if len(checked.sample) < SAMPLE_SIZE:
            checked.sample.append(raw)
        yield stored
    if problems:
        shown = problems[:MAX_PROBLEMS]
        if len(problems) >= MAX_PROBLEMS:
            shown.append(f"(stopped after {MAX_PROBLEMS} problems; fix these and upload again)")
        raise InvalidRecords(shown, rules_broken(shown))


def check(config: DataSetConfig, upload: Upload, now: datetime | None = None) -> Checked:
    """Parse and validate the whole file, storing nothing (a dry run)."""
    checked = Checked()
    for _stored in _scan(config, upload, _now(now), checked):
        pass
    return checked


def _batches(records: Iterator[Record], size: int) -> Iterator[list[Record]]:
    batch: list[Record] = []
    for record in records:
        batch.append(record)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _save(
    engine: StorageEngine, config: DataSetConfig, upload: Upload, now: datetime, size: int
) -> tuple[Checked, int]:
    """One pass inside one transaction where the engine can (a problem found
    at any row rolls every batch back); else check first, then store."""
    checked = Checked()
    store = engine.records
    if isinstance(store, BatchSaving):
        batches = _batches(_scan(config, upload, now, checked), size)
        return checked, store.save_batches(config.name, batches, config.capped_size)
    for _stored in _scan(config, upload, now, checked):
        pass
    stored = 0
    for batch in _batches(_scan(config, upload, now, Checked()), size):
        store.save(config.name, batch, config.capped_size)
        stored += len(batch)
    return checked, stored


def _history_entry(
    config: DataSetConfig, upload: Upload, checked: Checked, stored: int, by: str, now: datetime
) -> dict[str, Any]:
    return {
        "data_set": config.name,
        "uploaded_at": now.isoformat().replace("+00:00", "Z"),
        "filename": upload.filename,
        "sheet": upload.options.sheet,
        "bytes": checked.size,
        "sha256": checked.sha256,
        "records": stored,
        "uploaded_by": by,
        "start_at": checked.start.isoformat() if checked.start else None,
        "end_at": checked.end.isoformat() if checked.end else None,
    }


def store(
    engine: StorageEngine,
    dispatcher: Dispatcher,
    config: DataSetConfig,
    upload: Upload,
    *,
    uploaded_by: str,
    batch_size: int,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Check, then store the whole file; returns its history entry."""
    moment = _now(now)
    try:
        checked, stored = _save(engine, config, upload, moment, batch_size)
    except (BadRequest, PayloadTooLarge):
        metrics.UPLOADS.labels("invalid").inc()
        raise
    entry = _history_entry(config, upload, checked, stored, uploaded_by, moment)
    engine.documents.put(KIND, new_id(), entry)
    metrics.UPLOADS.labels("ok").inc()
    metrics.RECORDS_WRITTEN.labels("upload").inc(stored)
    audit(
        "records.upload",
        f"upload {config.name}: {stored} record(s) from {upload.filename or 'a file'}",
        data_set=config.name,
        records=stored,
        file_name=upload.filename,
        sha256=checked.sha256,
        start=entry["start_at"],
        end=entry["end_at"],
    )
    if checked.start is not None and checked.end is not None:
        try:
            dispatcher.dispatch(config.name, checked.start, checked.end)
        except Exception:
            log.exception("Transform dispatch failed for %s after an upload", config.name)
    return entry


def history(engine: StorageEngine, config: DataSetConfig) -> list[dict[str, Any]]:
    """The data set's uploads, newest first."""
    documents = engine.documents.list(KIND, {"data_set": config.name})
    return [document.body for document in reversed(documents)]
