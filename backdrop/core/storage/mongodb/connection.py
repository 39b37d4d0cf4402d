"""One process's connection to MongoDB, shared by the record and document stores."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar
from urllib.parse import parse_qsl, unquote, urlsplit

import pymongo
from pymongo import ReadPreference
from pymongo.client_session import ClientSession
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import CollectionInvalid, OperationFailure
from pymongo.read_concern import ReadConcern
from pymongo.write_concern import WriteConcern

from backdrop.core.storage.mongodb.failures import UnsupportedServer

DEFAULT_DATABASE = "backdrop"
# How long a request waits for an unreachable server before its 503; the URL's
# own ?serverSelectionTimeoutMS= wins.
SERVER_SELECTION_TIMEOUT_MS = 3000
# Every operation (retries and transaction retries included) ends within this
# many seconds, well inside gunicorn's 30 s worker timeout; the URL's own
# ?timeoutMS= wins (0: no limit).
OPERATION_TIMEOUT_S = 20.0
# A write returns once a majority has it in the journal: "durably stored" (SPEC 4).
# pymongo sends maxTimeMS instead of wtimeout while a time limit is in force;
# wtimeout bounds the wait for replicas when the URL turns the limit off.
DURABLE = WriteConcern(w="majority", j=True, wtimeout=15_000)
NAMESPACE_EXISTS = 48
MIN_WIRE_VERSION = 9  # MongoDB 4.4: $isNumber, $bsonSize, find with allowDiskUse

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
        options = {key.lower() for key, _ in parse_qsl(urlsplit(url).query)}
        self.timeout = None if "timeoutms" in options else OPERATION_TIMEOUT_S

    @contextmanager
    def limit(self) -> Iterator[None]:
        """The time limit of one store operation (pymongo's client-side timeout).

        Under a time limit pymongo waits the whole limit for a server, ignoring
        serverSelectionTimeoutMS; so when no server is known (at start, in an
        outage) a ping first finds one within that shorter wait."""
        if self.stand_in:
            yield
            return
        if self.timeout is None:
            self.supports_transactions()
            yield
            return
        client = self.client()
        if not client.topology_description.has_readable_server(ReadPreference.NEAREST):
            with pymongo.timeout(client.options.server_selection_timeout):
                client.admin.command("ping", read_preference=ReadPreference.NEAREST)
        with pymongo.timeout(self.timeout):
            self.supports_transactions()  # learnt once per process: refuses old servers
            yield

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

    def database(self) -> Database[Any]:
        database: Database[Any] = self.client().get_database(
            self.database_name, write_concern=DURABLE
        )
        return database

    def collection(self, name: str) -> Collection[Any]:
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
                if hello.get("maxWireVersion", 0) < MIN_WIRE_VERSION:
                    raise UnsupportedServer()
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
        """Run ``callback`` in one transaction where the server has them: on the
        primary whatever the URL's readPreference (a transaction can only read
        there), reading one snapshot. pymongo retries transient failures only
        until the operation's time limit."""
        if not self.supports_transactions():
            return callback(None)
        with self.client().start_session() as session:
            result: T = session.with_transaction(
                callback,
                read_concern=ReadConcern("snapshot"),
                write_concern=DURABLE,
                read_preference=ReadPreference.PRIMARY,
            )
            return result


def create_collection(database: Database[Any], name: str) -> bool:
    """Create the collection; False if it exists (written to again since the drop)."""
    try:
        database.create_collection(name)
    except CollectionInvalid:
        return False
    except OperationFailure as error:  # exists since create_collection's own check
        if error.code != NAMESPACE_EXISTS:
            raise
        return False
    return True
