"""One process's connection to MongoDB, shared by the record and document stores."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

import pymongo
from pymongo.client_session import ClientSession
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import OperationFailure
from pymongo.write_concern import WriteConcern

DEFAULT_DATABASE = "backdrop"
# How long a request waits for an unreachable server before its 503; the URL's
# own ?serverSelectionTimeoutMS= wins.
SERVER_SELECTION_TIMEOUT_MS = 3000
# A write returns once a majority has it in the journal: "durably stored" (SPEC 4).
DURABLE = WriteConcern(w="majority", j=True)

T = TypeVar("T")


class Connection:
    """The client of this process (opened lazily, again after a fork) and what
    it learnt about the server."""

    def __init__(self, url: str, client: Any = None):
        self.url = url
        self.database_name = unquote(urlsplit(url).path.lstrip("/")) or DEFAULT_DATABASE
        self._given_client = client
        # mongomock (or any client that is not pymongo's) lacks sessions,
        # ``hello``, ``$bsonSize`` and ``bulk_write``: the stores write around that.
        self.stand_in = client is not None and not isinstance(client, pymongo.MongoClient)
        self._client: Any = client
        self._pid = os.getpid()
        self.prepared: set[str] = set()
        self.transactions: bool | None = None

    def client(self) -> Any:
        """pymongo clients do not survive a fork, so a forked worker opens its
        own (lazily, without touching the parent's)."""
        if self._given_client is None and (self._client is None or self._pid != os.getpid()):
            options: dict[str, Any] = {"tz_aware": True, "connect": False}
            if "serverselectiontimeoutms" not in urlsplit(self.url).query.lower():
                options["serverSelectionTimeoutMS"] = SERVER_SELECTION_TIMEOUT_MS
            self._client = pymongo.MongoClient(self.url, **options)
            self._pid = os.getpid()
            self.prepared = set()
            self.transactions = None
        return self._client

    def database(self) -> Database:
        return self.client().get_database(self.database_name, write_concern=DURABLE)

    def collection(self, name: str) -> Collection:
        return self.database()[name]

    def close(self) -> None:
        if self._given_client is None and self._client is not None:
            if self._pid == os.getpid():
                self._client.close()
            self._client = None
        self.prepared = set()
        self.transactions = None

    def supports_transactions(self) -> bool:
        """Replica sets and mongos run multi-document transactions; standalone
        servers (and mongomock) do not."""
        if self.transactions is None:
            if self.stand_in:
                self.transactions = False
            else:
                hello = self.server_status()
                self.transactions = bool(hello.get("setName")) or hello.get("msg") == "isdbgrid"
        return self.transactions

    def server_status(self) -> dict[str, Any]:
        """The ``hello`` reply; servers before 4.4.2 only know it as ``isMaster``."""
        database = self.database()
        try:
            return database.command("hello")
        except OperationFailure:
            return database.command("isMaster")

    def write(self, callback: Callable[[ClientSession | None], T]) -> T:
        """Run ``callback`` in one transaction where the server has them."""
        if not self.supports_transactions():
            return callback(None)
        with self.client().start_session() as session:
            return session.with_transaction(callback, write_concern=DURABLE)
