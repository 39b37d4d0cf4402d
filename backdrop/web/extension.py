"""The services an app runs on, kept in ``app.extensions["backdrop"]``.

Built once per app by ``init_app``; engines connect lazily, per process, so
gunicorn can fork workers after the app is created.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, current_app

from backdrop.core.data_sets import Registry
from backdrop.core.dispatch import Dispatcher
from backdrop.core.rollup_builds import Builds
from backdrop.core.storage import open_engine
from backdrop.core.storage.base import StorageEngine
from backdrop.settings import Settings

DispatcherFactory = Callable[[Settings, StorageEngine], Dispatcher]
BuildsFactory = Callable[[Settings, StorageEngine], Builds]


@dataclass
class Services:
    settings: Settings
    engine: StorageEngine
    registry: Registry
    _dispatcher: Dispatcher | None = None

    @property
    def dispatcher(self) -> Dispatcher:
        """The after-write hook; only apps that write have one (the read app
        builds none, so it never imports Celery)."""
        if self._dispatcher is None:
            raise RuntimeError("this app was built without a transform dispatcher")
        return self._dispatcher


def init_app(
    app: Flask,
    settings: Settings,
    dispatcher_factory: DispatcherFactory | None = None,
    builds_factory: BuildsFactory | None = None,
) -> Services:
    """``builds_factory``: how the apps that change configs build rollups
    (without one, at once, in the request that changed it)."""
    engine = open_engine(settings.database_url, settings.database_timeout)
    services = Services(
        settings=settings,
        engine=engine,
        registry=Registry(engine, builds_factory(settings, engine) if builds_factory else None),
        _dispatcher=dispatcher_factory(settings, engine) if dispatcher_factory else None,
    )
    app.extensions["backdrop"] = services
    return services


def services() -> Services:
    """The current app's services (inside a request or app context)."""
    return current_app.extensions["backdrop"]
