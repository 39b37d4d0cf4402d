"""Open the storage engine named by a database URL's scheme."""

from __future__ import annotations

from urllib.parse import urlsplit

from backdrop.core.storage.base import StorageEngine
from backdrop.settings import SettingsError

ENGINES = {
    "sqlite": "backdrop.core.storage.sqlite:SQLiteEngine",
    "mongodb": "backdrop.core.storage.mongodb:MongoEngine",
    "mongodb+srv": "backdrop.core.storage.mongodb:MongoEngine",
    "postgresql": "backdrop.core.storage.postgres:PostgresEngine",
    "postgres": "backdrop.core.storage.postgres:PostgresEngine",
}


# Engines whose waits are bounded by ``timeout`` (BACKDROP_DATABASE_TIMEOUT);
# MongoDB's operations have their own limit (its URL's ?timeoutMS=, 20 s).
TIMED = ("sqlite", "postgresql", "postgres")


def open_engine(url: str, timeout: float | None = None) -> StorageEngine:
    """The engine for ``url``; it connects lazily, on first use. ``timeout``:
    seconds any one database wait may last (None: the engine's default)."""
    scheme = urlsplit(url).scheme
    if scheme not in ENGINES:
        raise SettingsError(
            f"Unsupported database URL scheme {scheme!r}: use sqlite:///path, "
            "mongodb://host:port/db or postgresql://…"
        )
    module_name, class_name = ENGINES[scheme].split(":")
    module = __import__(module_name, fromlist=[class_name])
    options = {"timeout": timeout} if timeout is not None and scheme in TIMED else {}
    engine: StorageEngine = getattr(module, class_name)(url, **options)
    return engine
