"""``backdrop sources list|add|remove|run|history`` (SPEC 12), working directly
on BACKDROP_DATABASE_URL like ``data-sets``. ``run`` pulls in this process,
so plain cron works without a broker."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import click

from backdrop.command_line import EngineContext, echo_json, engine, existing, run, settings
from backdrop.core.sources import manage
from backdrop.core.sources.fetch import Limits
from backdrop.core.sources.run import run_source
from backdrop.core.sources.store import AlreadyRunning, Sources
from backdrop.errors import BackdropError
from backdrop.transformers.dispatch import make_dispatcher


@click.group()
@click.pass_context
def sources(ctx: click.Context) -> None:
    """List, add, remove and run the HTTP sources of data sets."""
    EngineContext.attach(ctx)


@sources.command("list")
@click.argument("data_set", required=False)
def list_command(data_set: str | None) -> None:
    """Show the sources (of DATA_SET, or all) as JSON, with their last run."""
    store = Sources(engine(read_only=True))
    if data_set:
        existing(data_set, read_only=True)
        echo_json(run(manage.list_for, engine(read_only=True), data_set))
    else:
        echo_json([run(store.summary, source) for source in run(store.list)])


@sources.command("add", short_help="Add a source to a data set.")
@click.argument("data_set")
@click.argument("source")
def add_command(data_set: str, source: str) -> None:
    """Add SOURCE to DATA_SET: a JSON object such as {"url": …, "format":
    "csv", "schedule": "0 2 * * *"}."""
    try:
        body = json.loads(source)
    except json.JSONDecodeError as error:
        raise click.BadParameter(f"not JSON: {error}", param_hint="SOURCE") from None
    existing(data_set)
    echo_json(run(manage.add, engine(), data_set, body).body())


@sources.command("remove")
@click.argument("source_id")
def remove_command(source_id: str) -> None:
    """Remove source SOURCE_ID and its run history."""
    source = run(Sources(engine()).get, source_id)
    run(manage.remove, engine(), source.data_set, source_id)
    click.echo(f"removed source {source_id} of {source.data_set}")


def _line(outcome: dict[str, Any]) -> str:
    detail = outcome["error"] or f"{outcome['records']} record(s), {outcome['bytes']} bytes"
    return f"source {outcome['source']} of {outcome['data_set']}: {outcome['status']} ({detail})"


@sources.command("run", short_help="Pull sources now, in this process.")
@click.argument("name", required=False)
@click.option("--all", "run_all", is_flag=True, help="Run every source of every data set.")
def run_command(name: str | None, run_all: bool) -> None:
    """Run the sources of data set NAME (or the one source with id NAME), or --all."""
    if bool(name) == run_all:
        raise click.UsageError("give a data set name or a source id, or --all")
    store = Sources(engine())
    if run_all:
        chosen = run(store.list)
    elif run(engine().documents.get, "source", name or "") is not None:
        chosen = [run(store.get, name or "")]
    else:
        existing(name or "")
        chosen = run(store.list, name)
    if not chosen:
        click.echo(f"no sources for {name or 'any data set'}", err=True)
    dispatcher = make_dispatcher(settings(), engine())
    failed = False
    for source in chosen:
        try:
            outcome = run_source(
                engine(), source.id, Limits.from_settings(settings()), os.environ, dispatcher
            )
        except AlreadyRunning as error:
            click.echo(f"source {source.id}: skipped, {error.message}", err=True)
            continue
        except BackdropError as error:
            raise click.ClickException(error.describe()) from None
        if outcome is None:
            continue
        failed = failed or outcome["status"] == "failed"
        click.echo(_line(outcome), err=outcome["status"] == "failed")
    if failed:
        sys.exit(1)


@sources.command("history")
@click.argument("source_id")
@click.option("--limit", default=20, show_default=True, help="How many runs, newest first.")
def history_command(source_id: str, limit: int) -> None:
    """Show the runs of source SOURCE_ID as JSON, newest first."""
    store = Sources(engine(read_only=True))
    run(store.get, source_id)
    echo_json(run(store.history, source_id, limit))
