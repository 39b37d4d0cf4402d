"""``backdrop push`` and ``backdrop query``: the client on the command line (SPEC 15).

``push`` parses a file (or stdin) with the upload parsers, gives each record
without an ``_id`` the one an upload of that file would (row number and
content), and posts it in chunks through ``backdrop.client``; re-running a
push that was cut short replaces what it had stored instead of duplicating.
"""

from __future__ import annotations

import csv
import io
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

import click
import orjson

from backdrop.client import ClientError, DataSet, Retry
from backdrop.core.data_sets import DataSetConfig
from backdrop.core.files import FORMATS, ParseOptions, parse
from backdrop.core.records import prepare_records
from backdrop.core.uploads import stable_id
from backdrop.errors import BackdropError

_LINE_FORMATS = ("csv", "jsonl")


def _token(token: str | None, token_file: Path | None) -> str | None:
    if token_file is not None:
        return token_file.read_text().strip()
    return token


def _rows(stream: BinaryIO, name: str | None, fmt: str | None, sheet: str | None) -> Iterator[Any]:
    options = ParseOptions(sheet=sheet, max_rows=None, max_bytes=None, max_unzipped_bytes=None)
    for number, record in parse(stream, name, fmt, options):
        if "_id" not in record:
            record["_id"] = stable_id(number, record)
        yield record


def _estimate(path: Path | None, fmt: str | None) -> int | None:
    """Records in a CSV or JSONL file, by counting lines (for the bar's ETA)."""
    kind = fmt or (path.suffix.lstrip(".").lower() if path else None)
    if path is None or kind not in _LINE_FORMATS:
        return None
    lines = 0
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            lines += chunk.count(b"\n")
    return max(lines - (kind == "csv"), 0)


def _check_locally(records: Iterator[Any]) -> int:
    """``--dry-run``: every record through the write API's validation, here."""
    config = DataSetConfig(name="push", data_group="push", data_type="push")
    count, now = 0, datetime.now(UTC)
    batch: list[Any] = []
    for record in records:
        batch.append(record)
        if len(batch) == 1000:
            prepare_records(batch, config, now)
            count, batch = count + len(batch), []
    prepare_records(batch, config, now)
    return count + len(batch)


def _progress(total: int | None) -> Any:
    if not sys.stderr.isatty():
        return None
    from tqdm import tqdm  # only on a terminal

    return tqdm(total=total, unit=" records", unit_scale=True, dynamic_ncols=True, file=sys.stderr)


@click.command(short_help="Send a CSV, Excel, JSON or JSONL file to a data set.")
@click.argument("file", metavar="FILE|-")
@click.option("--url", required=True, help="The write app's /data/<group>/<type> URL.")
@click.option("--token", help="The data set's bearer token.")
@click.option("--token-file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--format", "fmt", type=click.Choice([*FORMATS, "excel"]), help="Else judged.")
@click.option("--sheet", help="The workbook sheet to send (default the first).")
@click.option("--chunk-size", default=1000, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--retries", default=8, show_default=True, type=click.IntRange(1, 100))
@click.option("--dry-run", is_flag=True, help="Parse and validate locally; send nothing.")
def push(
    file: str,
    url: str,
    token: str | None,
    token_file: Path | None,
    fmt: str | None,
    sheet: str | None,
    chunk_size: int,
    retries: int,
    dry_run: bool,
) -> None:
    """Send FILE (or - for stdin) to the data set at --url, in chunks: gzipped
    over 2 KB, retried with backoff on 5xx and connection errors, with a
    progress bar on a terminal and a one-line summary otherwise."""
    path = None if file == "-" else Path(file)
    if path is not None and not path.is_file():
        raise click.ClickException(f"no such file: {file}")
    stream = sys.stdin.buffer if path is None else path.open("rb")
    started = time.monotonic()
    try:
        records = _rows(stream, path.name if path else None, fmt, sheet)
        if dry_run:
            count = _check_locally(records)
            click.echo(f"{count} records in {file} are valid; nothing was sent (--dry-run)")
            return
        target = DataSet(url, _token(token, token_file), chunk_size=chunk_size)
        target.retry = Retry(attempts=retries)
        bar = _progress(_estimate(path, fmt))
        try:
            sent = target.post(records, on_chunk=bar.update if bar else None)
        finally:
            if bar:
                bar.close()
    except BackdropError as error:  # the file is bad (BadFile, FileTooLarge) or invalid
        raise click.ClickException(f"{file}: {error.describe()}") from None
    except ClientError as error:
        hint = " (run the same command again: records already stored are replaced, not doubled)"
        raise click.ClickException(f"{error}{hint}") from None
    finally:
        if path is not None:
            stream.close()
    seconds = time.monotonic() - started
    chunks = -(-sent // chunk_size)
    click.echo(
        f"pushed {sent} records from {file} in {chunks} chunks, {target.retries} retries, "
        f"{seconds:.1f} s ({sent / max(seconds, 1e-9):,.0f} records/s)"
    )


def _table(rows: list[dict[str, Any]]) -> str:
    columns = list(dict.fromkeys(key for row in rows for key in row))
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join(line.rstrip() for line in lines)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else orjson.dumps(value).decode()


def _csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    columns = list(dict.fromkeys(key for row in rows for key in row))
    writer = csv.DictWriter(out, columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: _cell(v) for k, v in row.items()} for row in rows)
    return out.getvalue().rstrip("\n")


def _params(options: dict[str, Any], extra: tuple[str, ...]) -> dict[str, Any]:
    params = {key: value for key, value in options.items() if value not in (None, (), False)}
    for pair in extra:
        key, sep, value = pair.partition("=")
        if not sep:
            raise click.BadParameter(f"'{pair}' is not KEY=VALUE", param_hint="--param")
        params.setdefault(key, [])
        if not isinstance(params[key], list):
            params[key] = [params[key]]
        params[key].append(value)
    return params


@click.command(short_help="Print a read query's result as a table, CSV or JSON.")
@click.argument("url")
@click.option("--period", help="hour, day, week, month, quarter or year.")
@click.option("--group-by", multiple=True, help="Field to group by (repeatable).")
@click.option("--collect", multiple=True, help="field or field:method (repeatable).")
@click.option("--filter-by", multiple=True, help="field:value (repeatable).")
@click.option("--start-at", help="ISO 8601 time.")
@click.option("--end-at", help="ISO 8601 time.")
@click.option("--duration", type=int, help="Number of periods.")
@click.option("--sort-by", help="field:ascending or field:descending.")
@click.option("--limit", type=int)
@click.option("--param", "extra", multiple=True, help="Any other KEY=VALUE (repeatable).")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table")
@click.option("--token", help="Bearer token, for data sets that need one to read.")
def query(url: str, extra: tuple[str, ...], fmt: str, token: str | None, **options: Any) -> None:
    """Run the query at URL (the read app's /data/<group>/<type>) and print it.
    Tables and CSV ask for flattened rows (flatten=true)."""
    params = _params(options, extra)
    if fmt != "json":
        params["flatten"] = "true"
    try:
        rows = DataSet(url, token, retry=Retry(attempts=3)).get(**params)
    except ClientError as error:
        raise click.ClickException(str(error)) from None
    if fmt == "json":
        click.echo(orjson.dumps(rows, option=orjson.OPT_INDENT_2).decode())
    elif not rows:
        click.echo("(no rows)")
    else:
        click.echo(_table(rows) if fmt == "table" else _csv(rows))
