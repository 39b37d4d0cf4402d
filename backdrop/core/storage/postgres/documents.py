"""The document store: every document in the ``documents`` table.

Each put is one statement, so versioning needs no explicit lock: a create-only
put is ``INSERT … ON CONFLICT DO NOTHING`` and a put expecting version n is
``UPDATE … WHERE version = n``; of two such puts the second waits for the
first's row and then matches nothing, which is its ``VersionConflict``.
List filters compare JSONB values, so ``true``, ``1`` and ``"1"`` stay apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC
from typing import Any, LiteralString

from psycopg import sql
from psycopg.types.json import Jsonb

from backdrop.core import messages
from backdrop.core.storage.base import Document, FilterValue, JSONObject
from backdrop.core.storage.postgres import nul
from backdrop.core.storage.postgres.connection import Connections
from backdrop.errors import BadRequest, VersionConflict

_PUTS: dict[str, LiteralString] = {
    "upsert": "INSERT INTO documents (kind, id, version, updated_at, body) "
    "VALUES (%(kind)s, %(id)s, 1, now(), %(body)s) ON CONFLICT (kind, id) DO UPDATE "
    "SET version = documents.version + 1, updated_at = EXCLUDED.updated_at, "
    "body = EXCLUDED.body RETURNING kind, id, version, body, updated_at",
    "create": "INSERT INTO documents (kind, id, version, updated_at, body) "
    "VALUES (%(kind)s, %(id)s, 1, now(), %(body)s) ON CONFLICT (kind, id) DO NOTHING "
    "RETURNING kind, id, version, body, updated_at",
    "replace": "UPDATE documents SET version = version + 1, updated_at = now(), "
    "body = %(body)s WHERE kind = %(kind)s AND id = %(id)s AND version = %(version)s "
    "RETURNING kind, id, version, body, updated_at",
}


def _document(row: tuple[Any, ...]) -> Document:
    kind, id, version, body, updated_at = row
    return Document(kind, id, version, body, updated_at.astimezone(UTC))


def _check_storable(kind: str, id: str, body: JSONObject) -> None:
    problem = next(
        (name for name, text in (("kind", kind), ("id", id)) if not nul.storable(text)), None
    )
    problem = problem or nul.unstorable_path(body)
    if problem is not None:
        raise BadRequest(messages.unstorable(kind.replace("\x00", ""), problem, nul.REASON))


class PostgresDocuments:
    """``DocumentStore`` over PostgreSQL (see ``storage.base`` for the contract)."""

    def __init__(self, connections: Connections):
        self._connections = connections

    def get(self, kind: str, id: str) -> Document | None:
        if not nul.storable(kind, id):
            return None
        with self._connections.connection() as conn:
            row = conn.execute(
                "SELECT kind, id, version, body, updated_at FROM documents "
                "WHERE kind = %s AND id = %s",
                (kind, id),
            ).fetchone()
        return _document(row) if row else None

    def list(self, kind: str, filters: Mapping[str, FilterValue] | None = None) -> list[Document]:
        filters = filters or {}
        texts = [kind, *filters, *(v for v in filters.values() if isinstance(v, str))]
        if not nul.storable(*texts):
            return []
        conditions = [sql.SQL("kind = %s")]
        params: list[Any] = [kind]
        for key, value in filters.items():
            conditions.append(sql.SQL("body -> %s::text = %s::jsonb"))
            params.extend((key, Jsonb(value)))
        statement = sql.SQL(
            "SELECT kind, id, version, body, updated_at FROM documents WHERE {} ORDER BY id"
        ).format(sql.SQL(" AND ").join(conditions))
        with self._connections.connection() as conn:
            rows = conn.execute(statement, params).fetchall()
        return [_document(row) for row in rows]

    def put(
        self, kind: str, id: str, body: JSONObject, expected_version: int | None = None
    ) -> Document:
        _check_storable(kind, id, body)
        if expected_version is None:
            statement = _PUTS["upsert"]
        else:
            statement = _PUTS["create" if expected_version == 0 else "replace"]
        params = {"kind": kind, "id": id, "body": Jsonb(body), "version": expected_version}
        with self._connections.connection() as conn:
            row = conn.execute(statement, params).fetchone()
        if row is None:
            raise VersionConflict()
        return _document(row)

    def delete(self, kind: str, id: str, expected_version: int | None = None) -> bool:
        if not nul.storable(kind, id):
            return False
        with self._connections.connection() as conn:
            row = conn.execute(
                "SELECT version FROM documents WHERE kind = %s AND id = %s FOR UPDATE",
                (kind, id),
            ).fetchone()
            if row is None:
                return False
            if expected_version is not None and row[0] != expected_version:
                raise VersionConflict()
            conn.execute("DELETE FROM documents WHERE kind = %s AND id = %s", (kind, id))
        return True
