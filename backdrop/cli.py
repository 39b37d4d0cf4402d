"""The ``backdrop`` command: serve the apps, manage data sets on the database.

Data-set commands work directly on the database named by
BACKDROP_DATABASE_URL (no running app needed), through the same registry as
the admin API, so the same rules and messages apply.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from dataclasses import fields
from typing import Any

import click

from backdrop import __version__, audit
from backdrop.client_cli import push, query
from backdrop.command_line import (
    EngineContext,
    database,
    echo_json,
    engine,
    existing,
    quiet_logging,
    registry,
    run,
    settings,
    verbose_logging,
)
from backdrop.core.data_sets import DataSetConfig, Registry
from backdrop.dashboards_cli import dashboards
from backdrop.errors import BackdropError
from backdrop.migrate import migrate
from backdrop.rollups_cli import rollups
from backdrop.transformers.cli import transforms
from backdrop.transformers.sources_cli import sources

PORTS = {"read": 3038, "write": 3039, "admin": 3040}


@click.group()
@click.version_option(__version__, prog_name="backdrop")
@click.option("--verbose", is_flag=True, help="Show log lines too, at BACKDROP_LOG_LEVEL.")
def main(verbose: bool) -> None:
    """Backdrop: a data store for performance data.

    Commands that use the database work directly on BACKDROP_DATABASE_URL
    (default sqlite:///var/backdrop.db, relative to the current directory)
    and name it on stderr.
    """
    audit.actor.set("cli")  # audit lines of changes made here name the command line
    if verbose:
        verbose_logging()


def entry_point() -> None:
    """The ``backdrop`` console script and ``python -m backdrop``."""
    quiet_logging()
    main()


@main.command()
@click.argument("app", type=click.Choice(list(PORTS)))
@click.option(
    "--port", type=int, help="Port to listen on.  [default: read 3038, write 3039, admin 3040]"
)
@click.option("--host", default="0.0.0.0", show_default=True, help="Address to bind.")  # noqa: S104 - a server process, as the Procfile runs it
@click.option("--workers", default=2, show_default=True, help="Gunicorn worker processes.")
@click.option("--reload", is_flag=True, help="Restart the workers when the code changes.")
def serve(app: str, port: int | None, host: str, workers: int, reload: bool) -> None:
    """Run the read, write or admin app under gunicorn, with an access log.

    ./start-app.sh runs this command too, so both start the same server.
    """
    settings()  # fail here, readably, on a bad BACKDROP_* variable
    if importlib.util.find_spec(f"backdrop.{app}") is None:
        raise click.ClickException(f"the {app} app is not part of this version of Backdrop")
    argv = [
        sys.executable,
        "-m",
        "gunicorn",
        "--config",
        "python:backdrop.gunicorn_conf",
        f"backdrop.{app}:create_app()",
        "--bind",
        f"{host}:{port or PORTS[app]}",
        "--workers",
        str(workers),
        *(["--reload"] if reload else []),
    ]
    os.execv(sys.executable, argv)  # noqa: S606 - replaces this process with gunicorn


@main.group("data-sets")
@click.pass_context
def data_sets(ctx: click.Context) -> None:
    """Create, inspect, change and delete data sets."""
    EngineContext.attach(ctx)


def _json_object(text: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise click.BadParameter(f"not JSON: {error}", param_hint=what) from None
    if not isinstance(value, dict):
        raise click.BadParameter("must be a JSON object", param_hint=what)
    return value


def _assignments(pairs: tuple[str, ...]) -> dict[str, Any]:
    """KEY=VALUE arguments; VALUE is read as JSON when it parses, else as a string."""
    values = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{pair!r} is not KEY=VALUE", param_hint="FIELDS")
        try:
            values[key] = json.loads(raw)
        except json.JSONDecodeError:
            values[key] = raw
    return values


@data_sets.command("create", short_help="Create a data set and print its bearer token.")
@click.argument("name")
@click.argument("fields_", metavar="[KEY=VALUE]...", nargs=-1)
@click.option("--config", "config_json", help="Config fields as a JSON object.")
def create(name: str, fields_: tuple[str, ...], config_json: str | None) -> None:
    """Create data set NAME with the given config fields (KEY=VALUE, VALUE read
    as JSON when it parses) and print its config and bearer token. The token is
    shown only now."""
    body = {**(_json_object(config_json, "--config") if config_json else {})}
    body.update(_assignments(fields_))
    body["name"] = name
    config, token = run(registry().create, body)
    echo_json({**config.public(), "bearer_token": token})


@data_sets.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print full configs as JSON.")
def list_(as_json: bool) -> None:
    """List data sets: name and address."""
    configs = run(Registry(engine(read_only=True)).list)
    if as_json:
        echo_json([c.public() for c in configs])
        return
    if not configs:
        click.echo(f"no data sets in {database()}", err=True)
    for config in configs:
        click.echo(f"{config.name}\t/data/{config.data_group}/{config.data_type}")


@data_sets.command("show")
@click.argument("name")
def show(name: str) -> None:
    """Print one data set's config (never its token)."""
    echo_json(run(existing(name, read_only=True).get, name).public())


@data_sets.command("update", short_help="Change config fields of a data set.")
@click.argument("name")
@click.argument("fields_", metavar="KEY=VALUE...", nargs=-1)
@click.option("--config", "config_json", help="Fields to change as a JSON object.")
def update(name: str, fields_: tuple[str, ...], config_json: str | None) -> None:
    """Change config fields of data set NAME, for example:

    backdrop data-sets update things realtime=true max_age_expected=null
    """
    changes = {**(_json_object(config_json, "--config") if config_json else {})}
    changes.update(_assignments(fields_))
    if not changes:
        raise click.UsageError("Nothing to change: give KEY=VALUE arguments or --config")
    echo_json(run(existing(name).update, name, changes).public())


@data_sets.command("delete")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def delete(name: str, yes: bool) -> None:
    """Delete a data set and all its records."""
    registry = existing(name)
    if not yes:
        click.confirm(f"Delete {name} and all its records?", abort=True)
    run(registry.delete, name)
    click.echo(f"Deleted {name}")


@data_sets.command("rotate-token", short_help="Replace a data set's bearer token.")
@click.argument("name")
def rotate_token(name: str) -> None:
    """Replace a data set's bearer token; prints the new one (shown only now)."""
    click.echo(run(existing(name).rotate_token, name))


_CONFIG_FIELDS = {f.name for f in fields(DataSetConfig)} - {"token_hash"}
_NULLABLE = {"max_age_expected", "capped_size", "schema", "auto_ids"}


def stagecraft_body(entry: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """A Stagecraft data-set document as a create body, and the keys it ignored.

    Stagecraft left unset fields as null or "" and sometimes stored auto_ids
    as a comma-separated string; those become Backdrop's defaults and lists.
    """
    body: dict[str, Any] = {}
    ignored = []
    for key, value in entry.items():
        if key not in _CONFIG_FIELDS | {"bearer_token"}:
            ignored.append(key)
        elif value == "" or (value is None and key not in _NULLABLE):
            continue
        else:
            body[key] = value
    if isinstance(body.get("auto_ids"), str):
        body["auto_ids"] = [part.strip() for part in body["auto_ids"].split(",") if part.strip()]
    if body.get("auto_ids") == []:
        body["auto_ids"] = None
    return body, ignored


@data_sets.command("import", short_help="Create data sets from a Stagecraft export.")
@click.argument("file", type=click.File("rb"))
def import_(file) -> None:
    """Create data sets from a Stagecraft export: a JSON list of configs with
    plain bearer tokens, which are kept. Existing names are skipped, so a
    re-run is safe."""
    try:
        entries = json.load(file)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise click.ClickException(f"{file.name} is not JSON: {error}") from None
    if isinstance(entries, dict):
        entries = [entries]
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise click.ClickException(f"{file.name} must hold a JSON list of data-set objects")
    configs = registry()
    created = skipped = failed = 0
    for entry in entries:
        body, ignored = stagecraft_body(entry)
        name = body.get("name")
        if isinstance(name, str) and run(configs.find_by_name, name) is not None:
            click.echo(f"skipped {name}: already exists")
            skipped += 1
            continue
        try:
            config, token = configs.create(body)
        except BackdropError as error:
            click.echo(f"failed {name}: {error.describe()}", err=True)
            failed += 1
            continue
        created += 1
        note = f" (ignored: {', '.join(sorted(ignored))})" if ignored else ""
        new_token = "" if entry.get("bearer_token") else f"; new bearer token {token}"
        click.echo(f"created {config.name}{new_token}{note}")
    click.echo(f"{created} created, {skipped} skipped, {failed} failed")
    if failed:
        sys.exit(1)


main.add_command(push)  # `backdrop push` and `backdrop query` (SPEC 15), backdrop/client_cli.py
main.add_command(query)
main.add_command(dashboards)  # `backdrop dashboards …` (SPEC 11), backdrop/dashboards_cli.py
main.add_command(transforms)  # `backdrop transforms …` (SPEC 6), backdrop/transformers/cli.py
main.add_command(sources)  # `backdrop sources …` (SPEC 12), backdrop/transformers/sources_cli.py
main.add_command(migrate)  # `backdrop migrate`, backdrop/migrate.py
main.add_command(rollups)  # `backdrop rollups status|build`, backdrop/rollups_cli.py
