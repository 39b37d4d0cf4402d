"""Running a transform: read the source, derive records, upsert the output.

A run reads the source data set with the transform's query (``flatten``
forced on) over the triggering range widened to whole periods, hands the
rows to the registered function, and saves the results into the output
data set under ids derived from the source, transform type, period, group
values and ``additionalFields``; so a re-run over the same range replaces
its earlier records instead of adding copies.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import orjson

from backdrop import metrics
from backdrop.core import reading
from backdrop.core.catalog import Catalog
from backdrop.core.data_sets import DataSetConfig, Registry
from backdrop.core.periods import Period
from backdrop.core.records import prepare_records
from backdrop.core.storage.base import StorageEngine
from backdrop.errors import Conflict
from backdrop.transformers import registry, source
from backdrop.transformers.config import output_name

log = logging.getLogger(__name__)

# Settings an output data set inherits from its source when it is created.
INHERITED = (
    "raw_queries_allowed",
    "queryable",
    "published",
    "realtime",
    "max_age_expected",
    "capped_size",
)


@dataclass(frozen=True)
class Run:
    """What one transform run did (for logs and the CLI)."""

    data_set: str
    transform_id: str
    output: str | None
    start: datetime | None
    end: datetime | None
    records: int
    error: str | None = None


def widen(
    period: Period | None, start: datetime | None, end: datetime | None, now: datetime
) -> tuple[datetime | None, datetime | None]:
    """The triggering range as whole periods: from the start of ``start``'s
    period to the end of ``end``'s, but never past the start of the current
    period while it is unfinished. Queries without a period read everything,
    since their groups total the whole data set."""
    if period is None or start is None or end is None:
        return None, None
    first = period.start(start)
    last = period.end(end)
    if last > now:
        last = period.start(now)
    return first, last


def output_id(source_name: str, transform: dict[str, Any], group_by, record) -> str:
    """A stable ``_id`` for an output record (sha256 of its identifying values)."""
    parts = [
        source_name,
        transform["type"],
        record.get("_start_at"),
        [record.get(field) for field in group_by],
        sorted((transform.get("options") or {}).get("additionalFields", {}).items()),
    ]
    return hashlib.sha256(orjson.dumps(parts, default=str)).hexdigest()


def _as_written(value: Any) -> Any:
    """Datetimes as the ISO text a client would write."""
    return value.isoformat() if isinstance(value, datetime) else value


def output_records(
    source_name: str, transform: dict[str, Any], group_by: tuple[str, ...], records: list[dict]
) -> list[dict[str, Any]]:
    """The function's records as a write body: ``_timestamp`` from the period
    start, ``additionalFields`` merged, deterministic ``_id``s."""
    additional = (transform.get("options") or {}).get("additionalFields") or {}
    body = []
    for record in records:
        record = {**record, **additional}
        if "_start_at" in record:
            record.setdefault("_timestamp", record["_start_at"])
        record.setdefault("_id", output_id(source_name, transform, group_by, record))
        body.append({key: _as_written(value) for key, value in record.items()})
    return body


def output_data_set(data_sets: Registry, source: DataSetConfig, output: dict) -> DataSetConfig:
    """The output data set, created on first use with the source's settings
    and a fresh token."""
    group, kind = output["data_group"], output["data_type"]
    existing = data_sets.find(group, kind)
    if existing is not None:
        return existing
    body = {"name": output_name(output), "data_group": group, "data_type": kind}
    body.update({key: getattr(source, key) for key in INHERITED})
    try:
        config, _token = data_sets.create(body)
    except Conflict:
        # Another process created it between our lookup and create.
        existing = data_sets.find(group, kind)
        if existing is None:
            raise
        return existing
    log.info(
        "created output data set %s for transforms of %s",
        config.name,
        source.name,
        extra={"data_set": config.name},
    )
    return config


def run_transform(
    engine: StorageEngine,
    config: DataSetConfig,
    transform: dict[str, Any],
    start: datetime | None,
    end: datetime | None,
    now: datetime | None = None,
) -> Run:
    """Run one transform of ``config`` over [start, end]; raises on failure.
    Each run counts in ``backdrop_transform_runs_total`` by type and outcome."""
    try:
        run = _run_transform(engine, config, transform, start, end, now)
    except Exception:
        metrics.TRANSFORM_RUNS.labels(str(transform.get("type")), "error").inc()
        raise
    metrics.TRANSFORM_RUNS.labels(str(transform.get("type")), "ok").inc()
    metrics.RECORDS_WRITTEN.labels("transform").inc(run.records)
    return run


def _run_transform(
    engine: StorageEngine,
    config: DataSetConfig,
    transform: dict[str, Any],
    start: datetime | None,
    end: datetime | None,
    now: datetime | None,
) -> Run:
    now = now or datetime.now(UTC)
    function = registry.get(transform["type"])
    parsed = source.parse_query(transform.get("query") or {})
    first, last = widen(parsed.period, start, end, now)
    if parsed.period is not None and (first is None or last is None or first >= last):
        return Run(config.name, transform["id"], None, first, last, 0)
    query = replace(parsed, start_at=first, end_at=last)
    rows = reading.execute(engine, config.name, query, now)
    records = function(rows, transform.get("options") or {})
    out = output_data_set(Registry(engine), config, transform["output"])
    body = output_records(config.name, transform, parsed.group_by, records)
    if body:
        engine.records.save(out.name, prepare_records(body, out, now), out.capped_size)
    return Run(config.name, transform["id"], out.name, first, last, len(body))


def rerun_hint(data_set: str, start: datetime | None, end: datetime | None) -> str:
    """The command that re-runs a data set's transforms over a range."""
    return (
        f"backdrop transforms run {data_set} --start {_as_written(start)} --end {_as_written(end)}"
    )


