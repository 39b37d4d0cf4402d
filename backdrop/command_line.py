"""Plumbing shared by the ``backdrop`` command groups: settings and a lazily
opened engine per command, backdrop errors as readable CLI errors, JSON output."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

import click

from backdrop.core.storage import open_engine
from backdrop.core.storage.base import StorageEngine
from backdrop.errors import BackdropError
from backdrop.settings import Settings, SettingsError

T = TypeVar("T")


def settings() -> Settings:
    """The environment's settings, or a readable error for a bad BACKDROP_* value."""
    try:
        return Settings.from_env()
    except SettingsError as error:
        raise click.ClickException(str(error)) from None


class EngineContext:
    """Opens the engine on first use and closes it when the command ends."""

    def __init__(self) -> None:
        self._engine: StorageEngine | None = None

    @property
    def engine(self) -> StorageEngine:
        if self._engine is None:
            self._engine = run(open_engine, settings().database_url)
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


def engine() -> StorageEngine:
    """The current command's engine."""
    context = click.get_current_context().find_object(EngineContext)
    assert context is not None, "EngineContext.attach was not called"
    return context.engine


def run(action: Callable[..., T], *args: Any) -> T:
    """Call ``action``, turning backdrop and settings errors into CLI errors."""
    try:
        return action(*args)
    except (BackdropError, SettingsError) as error:
        raise click.ClickException(getattr(error, "message", str(error))) from None


def echo_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, sort_keys=True, default=str))
