"""The services an app runs on, kept in ``app.extensions["backdrop"]``.

Built once per app by ``init_app``; engines connect lazily, per process, so
gunicorn can fork workers after the app is created.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app

from backdrop.core.data_sets import Registry
from backdrop.core.storage import open_engine
from backdrop.core.storage.base import StorageEngine
from backdrop.settings import Settings
from backdrop.transformers.dispatch import Dispatcher, make_dispatcher


@dataclass
class Services:
    settings: Settings
    engine: StorageEngine
    registry: Registry
    dispatcher: Dispatcher


def init_app(app: Flask, settings: Settings) -> Services:
    engine = open_engine(settings.database_url)
    services = Services(
        settings=settings,
        engine=engine,
        registry=Registry(engine),
        dispatcher=make_dispatcher(settings, engine),
    )
    app.extensions["backdrop"] = services
    return services


def services() -> Services:
    """The current app's services (inside a request or app context)."""
    return current_app.extensions["backdrop"]
