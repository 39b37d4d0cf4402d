"""``backdrop dashboards list|show|import|export|whitelist|protect`` (SPEC 11),
working directly on BACKDROP_DATABASE_URL like ``data-sets``, through the same
use-cases as the API, so limits, eviction and messages are the same."""

from __future__ import annotations

import json
from typing import Any

import click

from backdrop.command_line import EngineContext, database, echo_json, engine, run, settings
from backdrop.core.dashboards import spotlight, transfer
from backdrop.core.dashboards.eviction import Limits
from backdrop.core.dashboards.store import Dashboards


def _dashboards(read_only: bool = False) -> Dashboards:
    return Dashboards(engine(read_only), Limits.from_settings(settings()))


def _load(file: Any) -> Any:
    try:
        return json.load(file)
    except json.JSONDecodeError as error:
        raise click.ClickException(f"{file.name} is not JSON: {error}") from None


@click.group()
@click.pass_context
def dashboards(ctx: click.Context) -> None:
    """List, show, import, export, whitelist and protect dashboards."""
    EngineContext.attach(ctx)


@dashboards.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
def list_command(as_json: bool) -> None:
    """Every dashboard: id, size, flags, title."""
    store = _dashboards(read_only=True)
    listed = run(store.list)
    if as_json:
        echo_json(listed)
        return
    for item in listed:
        flags = "".join(
            letter
            for letter, key in (("P", "protected"), ("W", "whitelisted"), ("p", "published"))
            if item[key]
        )
        click.echo(f"{item['id']}\t{item['size']}\t{flags or '-'}\t{item['title']}")
    usage = run(store.usage)
    click.echo(
        f"{usage['count']} dashboards, {usage['bytes']} of {store.limits.quota_bytes} bytes "
        f"in {database()} (flags: P protected, W whitelisted, p published)",
        err=True,
    )


@dashboards.command("show")
@click.argument("dashboard_id")
def show_command(dashboard_id: str) -> None:
    """Print one dashboard as JSON."""
    echo_json(run(_dashboards(read_only=True).fetch, dashboard_id))


@dashboards.command("export", short_help="Write dashboards as one JSON file.")
@click.argument("ids", nargs=-1)
@click.option(
    "--output", "-o", type=click.File("w"), default="-", help="File to write (default stdout)."
)
def export_command(ids: tuple[str, ...], output: Any) -> None:
    """Write dashboards (all, or IDS) as one JSON file for `dashboards import`."""
    bundle = run(transfer.export, _dashboards(read_only=True), list(ids))
    json.dump(bundle, output, indent=2, sort_keys=True)
    output.write("\n")
    click.echo(f"exported {len(bundle['dashboards'])} dashboards", err=True)


@dashboards.command("import", short_help="Import dashboards (an export, or Spotlight's JSON).")
@click.argument("files", nargs=-1, required=True, type=click.File("r"))
@click.option(
    "--spotlight", "is_spotlight", is_flag=True, help="FILES are Stagecraft/Spotlight dashboards."
)
def import_command(files: tuple[Any, ...], is_spotlight: bool) -> None:
    """Import an export of `dashboards export`, or with --spotlight the
    dashboard JSON Stagecraft served to Spotlight (one object or a list each)."""
    store = _dashboards()
    for file in files:
        body = _load(file)
        if not is_spotlight:
            report = run(transfer.import_bundle, store, body, _progress)
            click.echo(
                f"{file.name}: created {len(report['created'])}, "
                f"skipped {len(report['skipped'])} (ids already there)",
                err=True,
            )
            continue
        for item in body if isinstance(body, list) else [body]:
            converted = run(spotlight.convert, item, store.registry)
            created = run(store.create, converted.dashboard, converted.id)
            click.echo(f"created {created['id']} ({len(created['tiles'])} tiles)")
            for unknown in converted.unknown:
                click.echo(
                    f"  {unknown['module']}: unknown module type {unknown['module_type']!r}, "
                    f"imported as table tile {unknown['tile']}",
                    err=True,
                )


def _progress(dashboard_id: str, outcome: str) -> None:
    click.echo(f"{outcome} {dashboard_id}")


def _flag_command(name: str, flag: str, doing: str, undoing: str) -> None:
    @dashboards.command(name, help=f"{doing.capitalize()} DASHBOARD_ID; --off: {undoing}.")
    @click.argument("dashboard_id")
    @click.option("--off", is_flag=True, help=undoing.capitalize() + ".")
    def command(dashboard_id: str, off: bool) -> None:
        store = _dashboards()
        updated = run(lambda: store.set_flags(dashboard_id, **{flag: not off}))
        said = "on" if updated[flag] else "off"
        click.echo(f"{dashboard_id}: {flag} {said}, whitelisted {updated['whitelisted']}")


_flag_command("whitelist", "whitelisted", "exempt from eviction", "return to eviction")
_flag_command("protect", "protected", "make read-only (and whitelisted)", "make writable again")
