"""The audit log: one line for every change a client or operator makes.

Writes, deletions, uploads, source runs, admin and dashboard changes each call
``audit`` once, after the change has happened (a refused request changes
nothing and leaves no audit line). Lines go to the ``backdrop.audit`` logger
with ``audit: true``, the ``action`` and the event's fields, and carry the
request id like every other line, and ``actor`` (who made the change: ``admin``,
``data-set token``, ``cli``) when the caller has said; tokens never appear.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from typing import Any

log = logging.getLogger("backdrop.audit")

actor: ContextVar[str | None] = ContextVar("backdrop_actor", default=None)


def audit(action: str, message: str, /, **fields: Any) -> None:
    """Record that ``action`` (e.g. ``data_set.create``) happened; ``message``
    is the human-readable line, ``fields`` the structured ones."""
    log.info(message, extra={"audit": True, "action": action, "actor": actor.get(), **fields})
