"""The admin use-cases of sources, shared by the admin API and the CLI."""

from __future__ import annotations

from typing import Any

from backdrop.audit import audit
from backdrop.core.data_sets import Registry
from backdrop.core.sources.config import SourceConfig, from_request
from backdrop.core.sources.store import Sources, new_id, now
from backdrop.core.storage.base import StorageEngine
from backdrop.errors import NotFound


def add(engine: StorageEngine, data_set: str, body: Any) -> SourceConfig:
    """Add a source to an existing data set (404 if none); the stored config."""
    Registry(engine).get(data_set)
    config = from_request(body, data_set, new_id(), now().isoformat())
    Sources(engine).add(config)
    audit(
        "source.add",
        f"added source {config.id} to data set {data_set}",
        data_set=data_set,
        source_id=config.id,
    )
    return config


def of(engine: StorageEngine, data_set: str, source_id: str) -> SourceConfig:
    """The data set's source ``source_id``, or 404."""
    source = Sources(engine).get(source_id)
    if source.data_set != data_set:
        raise NotFound(f"No source with id {source_id!r} for data set {data_set}")
    return source


def list_for(engine: StorageEngine, data_set: str) -> list[dict[str, Any]]:
    Registry(engine).get(data_set)
    sources = Sources(engine)
    return [sources.summary(source) for source in sources.list(data_set)]


def remove(engine: StorageEngine, data_set: str, source_id: str) -> None:
    of(engine, data_set, source_id)
    Sources(engine).remove(source_id)
    audit(
        "source.remove",
        f"removed source {source_id} of data set {data_set}",
        data_set=data_set,
        source_id=source_id,
    )


def failing(engine: StorageEngine) -> list[dict[str, Any]]:
    """Sources whose last run failed, for ``/_status/sources``."""
    sources, failed = Sources(engine), []
    states = sources.states()
    for source in sources.list():
        state = states.get(source.id, {})
        if state.get("status") == "failed":
            failed.append(
                {"id": source.id, "data_set": source.data_set, "url": source.url,
                 "last_run": state.get("started_at"), "error": state.get("error")}
            )  # fmt: skip
    return failed
