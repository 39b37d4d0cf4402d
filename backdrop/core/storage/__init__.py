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


def open_engine(url: str) -> StorageEngine:
    """The engine for ``url``; it connects lazily, on first use."""
    scheme = urlsplit(url).scheme
    if scheme not in ENGINES:
        raise SettingsError(
            f"Unsupported database URL scheme {scheme!r}: use sqlite:///path, "
            "mongodb://host:port/db or postgresql://…"
        )
    module_name, class_name = ENGINES[scheme].split(":")
    module = __import__(module_name, fromlist=[class_name])
    engine: StorageEngine = getattr(module, class_name)(url)
    return engine
