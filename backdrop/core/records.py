"""Record validation and preparation (SPEC 3): raw JSON in, the stored form out.

This is the ingest hot path, so the work per record is kept small: compiled
regexes, ``datetime.fromisoformat``, one cached jsonschema validator per
schema and period keys memoised per hour. Every error of every record is
collected so a client can fix a whole batch in one go.
"""

from __future__ import annotations

import base64
import re
import uuid
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import jsonschema
import orjson

from backdrop.core.data_sets import DataSetConfig
from backdrop.core.periods import period_keys
from backdrop.errors import InvalidRecords

KEY_PATTERN = re.compile(r"^[a-z_][a-z0-9_]+$", re.IGNORECASE)
_WHITESPACE = re.compile(r"\s")
WRITABLE_INTERNAL = frozenset(("_id", "_timestamp", "_start_at", "_end_at"))
TIME_KEYS = ("_timestamp", "_start_at", "_end_at")
_SCALARS = (str, int, float, bool, type(None))


def parse_time(value: str) -> datetime:
    """An ISO 8601 string as an aware UTC datetime; no offset means UTC.

    Raises ValueError for anything that is not a real date and time.
    """
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


@lru_cache(maxsize=4096)
def _periods_of_hour(hour: datetime) -> dict[str, datetime]:
    """Period keys depend only on the hour, and batches repeat hours a lot."""
    return period_keys(hour)


def keys_for(timestamp: datetime) -> dict[str, datetime]:
    return _periods_of_hour(timestamp.replace(minute=0, second=0, microsecond=0))


@lru_cache(maxsize=128)
def _validator(schema_json: bytes) -> jsonschema.protocols.Validator:
    schema = orjson.loads(schema_json)
    return jsonschema.validators.validator_for(schema)(schema)


def schema_validator(schema: dict | None) -> jsonschema.protocols.Validator | None:
    """The compiled validator for a data set's schema, cached by its content
    (configs are re-read per request, so the dict itself is new each time)."""
    if not schema:
        return None
    return _validator(orjson.dumps(schema, option=orjson.OPT_SORT_KEYS))


def auto_id(record: dict[str, Any], fields: list[str]) -> str:
    """URL-safe base64 of the named values joined by '.', as Backdrop always did."""
    joined = ".".join(str(record[field]) for field in fields)
    return base64.urlsafe_b64encode(joined.encode()).decode()


def prepare_record(
    record: Any,
    validator: jsonschema.protocols.Validator | None,
    auto_ids: list[str] | None,
    now: datetime,
) -> tuple[dict[str, Any], list[str]]:
    """One raw record's stored form and everything wrong with it, in SPEC 3
    wording. The stored form is only meaningful when there are no problems."""
    if not isinstance(record, dict):
        return {}, ["a record must be a JSON object"]
    problems = []
    stored = dict(record)
    for key, value in record.items():
        if not KEY_PATTERN.match(key):
            problems.append(f"{key} is not a valid key")
        elif key[0] == "_" and key not in WRITABLE_INTERNAL:
            problems.append(f"{key} is not a recognised internal field")
        elif not isinstance(value, _SCALARS):
            problems.append(f"{key} has an invalid value")
        elif key == "_id":
            if not isinstance(value, str) or not value or _WHITESPACE.search(value):
                problems.append("_id must be a non-empty string without whitespace")
        elif key in TIME_KEYS:
            if not isinstance(value, str):
                problems.append(f"the {key} must be a date in the format yyyy-MM-ddT00:00:00Z")
                continue
            try:
                stored[key] = parse_time(value)
            except ValueError:
                problems.append(f"{value} in the {key} field is not a valid date")
    if auto_ids:
        missing = [field for field in auto_ids if field not in record]
        if missing:
            problems.append(f"The following required id fields are missing: {', '.join(missing)}")
        else:
            stored["_id"] = auto_id(record, auto_ids)
    if validator is not None:
        for error in sorted(validator.iter_errors(record), key=lambda e: list(e.path)):
            problems.append(error.message)
    if problems:
        return stored, problems
    timestamp = stored.get("_timestamp")
    if timestamp is not None:
        stored.update(keys_for(timestamp))
    if "_id" not in stored:
        stored["_id"] = uuid.uuid4().hex
    stored["_updated_at"] = now
    return stored, problems


def prepare_records(raw: Any, config: DataSetConfig, now: datetime) -> list[dict[str, Any]]:
    """Validate a request body (one object or a list of them) and return the
    records in the stored form of ``backdrop.core.storage.base``.

    Raises InvalidRecords listing every problem of every record, each naming
    the record by its index in the batch; then nothing may be stored.
    """
    records = raw if isinstance(raw, list) else [raw]
    validator = schema_validator(config.schema)
    auto_ids = config.auto_ids
    now = now.astimezone(UTC)
    prepared = []
    messages = []
    for index, record in enumerate(records):
        stored, problems = prepare_record(record, validator, auto_ids, now)
        if problems:
            messages.extend(f"record {index}: {problem}" for problem in problems)
        else:
            prepared.append(stored)
    if messages:
        raise InvalidRecords(messages)
    return prepared
