"""The sides of one query benchmark and the round-robin timing of them.

One question, asked of the read API (gunicorn, HTTP), of the hand-written SQL
on the same database, of Datasette serving that SQL from the same SQLite file
and of the DuckDB reference holding the same records. Every side's answer is
checked equal to the API's once before timing; then the sides are timed
round-robin so machine-load drift hits them alike.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import orjson
import requests

from benchmarks.backends import Backend, SqlSide
from benchmarks.duckdb_ref import DuckDB, api_view
from benchmarks.harness import app_env, start_app, start_datasette
from benchmarks.queries import QueryCase
from benchmarks.results import DATA_SET, QueryResult, Timings


class Sides:
    """The ways of asking one question of one database."""

    def __init__(
        self,
        read_url: str,
        sql_side: SqlSide,
        datasette_url: str | None = None,
        duckdb: DuckDB | None = None,
    ):
        self.read_url = f"{read_url}/data/{DATA_SET}/{DATA_SET}"
        self.datasette_url = datasette_url
        self.sql_side = sql_side
        self.duckdb = duckdb
        self.session = requests.Session()

    def close(self) -> None:
        self.session.close()
        self.sql_side.close()

    def api(self, case: QueryCase) -> bytes:
        response = self.session.get(self.read_url, params=list(case.params), timeout=300)
        if response.status_code != 200:
            raise RuntimeError(f"read API {case.name}: {response.status_code} {response.text}")
        return response.content

    def sql(self, sql: str) -> list[dict]:
        return self.sql_side.run(sql)

    def datasette(self, sql: str) -> bytes:
        assert self.datasette_url
        response = self.session.get(
            self.datasette_url, params={"sql": sql, "_shape": "array"}, timeout=300
        )
        if response.status_code != 200:
            raise RuntimeError(f"Datasette: {response.status_code} {response.text[:500]}")
        return response.content


def _timed(call: Callable, *args) -> float:
    started = time.perf_counter()
    call(*args)
    return time.perf_counter() - started


def _round(sides: Sides, case: QueryCase, sql: str, timings: Timings, with_sql: bool) -> None:
    timings.add("api", _timed(sides.api, case))
    if with_sql:
        timings.add("sql", _timed(sides.sql, sql))
        if sides.datasette_url:
            timings.add("datasette", _timed(sides.datasette, sql))
    if sides.duckdb:
        timings.add("duckdb", sides.duckdb.time(case.name))


def measure_query(
    sides: Sides, case: QueryCase, n: int, reps: int, budget: float, with_sql: bool = True
) -> QueryResult:
    """Check the answers agree once, then time the sides round-robin: at least
    5 rounds, at most ``reps``, stopping early once ``budget`` seconds are
    spent. ``with_sql=False`` times the API (and DuckDB) only, e.g. for the
    rollup runs whose SQL baseline is the same as without rollups."""
    sql = sides.sql_side.sql(case)
    api_rows = orjson.loads(sides.api(case))["data"]
    api_canonical = case.from_api(api_rows)
    same: dict[str, bool] = {}
    if with_sql:
        same["sql"] = api_canonical == case.from_sql(sides.sql(sql))
        if sides.datasette_url:
            same["datasette"] = api_canonical == case.from_sql(orjson.loads(sides.datasette(sql)))
    if sides.duckdb:
        same["duckdb"] = api_view(case.name, api_canonical) == sides.duckdb.answer(case.name)
    timings = Timings()
    started = time.monotonic()
    for round_number in range(reps):
        _round(sides, case, sql, timings, with_sql)
        if round_number >= 4 and time.monotonic() - started > budget:
            break
    return QueryResult(case, n, timings, same, len(api_rows), answer=api_canonical)


@contextmanager
def open_sides(
    backend: Backend,
    url: str,
    logs: Path,
    tag: str,
    bench_bin: Path | None,
    duckdb: DuckDB | None,
    extra_env: dict[str, str] | None = None,
) -> Iterator[Sides]:
    """A read app (2 workers) on ``url`` and the other sides; all stopped after."""
    env = {**app_env(url, secrets.token_urlsafe(16)), **(extra_env or {})}
    datasette_file = backend.datasette_file(url) if bench_bin else None
    with start_app("read", 2, env, logs / f"read-{tag}.log") as read:
        datasette = (
            start_datasette(bench_bin, datasette_file, logs / f"datasette-{tag}.log")
            if bench_bin and datasette_file
            else None
        )
        try:
            sides = Sides(
                read.url,
                backend.sql_side(url),
                datasette and f"{datasette.url}/{datasette_file.stem}.json",
                duckdb,
            )
            try:
                yield sides
            finally:
                sides.close()
        finally:
            if datasette:
                datasette.stop()


def measure_cases(
    sides: Sides,
    n: int,
    cases: tuple[QueryCase, ...],
    reps: int,
    budget: float,
    *,
    with_sql: Callable[[QueryCase], bool] = lambda case: True,
    warm_rounds: int = 1,
) -> list[QueryResult]:
    """Every case, after ``warm_rounds`` untimed API calls each (page cache,
    both workers; with the result cache on, >= 4 fills it in both workers).
    ``with_sql(case)``: whether the SQL and Datasette sides run for it."""
    for case in cases:
        for _ in range(warm_rounds):
            sides.api(case)
        if with_sql(case):
            sides.sql(sides.sql_side.sql(case))
    return [measure_query(sides, case, n, reps, budget, with_sql(case)) for case in cases]
