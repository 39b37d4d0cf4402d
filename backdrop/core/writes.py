"""Write use-cases (SPEC 4): save a batch, patch, delete, empty, trigger.

No Flask here: the write app and the CLI call these with a data set's config,
the engine and the dispatcher. Every write is logged as one audit line (data
set, record count, time range; never a token), every dispatch as one line.
Transforms are dispatched only after the engine has committed, and a dispatch
failure is logged and swallowed so that a committed write never turns into an
error response.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from backdrop import metrics
from backdrop.audit import audit
from backdrop.core.data_sets import DataSetConfig
from backdrop.core.dispatch import Dispatcher
from backdrop.core.records import id_problems, parse_time, prepare_records
from backdrop.core.storage.base import StorageEngine
from backdrop.errors import BadRequest, InvalidRecords, NotFound, PayloadTooLarge

log = logging.getLogger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


def time_range(records: list[dict[str, Any]]) -> tuple[datetime, datetime] | None:
    """Earliest and latest ``_timestamp`` of prepared records, or None if none has one."""
    stamps = [r["_timestamp"] for r in records if r.get("_timestamp") is not None]
    if not stamps:
        return None
    return min(stamps), max(stamps)


def _audit(
    action: str, config: DataSetConfig, count: int, span: tuple[datetime, datetime] | None
) -> None:
    audit(
        f"records.{action}",
        f"{action} {config.name}: {count} record(s)",
        data_set=config.name,
        records=count,
        start=span[0].isoformat() if span else None,
        end=span[1].isoformat() if span else None,
    )


def _dispatch(
    dispatcher: Dispatcher, config: DataSetConfig, span: tuple[datetime, datetime] | None
) -> None:
    """Hand the written range to the transforms; never let it fail the write."""
    if span is None:
        return
    log.info(
        "dispatch the transforms of %s over %s – %s",
        config.name,
        span[0].isoformat(),
        span[1].isoformat(),
        extra={"data_set": config.name},
    )
    try:
        dispatcher.dispatch(config.name, span[0], span[1])
    except Exception:
        log.exception(
            "Transform dispatch failed for %s; re-run it over %s – %s",
            config.name,
            span[0].isoformat(),
            span[1].isoformat(),
            extra={"data_set": config.name},
        )


def save(
    engine: StorageEngine,
    dispatcher: Dispatcher,
    config: DataSetConfig,
    body: Any,
    now: datetime | None = None,
    max_records: int | None = None,
) -> int:
    """Validate and store a batch (all or nothing); returns the record count.
    A batch of more than ``max_records`` is refused before any validation."""
    if max_records is not None and isinstance(body, list) and len(body) > max_records:
        raise PayloadTooLarge(
            f"The batch has {len(body)} records; the limit is {max_records} records "
            "per request (BACKDROP_MAX_BATCH_RECORDS): send it in smaller batches"
        )
    records = prepare_records(body, config, now or _now())
    if not records:
        return 0
    engine.records.save(config.name, records, config.capped_size)
    metrics.RECORDS_WRITTEN.labels("write").inc(len(records))
    span = time_range(records)
    _audit("write", config, len(records), span)
    _dispatch(dispatcher, config, span)
    return len(records)


def _as_raw(record: dict[str, Any]) -> dict[str, Any]:
    """A stored record back in the form a client writes (for re-validation)."""
    raw = {k: v for k, v in record.items() if k != "_updated_at"}
    for key in ("_timestamp", "_start_at", "_end_at"):
        if isinstance(raw.get(key), datetime):
            raw[key] = raw[key].isoformat()
    return raw


def _record(engine: StorageEngine, config: DataSetConfig, record_id: str) -> dict[str, Any]:
    if problems := id_problems(record_id):
        raise BadRequest(problems[0])
    record = engine.records.get(config.name, record_id)
    if record is None:
        raise NotFound(f"No record with _id '{record_id}' in data set '{config.name}'")
    return record


def patch(
    engine: StorageEngine,
    dispatcher: Dispatcher,
    config: DataSetConfig,
    record_id: str,
    changes: Any,
    now: datetime | None = None,
) -> None:
    """Merge ``changes`` into one record, re-validate it and store it under the same _id."""
    if not isinstance(changes, dict):
        raise BadRequest("Expected a JSON object of fields to change")
    if "_id" in changes and changes["_id"] != record_id:
        raise BadRequest("The _id of a record cannot be changed")
    current = _record(engine, config, record_id)
    merged = {**_as_raw(current), **changes}
    try:
        (record,) = prepare_records(merged, config, now or _now())
    except InvalidRecords as error:
        messages = [m.removeprefix("record 0: ") for m in error.messages]
        raise InvalidRecords(messages, error.detail) from None
    record["_id"] = record_id  # auto_ids must not move a patched record
    engine.records.save(config.name, [record], config.capped_size)
    metrics.RECORDS_WRITTEN.labels("patch").inc()
    span = time_range([current, record])
    _audit("patch", config, 1, span)
    _dispatch(dispatcher, config, span)


def delete(
    engine: StorageEngine, dispatcher: Dispatcher, config: DataSetConfig, record_id: str
) -> None:
    """Delete one record; its time range is re-derived by the transforms."""
    current = _record(engine, config, record_id)
    if not engine.records.delete(config.name, record_id):
        raise NotFound(f"No record with _id '{record_id}' in data set '{config.name}'")
    span = time_range([current])
    _audit("delete", config, 1, span)
    _dispatch(dispatcher, config, span)


def empty(engine: StorageEngine, config: DataSetConfig) -> None:
    engine.records.empty(config.name)
    _audit("empty", config, 0, None)


def trigger(dispatcher: Dispatcher, config: DataSetConfig, body: Any) -> None:
    """Run the data set's transforms over ``_start_at`` – ``_end_at`` (default now)."""
    if not isinstance(body, dict) or body.get("_start_at") is None:
        raise BadRequest("You must specify a _start_at timestamp")
    bounds = []
    for key in ("_start_at", "_end_at"):
        value = body.get(key)
        if value is None:
            bounds.append(_now())
            continue
        try:
            bounds.append(parse_time(value))
        except (TypeError, ValueError):
            raise BadRequest(f"{value} in the {key} field is not a valid date") from None
    start, end = bounds
    if end < start:
        raise BadRequest("_end_at must not be before _start_at")
    audit(
        "transforms.trigger",
        f"transform {config.name} over {start.isoformat()} – {end.isoformat()}",
        data_set=config.name,
        start=start.isoformat(),
        end=end.isoformat(),
    )
    _dispatch(dispatcher, config, (start, end))
