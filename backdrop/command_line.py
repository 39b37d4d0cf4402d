"""Plumbing shared by the ``backdrop`` command groups: settings and a lazily
opened engine per command (named on stderr), backdrop errors as one readable
CLI error line each, JSON output."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import click

from backdrop.core import rollup_builds
from backdrop.core.data_sets import Registry
from backdrop.core.storage import open_engine
from backdrop.core.storage.base import StorageEngine
from backdrop.errors import BackdropError
from backdrop.settings import Settings, SettingsError
from backdrop.transformers.rollup_tasks import Enqueue

T = TypeVar("T")
SQLITE_PREFIX = "sqlite:///"


def settings() -> Settings:
    """The environment's settings, or a readable error for a bad BACKDROP_* value."""
    try:
        return Settings.from_env()
    except SettingsError as error:
        raise click.ClickException(str(error)) from None


def quiet_logging() -> None:
    """The CLI reports each failure itself, once; library warnings (a pool
    retrying PostgreSQL, say) would repeat it. Called by the console script
    only, so tests that invoke the commands keep their own logging."""
    handler = logging.StreamHandler()
    handler.setLevel(logging.CRITICAL)
    logging.getLogger().addHandler(handler)
    logging.getLogger().setLevel(logging.CRITICAL)


def verbose_logging() -> None:
    """``backdrop --verbose``: log lines at BACKDROP_LOG_LEVEL on stderr."""
    for handler in logging.getLogger().handlers:
        handler.setLevel(logging.NOTSET)
    logging.getLogger().setLevel(settings().log_level)
    if not logging.getLogger().handlers:
        logging.getLogger().addHandler(logging.StreamHandler())


def sqlite_file(url: str) -> Path | None:
    """The absolute path of a SQLite URL's file, or None for other engines."""
    if not url.startswith(SQLITE_PREFIX) or len(url) == len(SQLITE_PREFIX):
        return None
    return Path(url[len(SQLITE_PREFIX) :].split("?", 1)[0]).absolute()


def describe_database(url: str) -> str:
    """The database as a person needs to see it: a SQLite file's absolute
    path, any other URL without its password."""
    path = sqlite_file(url)
    if path is not None:
        return f"SQLite file {path}"
    parts = urlsplit(url)
    if parts.password is not None:
        parts = parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@"))
    return urlunsplit(parts)


class EngineContext:
    """Opens the engine on first use, says on stderr which database it is,
    and closes it when the command ends."""

    def __init__(self) -> None:
        self._engine: StorageEngine | None = None
        self.database = ""

    def open(self, read_only: bool) -> StorageEngine:
        if self._engine is None:
            url = settings().database_url
            self.database = describe_database(url)
            path = sqlite_file(url)
            if read_only and path is not None and not path.exists():
                raise click.ClickException(
                    f"no database at {path} (BACKDROP_DATABASE_URL={url}, relative to "
                    f"{Path.cwd()}); run from the project directory or point "
                    "BACKDROP_DATABASE_URL at the file, e.g. sqlite:////absolute/path/backdrop.db"
                )
            click.echo(f"database: {self.database}", err=True)
            self._engine = run(open_engine, url)
        return self._engine

    def close(self) -> None:
        if self._engine is not None:
            self._engine.close()

    @classmethod
    def attach(cls, ctx: click.Context) -> None:
        """Give a command group's commands one engine, closed when they end."""
        context = cls()
        ctx.obj = context
        ctx.call_on_close(context.close)


def _context() -> EngineContext:
    context = click.get_current_context().find_object(EngineContext)
    assert context is not None, "EngineContext.attach was not called"
    return context


def engine(read_only: bool = False) -> StorageEngine:
    """The current command's engine; ``read_only`` commands never create a
    SQLite file that is not there."""
    return _context().open(read_only)


def database() -> str:
    """The current command's database, as ``describe_database`` puts it."""
    return _context().database


class BuildHere:
    """Rollup builds of a command (no broker): now, before the command ends,
    saying so on stderr, since a big data set takes a while."""

    def __init__(self, store: StorageEngine):
        self.store = store

    def start(self, data_set: str) -> None:
        click.echo(f"building the rollup of {data_set}…", err=True)
        try:
            built = rollup_builds.build(self.store, data_set)
        except Exception as error:
            rollup_builds.log_failure(data_set, error)
            click.echo(f"could not build the rollup of {data_set}: {error}", err=True)
            return
        click.echo(f"built the rollup of {data_set} in {built.seconds:.2f} s", err=True)


def registry(read_only: bool = False) -> Registry:
    """The registry of the command's database. A rollup that a change sets is
    built by the worker when a broker is configured, else by the command."""
    store = engine(read_only)
    broker_url = settings().broker_url
    return Registry(store, Enqueue(broker_url) if broker_url else BuildHere(store))


def existing(name: str, read_only: bool = False) -> Registry:
    """The registry, once it is known to hold a data set called ``name``."""
    found = registry(read_only)
    if run(found.find_by_name, name) is None:
        raise click.ClickException(
            f"no data set named {name!r} in {database()}; "
            "'backdrop data-sets list' shows the ones there"
        )
    return found


def run(action: Callable[..., T], *args: Any) -> T:
    """Call ``action``, turning backdrop and settings errors into CLI errors."""
    try:
        return action(*args)
    except BackdropError as error:
        raise click.ClickException(error.describe()) from None
    except SettingsError as error:
        raise click.ClickException(str(error)) from None


def echo_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, sort_keys=True, default=str))
