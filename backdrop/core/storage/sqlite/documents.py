"""The document store: one ``documents`` table keyed by (kind, id).

Conditional puts run inside ``BEGIN IMMEDIATE``, so the check of the stored
version and the write are one step for every process sharing the file:
create-only is an ``INSERT`` that does nothing on a clash, a versioned put an
``UPDATE … WHERE version = ?``; an unchanged row means ``VersionConflict``.
"""

# ruff: noqa: S608 - statements are assembled from constants and placeholders
# only; every value is a bound parameter.

from __future__ import annotations

import builtins
import sqlite3
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import orjson

from backdrop.core.storage.base import Document, FilterValue, JSONObject
from backdrop.core.storage.sqlite.connection import Connections
from backdrop.core.storage.sqlite.rows import micros, moment, path
from backdrop.errors import VersionConflict

_COLUMNS = "kind, id, version, updated_at, body"

# A filter value → the json_type its field must have (so True never equals 1
# and "1" never equals 1) and the value ``->>`` gives for it.
_TYPES: dict[type, str] = {str: "text", int: "integer"}


def _document(row: tuple[Any, ...]) -> Document:
    kind, id_, version, updated_at, body = row
    return Document(kind, id_, version, orjson.loads(body), moment(updated_at))


def _encode(body: JSONObject) -> str:
    """The body as JSON text; a datetime or other non-JSON value is a TypeError."""
    return orjson.dumps(body, option=orjson.OPT_PASSTHROUGH_DATETIME).decode()


def _filter_sql(key: str, value: FilterValue, params: builtins.list[Any]) -> str:
    params.append(path(key))
    if isinstance(value, bool):
        params.append("true" if value else "false")
        return "json_type(body, ?) = ?"
    if type(value) not in _TYPES:
        raise TypeError(f"document filter {key!r}: {value!r} is not a str, int or bool")
    params.extend([_TYPES[type(value)], path(key), value])
    return "(json_type(body, ?) = ? AND body ->> ? = ?)"


class SQLiteDocuments:
    """``DocumentStore`` on one SQLite file."""

    def __init__(self, connections: Connections):
        self.connections = connections

    def get(self, kind: str, id: str) -> Document | None:
        found = self.connections.select(
            f"SELECT {_COLUMNS} FROM documents WHERE kind = ? AND id = ?", (kind, id)
        )
        return _document(found[0]) if found else None

    def list(
        self, kind: str, filters: Mapping[str, FilterValue] | None = None
    ) -> builtins.list[Document]:
        params: builtins.list[Any] = [kind]
        clauses = ["kind = ?"]
        for key, value in (filters or {}).items():
            clauses.append(_filter_sql(key, value, params))
        sql = f"SELECT {_COLUMNS} FROM documents WHERE {' AND '.join(clauses)} ORDER BY id"
        return [_document(row) for row in self.connections.select(sql, params)]

    def put(
        self, kind: str, id: str, body: JSONObject, expected_version: int | None = None
    ) -> Document:
        text = _encode(body)
        now = micros(datetime.now(UTC))
        with self.connections.transaction() as connection:
            version = _write(connection, (kind, id, text, now), expected_version)
        return Document(kind, id, version, orjson.loads(text), moment(now))

    def delete(self, kind: str, id: str, expected_version: int | None = None) -> bool:
        address = (kind, id)
        with self.connections.transaction() as connection:
            if expected_version is None:
                sql = "DELETE FROM documents WHERE kind = ? AND id = ?"
                return bool(connection.execute(sql, address).rowcount)
            sql = "DELETE FROM documents WHERE kind = ? AND id = ? AND version = ?"
            if connection.execute(sql, (*address, expected_version)).rowcount:
                return True
            exists = "SELECT 1 FROM documents WHERE kind = ? AND id = ?"
            if connection.execute(exists, address).fetchone():
                raise VersionConflict()
            return False


def _write(
    connection: sqlite3.Connection,
    values: tuple[str, str, str, int],
    expected_version: int | None,
) -> int:
    """Store one document inside the caller's transaction; its new version."""
    kind, id_, text, now = values
    if expected_version is None:
        row = connection.execute(
            f"INSERT INTO documents ({_COLUMNS}) VALUES (?, ?, 1, ?, ?) "
            "ON CONFLICT (kind, id) DO UPDATE SET version = version + 1, "
            "updated_at = excluded.updated_at, body = excluded.body RETURNING version",
            (kind, id_, now, text),
        ).fetchone()
        return int(row[0])
    if expected_version == 0:
        changed = connection.execute(
            f"INSERT INTO documents ({_COLUMNS}) VALUES (?, ?, 1, ?, ?) "
            "ON CONFLICT (kind, id) DO NOTHING",
            (kind, id_, now, text),
        ).rowcount
    else:
        changed = connection.execute(
            "UPDATE documents SET version = version + 1, updated_at = ?, body = ? "
            "WHERE kind = ? AND id = ? AND version = ?",
            (now, text, kind, id_, expected_version),
        ).rowcount
    if not changed:
        raise VersionConflict()
    return expected_version + 1
