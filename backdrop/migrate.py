"""``backdrop migrate``: prepare the database named by BACKDROP_DATABASE_URL for
this version, ahead of the apps (which then never build schema on a read)."""

from __future__ import annotations

import click

from backdrop.command_line import EngineContext, database, engine, run
from backdrop.core.data_sets import Registry


@click.command(short_help="Build missing collections, indexes and capping counters.")
@click.option(
    "--drop-leftovers",
    is_flag=True,
    help="Also drop MongoDB collections that belong to no data set.",
)
@click.pass_context
def migrate(ctx: click.Context, drop_leftovers: bool) -> None:
    """Prepare the database for this version of Backdrop; safe to run again.

    On MongoDB: create each data set's collection and indexes where missing,
    count the bytes of capped data sets (trimming any over its cap) so that no
    write has to scan a collection, and list the collections that belong to
    no data set. SQLite and PostgreSQL build their schema when they connect:
    for them this only checks that the database answers.
    """
    EngineContext.attach(ctx)
    store = engine()
    from backdrop.core.storage.mongodb import MongoEngine  # pymongo only when needed

    if not isinstance(store, MongoEngine):
        run(store.ping)
        click.echo(f"{database()}: schema up to date, nothing to migrate")
        return
    configs = run(Registry(store).list)
    click.echo(f"{len(configs)} data sets")
    data_sets = [(config.name, config.capped_size) for config in configs]
    leftovers = run(lambda: store.migrate(data_sets, click.echo, drop_leftovers=drop_leftovers))
    verb = "dropped" if drop_leftovers else "left in place"
    click.echo(f"done: {len(configs)} data sets, {len(leftovers)} leftover collections {verb}")
