"""``backdrop rollups status|build``: the rollups of data sets, working directly
on BACKDROP_DATABASE_URL like ``data-sets``. ``build`` builds in this process,
so it works without a broker (and is what a failed background build says to
run)."""

from __future__ import annotations

from typing import Any

import click

from backdrop.command_line import EngineContext, echo_json, engine, existing, registry, run
from backdrop.core import rollup_builds
from backdrop.core.data_sets import DataSetConfig
from backdrop.core.query import Where
from backdrop.core.storage.base import StorageEngine


@click.group()
@click.pass_context
def rollups(ctx: click.Context) -> None:
    """See and build the rollups that data sets' dimensions and measures declare."""
    EngineContext.attach(ctx)


def status_of(store: StorageEngine, config: DataSetConfig) -> dict[str, Any]:
    """What ``status`` prints for one data set: the declared spec, the
    engine's state, and (built) the records the rollup counts, read from its
    one total row."""
    state = store.records.state(config.name)
    spec = config.rollup
    if spec is None and state.rollup is None:
        condition = "none"
    elif state.rollup != spec:
        condition = "not set: run backdrop rollups build " + config.name
    else:
        condition = "built" if state.ready else "building"
    shown: dict[str, Any] = {
        "data_set": config.name,
        "version": state.version,
        "rollup": None if spec is None else spec.document(),
        "state": condition,
    }
    if condition == "built":
        total = store.records.rollup_rows(config.name, 0, Where(), (), None)
        shown["records"] = sum(row["_count"] or 0 for row in total)
    return shown


@rollups.command("status", short_help="Show the rollup of a data set, or of all.")
@click.argument("name", required=False)
def status(name: str | None) -> None:
    """Show the rollup of NAME (or of every data set) as JSON: groups,
    measures, grain, state (none, building, built), version, records counted."""
    store = engine(read_only=True)
    if name is not None:
        configs = [run(existing(name, read_only=True).get, name)]
    else:
        configs = run(registry(read_only=True).list)
    shown = [run(status_of, store, config) for config in configs]
    echo_json(shown[0] if name is not None else shown)


@rollups.command("build", short_help="Build the rollup of a data set now.")
@click.argument("name")
def build(name: str) -> None:
    """Build the rollup of NAME now, in this process (queries use the records
    meanwhile; writers of NAME wait for the build's transaction)."""
    config = run(existing(name).get, name)
    if config.rollup is None:
        raise click.ClickException(
            f"{name} declares no dimensions or measures; set them first, e.g. "
            f"backdrop data-sets update {name} 'dimensions=[\"channel\"]' 'measures=[\"count\"]'"
        )
    store = engine()
    if run(store.records.state, name).rollup != config.rollup:
        run(store.records.set_rollup, name, config.rollup)
    click.echo(f"building the rollup of {name}…", err=True)
    built = run(rollup_builds.build, store, name)
    version = run(store.records.state, name).version
    click.echo(f"built the rollup of {name} in {built.seconds:.2f} s (version {version})")
