"""MongoDB engine (pymongo): production at scale, replica sets and sharded clusters.

Layout: the records of data set ``X`` live in collection ``X``
(``records.py``); every document of the document store lives in
``_backdrop_documents`` (``documents.py``), which no data-set name can clash
with (names never start with ``_``). Both share one ``Connection``.

``mongomock`` stands in for a server in tests. It lacks sessions, ``hello``,
``$bsonSize`` and (with pymongo >= 4.9) ``bulk_write``, so with a mongomock
client the engine writes record by record and sizes records client-side.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from pymongo.errors import ConfigurationError, ConnectionFailure, PyMongoError

from backdrop.core.storage.mongodb.connection import Connection
from backdrop.core.storage.mongodb.documents import MongoDocuments
from backdrop.core.storage.mongodb.failures import available
from backdrop.core.storage.mongodb.migrate import migrate
from backdrop.core.storage.mongodb.records import MongoRecords
from backdrop.errors import StorageUnavailable

__all__ = ["MongoEngine"]


class MongoEngine:
    """The StorageEngine over MongoDB; see ``backdrop.core.storage.base``."""

    scheme = "mongodb"

    def __init__(self, url: str, client: Any = None):
        self.connection = Connection(url, client)
        self.records = MongoRecords(self.connection)
        self.documents = MongoDocuments(self.connection)

    @property
    def url(self) -> str:
        return self.connection.url

    @property
    def database_name(self) -> str:
        return self.connection.database_name

    @available
    def ping(self) -> None:
        try:
            self.connection.database().command("ping")
        except (ConnectionFailure, ConfigurationError):
            raise
        except PyMongoError as error:  # e.g. authentication failed: a 503 that says why
            raise StorageUnavailable(
                f"The database is unavailable (MongoDB: {type(error).__name__}), please retry later"
            ) from error

    def close(self) -> None:
        self.connection.close()

    def migrate(
        self,
        data_sets: Sequence[tuple[str, int | None]],
        report: Callable[[str], None],
        *,
        drop_leftovers: bool = False,
    ) -> list[str]:
        """``backdrop migrate``: see ``backdrop.core.storage.mongodb.migrate``."""
        return migrate(self.connection, data_sets, report, drop_leftovers=drop_leftovers)