def describe(data_set: str, transform: dict[str, Any], start, end) -> dict[str, Any]:
    """Log fields naming a run, so a failure says what to re-run."""
    return {
        "data_set": data_set,
        "transform": transform.get("id"),
        "transform_type": transform.get("type"),
        "start": _as_written(start),
        "end": _as_written(end),
    }


class TransformsFailed(Exception):
    """One or more transforms of a data set failed; ``runs`` holds every
    outcome (the failed ones with their ``error``), so callers can report all."""

    def __init__(self, data_set: str, runs: list[Run]):
        self.data_set = data_set
        self.runs = runs
        failed = ", ".join(run.transform_id or "(loading)" for run in runs if run.error)
        super().__init__(f"transforms of {data_set} failed: {failed}")


def log_failure(
    data_set: str,
    transform: dict[str, Any] | None,
    start: datetime | None,
    end: datetime | None,
    note: str = "",
) -> None:
    """The one log line of a failed transform run (``transform`` None: the
    transforms could not even be loaded): what failed, over which range, and
    the command that re-runs it, logged with the traceback."""
    what = (
        f"transform {transform.get('id')} ({transform.get('type')}) of {data_set} failed"
        if transform
        else f"the transforms of {data_set} could not run"
    )
    log.exception(
        "%s over %s – %s%s; re-run: %s",
        what,
        _as_written(start),
        _as_written(end),
        note,
        rerun_hint(data_set, start, end),
        extra=describe(data_set, transform or {}, start, end),
    )


def run_all(
    engine: StorageEngine,
    data_set: str,
    start: datetime | None,
    end: datetime | None,
    now: datetime | None = None,
) -> list[Run]:
    """Run every transform of ``data_set``, each even when an earlier one
    failed; raise ``TransformsFailed`` at the end if any did. Loading the
    transforms or the config may raise too. Callers guard and log once."""
    transforms = Catalog(engine).list_transforms(data_set)
    if not transforms:  # the usual write: nothing to run, no config to load
        return []
    config = Registry(engine).get(data_set)
    runs = []
    for transform in transforms:
        try:
            run = run_transform(engine, config, transform, start, end, now)
        except Exception as error:
            runs.append(Run(data_set, transform["id"], None, start, end, 0, error=repr(error)))
            log_failure(data_set, transform, start, end)
            continue
        runs.append(run)
        log.info(
            "transform %s (%s) of %s wrote %d record(s) to %s over %s – %s",
            run.transform_id,
            transform.get("type"),
            data_set,
            run.records,
            run.output,
            _as_written(run.start),
            _as_written(run.end),
            extra=describe(data_set, transform, run.start, run.end),
        )
    if any(run.error for run in runs):
        raise TransformsFailed(data_set, runs)
    return runs
