"""``backdrop transforms list|add|remove|run``: the transforms admin on the
command line, working directly on BACKDROP_DATABASE_URL like ``data-sets``."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from backdrop.command_line import EngineContext, database, echo_json, engine, existing, run
from backdrop.core.records import parse_time
from backdrop.transformers import config
from backdrop.transformers.runner import TransformsFailed, run_all


def _span(start: datetime | None, end: datetime | None) -> str:
    if start is None or end is None:
        return "the whole data set"
    return f"{start.isoformat()} – {end.isoformat()}"


def _time(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_time(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 time", param_hint=name) from None


@click.group()
@click.pass_context
def transforms(ctx: click.Context) -> None:
    """List, add, remove and run the transforms of a data set."""
    EngineContext.attach(ctx)


@transforms.command("list")
@click.argument("data_set")
def list_command(data_set: str) -> None:
    """Show DATA_SET's transforms as JSON."""
    existing(data_set, read_only=True)
    listed = run(config.list_for, engine(read_only=True), data_set)
    echo_json(listed)
    if not listed:
        click.echo(f"{data_set} has no transforms in {database()}", err=True)


@transforms.command("add", short_help="Add a transform to a data set.")
@click.argument("data_set")
@click.argument("transform")
def add_command(data_set: str, transform: str) -> None:
    """Add a transform to DATA_SET. TRANSFORM is a JSON object, a file holding
    one, or - for standard input."""
    if transform == "-":
        text = sys.stdin.read()
    elif transform.lstrip().startswith("{"):
        text = transform
    else:
        try:
            text = Path(transform).read_text()
        except OSError as error:
            raise click.BadParameter(str(error), param_hint="TRANSFORM") from None
    try:
        body = json.loads(text)
    except json.JSONDecodeError as error:
        raise click.BadParameter(f"not JSON: {error}", param_hint="TRANSFORM") from None
    existing(data_set)
    echo_json(run(config.add, engine(), data_set, body))


@transforms.command("remove")
@click.argument("data_set")
@click.argument("transform_id")
def remove_command(data_set: str, transform_id: str) -> None:
    """Remove transform TRANSFORM_ID from DATA_SET."""
    existing(data_set)
    run(config.remove, engine(), data_set, transform_id)
    click.echo(f"removed transform {transform_id} of {data_set}")


@transforms.command("run")
@click.argument("data_set")
@click.option("--start", required=True, help="ISO 8601 start of the range (UTC if no offset).")
@click.option("--end", default=None, help="ISO 8601 end of the range; default now.")
def run_command(data_set: str, start: str, end: str | None) -> None:
    """Run DATA_SET's transforms now, in this process, over START – END."""
    begin = _time(start, "--start")
    finish = _time(end, "--end") or datetime.now(UTC)
    if begin is None or finish < begin:
        raise click.BadParameter("must not be before --start", param_hint="--end")
    existing(data_set)
    try:
        runs = run_all(engine(), data_set, begin, finish)
    except TransformsFailed as failed:
        runs = failed.runs
    for outcome in runs:
        if outcome.error:
            click.echo(f"transform {outcome.transform_id}: FAILED {outcome.error}", err=True)
        else:
            click.echo(
                f"transform {outcome.transform_id}: {outcome.records} record(s) to "
                f"{outcome.output or '(nothing in range)'} over {_span(outcome.start, outcome.end)}"
            )
    if not runs:
        click.echo(f"{data_set} has no transforms")
    if any(outcome.error for outcome in runs):
        sys.exit(1)
