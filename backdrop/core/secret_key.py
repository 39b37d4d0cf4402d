"""The key that signs web UI sessions when ``BACKDROP_SECRET_KEY`` is unset.

It is generated once and kept in the document store (kind ``setting``), so
every worker and every restart of the admin app agree on it: sessions survive
a restart, and a user is not signed out when the next request reaches
another worker. Of two workers creating it at once, the first put wins and
the other reads that one.
"""

from __future__ import annotations

import logging
import secrets

from backdrop.core.storage.base import StorageEngine
from backdrop.errors import VersionConflict

log = logging.getLogger(__name__)

KIND = "setting"
ID = "web_ui_secret_key"


def load_or_create(engine: StorageEngine) -> str:
    """The stored key, creating it on first use."""
    document = engine.documents.get(KIND, ID)
    if document is None:
        value = secrets.token_urlsafe(48)
        try:
            engine.documents.put(KIND, ID, {"value": value}, expected_version=0)
        except VersionConflict:
            document = engine.documents.get(KIND, ID)
        else:
            log.warning(
                "BACKDROP_SECRET_KEY is not set: generated a web UI session key and kept it "
                "in the database; set BACKDROP_SECRET_KEY to choose your own"
            )
            return value
    assert document is not None
    key: str = document.body["value"]
    return key
