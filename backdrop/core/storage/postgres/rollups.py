"""Rollup rows in ``backdrop_rollups``, computed and read in SQL.

Every change is one ``INSERT … SELECT … GROUP BY … ON CONFLICT DO UPDATE``
over a set of stored records (those of a batch's ids, before the upsert with
sign -1 and after it with +1; those a DELETE returns; a whole data set for a
build): each record is counted once per (group, bucket) where the buckets are
its grain start and ``ALL_TIME`` (``-infinity``), and the counters add up
element by element. Values are classified as the records' ``aggregate`` does
(``postgres.aggregate``): a number is an integer when its JSONB text has no
``.``/``e`` (scale 0) and it is within 64 bits, otherwise a float; sums are
numeric.

``rollup_rows`` is one GROUP BY over the rows of one group, its filters the
records' filters (``expressions.matching``) over ``dims`` instead of ``data``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, LiteralString

import psycopg
from psycopg import sql

from backdrop.core import rollups
from backdrop.core.periods import PERIODS
from backdrop.core.query import Where
from backdrop.core.rollups import MEASURE_COUNTERS, RollupSpec
from backdrop.core.storage.base import Row
from backdrop.core.storage.postgres import expressions
from backdrop.core.storage.postgres.nul import storable
from backdrop.core.storage.postgres.schema import PERIOD_COLUMNS, TIME_COLUMNS

ALL_TIME = "'-infinity'::timestamptz"
_PERIODS = tuple(PERIOD_COLUMNS.values())  # hour_start_at … year_start_at
_ORDER = tuple(PERIODS)  # hour … year
_ADD = (
    "ARRAY(SELECT x + y FROM unnest(r.counters, excluded.counters) "
    "WITH ORDINALITY AS t(x, y, i) ORDER BY i)"
)
# Per measure value: 0 missing, 1 null, 2 neither number nor null, 3 float, 4
# integer (no fraction digits: the JSONB text has no "." exactly when the scale
# is 0, and never an exponent; and within 64 bits).
_KIND = (
    "CASE jsonb_typeof({x}) WHEN 'number' THEN CASE WHEN scale(({x})::numeric) > 0 "
    "OR abs(({x})::numeric) >= 2 ^ 63::numeric THEN 3 ELSE 4 END "
    "WHEN 'null' THEN 1 ELSE CASE WHEN {x} IS NULL THEN 0 ELSE 2 END END"
)
_VALUE = "CASE jsonb_typeof({x}) WHEN 'number' THEN ({x})::numeric END"
_COUNTERS = {  # over rec.k<j> (the kind), rec.v<j> (the numeric value), rec.sg (±1)
    "present": "coalesce(sum(sg) FILTER (WHERE {k} > 0), 0)",
    "n": "coalesce(sum(sg) FILTER (WHERE {k} >= 3), 0)",
    "isum": "coalesce(sum(sg * {v}) FILTER (WHERE {k} = 4), 0)",
    "fsum": "coalesce(sum(sg * {v}) FILTER (WHERE {k} = 3), 0)",
    "floats": "coalesce(sum(sg) FILTER (WHERE {k} = 3), 0)",
    "bad": "coalesce(sum(sg) FILTER (WHERE {k} = 2), 0)",
}
# The heap position (ctid, as ``pos``) of a fine row's first record as sortable
# text: of equal values written apart (``1``, ``1.0``) a rollup row keeps the
# one the records' GROUP BY over a scan in heap order meets first.
_FIRST = (
    "lpad(((min(pos)::text::point)[0] * 65536 + (min(pos)::text::point)[1])::bigint::text, 20, '0')"
)
_KEY = "(data_set, grp, bucket, dims)"


def _names(spec: RollupSpec) -> list[str]:
    """Every dimension field once, in spec order (``rec.d<i>`` is field i)."""
    return list(dict.fromkeys(name for group in spec.groups for name in group))


def _grain(spec: RollupSpec) -> tuple[str, list[str | None]]:
    """The grain's column, and per period column that column when it is the
    grain's or a coarser period's start, else None (NULL in the rows)."""
    coarse = _ORDER[_ORDER.index(spec.grain) :]
    columns = [c if p in coarse else None for p, c in zip(_ORDER, _PERIODS, strict=True)]
    return PERIOD_COLUMNS[f"_{spec.grain}_start_at"], columns


def _sets(spec: RollupSpec, names: list[str]) -> sql.Composed:
    """Each group twice: ALL_TIME (its fields) and by grain (with the starts)."""
    _, columns = _grain(spec)
    timed = [sql.Identifier(c) for c in columns if c is not None]
    sets = []
    for group in spec.groups:
        fields = [sql.Identifier(f"d{names.index(f)}") for f in group]
        sets.append(sql.SQL("({})").format(sql.SQL(", ").join(fields)))
        sets.append(sql.SQL("({})").format(sql.SQL(", ").join([*timed, *fields])))
    return sql.SQL(", ").join(sets)


def _group_columns(spec: RollupSpec, names: list[str]) -> tuple[sql.Composable, sql.Composable]:
    """``grp`` and ``dims`` of a grouping-set row, told apart by ``GROUPING``
    of the dimension columns (bit 1: not grouped, leftmost most significant);
    the values those of the first record in heap order (``_FIRST``)."""
    if not names:
        return sql.SQL("0"), sql.SQL("'{}'::jsonb")
    grouping = sql.SQL("GROUPING({})").format(
        sql.SQL(", ").join(sql.Identifier(f"d{i}") for i in range(len(names)))
    )
    grp, dims = [], []
    for index, group in enumerate(spec.groups):
        bits = sum(1 << (len(names) - 1 - i) for i, n in enumerate(names) if n not in group)
        pairs = [
            sql.SQL("{}::text, (min({}))[2]::jsonb").format(
                sql.Literal(f), sql.Identifier(f"r{names.index(f)}")
            )
            for f in group
            if storable(f)
        ]
        grp.append(sql.SQL("WHEN {} THEN {}").format(sql.Literal(bits), sql.Literal(index)))
        dims.append(
            sql.SQL("WHEN {} THEN jsonb_build_object({})").format(
                sql.Literal(bits), sql.SQL(", ").join(pairs)
            )
        )
    return (
        sql.SQL("CASE {} {} END").format(grouping, sql.SQL(" ").join(grp)),
        sql.SQL("CASE {} {} END").format(grouping, sql.SQL(" ").join(dims)),
    )


def _inner(spec: RollupSpec, names: list[str], sign: int) -> sql.Composed:
    """Per record, once: the period starts, each dimension (null when
    missing, so missing and null are one group) and each measure's kind and
    numeric value."""
    items: list[sql.Composable] = [sql.Identifier(c) for c in (*_PERIODS, "pos")]
    items.append(sql.SQL("sg" if sign == 0 else str(sign)) + sql.SQL(" AS sg"))
    for i, name in enumerate(names):
        items.append(
            sql.SQL("coalesce({}, 'null'::jsonb) AS {}").format(
                expressions.field(name), sql.Identifier(f"d{i}")
            )
        )
    for j, measure in enumerate(spec.measures):
        x = expressions.field(measure)
        items.append(sql.SQL(_KIND + " AS {k}").format(x=x, k=sql.Identifier(f"k{j}")))
        items.append(sql.SQL(_VALUE + " AS {v}").format(x=x, v=sql.Identifier(f"v{j}")))
    return sql.SQL(", ").join(items)


def _fine(spec: RollupSpec, names: list[str], source: LiteralString, sign: int) -> sql.Composed:
    """Counters per distinct (period starts, every dimension): the finest
    rows, so the grouping sets add up a few rows rather than every record."""
    _, columns = _grain(spec)
    keys = [sql.Identifier(c) for c in columns if c is not None]
    keys += [sql.Identifier(f"d{i}") for i in range(len(names))]
    items: list[sql.Composable] = [*keys, sql.SQL("sum(sg) AS c0")]
    for i in range(len(names)):  # (first write, value) as text, for min() to pick
        items.append(
            sql.SQL(f"ARRAY[{_FIRST}, {{}}::text] AS {{}}").format(
                sql.Identifier(f"d{i}"), sql.Identifier(f"r{i}")
            )
        )
    for j in range(len(spec.measures)):
        k, v = sql.SQL(f"k{j}"), sql.SQL(f"v{j}")
        for i, counter in enumerate(MEASURE_COUNTERS):
            at = sql.Identifier(f"c{1 + j * len(MEASURE_COUNTERS) + i}")
            items.append(
                sql.SQL("{} AS {}").format(sql.SQL(_COUNTERS[counter]).format(k=k, v=v), at)
            )
    return sql.SQL("SELECT {} FROM (SELECT {} FROM {} OFFSET 0) rec GROUP BY {}").format(
        sql.SQL(", ").join(items),
        _inner(spec, names, sign),
        sql.SQL(source),
        sql.SQL(", ").join(keys),
    )


def _sums(spec: RollupSpec) -> sql.Composed:
    width = 1 + len(spec.measures) * len(MEASURE_COUNTERS)
    return sql.SQL(", ").join(sql.SQL(f"sum(c{i})") for i in range(width))


def delta(
    spec: RollupSpec,
    source: LiteralString,
    sign: int,
    *,
    prefix: LiteralString = "",
    keys: bool = True,
) -> sql.Composed:
    """The statement adding (``sign`` 1), subtracting (-1) or, with ``sign``
    0, adding each record times its ``sg`` column, the counters of the
    records ``SELECT … FROM {source}`` reads, in one pass of GROUPING
    SETS; parameters: those of ``prefix`` (e.g. ``WITH gone AS (DELETE …
    RETURNING *)``), the data set, those of ``source``. With ``keys``, in key
    order, returning each row's key and ``_count``; without (a build), not."""
    names = _names(spec)
    grain, columns = _grain(spec)
    grp, dims = _group_columns(spec, names)
    starts = sql.SQL(", ").join(
        sql.SQL("{} AS {}").format(
            sql.SQL("NULL::timestamptz") if c is None else sql.Identifier(c), sql.Identifier(p)
        )
        for c, p in zip(columns, _PERIODS, strict=True)
    )
    statement = sql.SQL(
        "{prefix}INSERT INTO backdrop_rollups AS r (data_set, grp, bucket, dims, {periods}, "
        "counters) SELECT %s, grp, coalesce({grain}, {all}), dims, {periods}, counters "
        "FROM (SELECT {grp} AS grp, {dims} AS dims, {starts}, ARRAY[{sums}]::numeric[] AS counters "
        "FROM ({fine}) rec GROUP BY GROUPING SETS ({sets}) "
        "HAVING count(*) > 0 AND (GROUPING({grain}) = 1 OR {grain} IS NOT NULL)) rows "
    ).format(
        prefix=sql.SQL(prefix),
        periods=sql.SQL(", ").join(map(sql.Identifier, _PERIODS)),
        grain=sql.Identifier(grain),
        all=sql.SQL(ALL_TIME),
        grp=grp,
        dims=dims,
        starts=starts,
        sums=_sums(spec),
        fine=_fine(spec, names, source, sign),
        sets=_sets(spec, names),
    )
    if keys:
        statement += sql.SQL("ORDER BY 2, 3, 4 ")
    statement += sql.SQL(f"ON CONFLICT {_KEY} DO UPDATE SET counters = {_ADD}")
    if keys:
        statement += sql.SQL(" RETURNING grp, bucket::text, dims::text, counters[1]")
    return statement


Key = tuple[int, str, str]
# One primary-key probe per id (the LIMIT keeps the planner from making a
# join of it, which can scan the whole data set when its statistics are stale).
BY_IDS = (
    "unnest(%s::text[]) AS batch(batch_id) CROSS JOIN LATERAL (SELECT ctid AS pos, * "
    "FROM backdrop_records WHERE data_set = %s AND id = batch_id LIMIT 1) AS stored"
)


def apply(conn: psycopg.Connection[Any], statement: sql.Composed, params: list[Any]) -> list[Key]:
    """Run a ``delta`` statement; the keys of the rows whose count is now 0."""
    with conn.cursor() as cursor:
        cursor.execute(statement, params)
        return [(g, b, d) for g, b, d, count in cursor.fetchall() if count == 0]


def by_ids(
    conn: psycopg.Connection[Any], spec: RollupSpec, data_set: str, ids: list[str], sign: int
) -> list[Key]:
    """Add or subtract the stored records of ``ids`` (distinct)."""
    return apply(conn, delta(spec, BY_IDS, sign), [data_set, ids, data_set])


def prune(conn: psycopg.Connection[Any], data_set: str, keys: list[Key]) -> None:
    """Delete the rows of ``keys`` still counting no record (the table stays
    the size of what is stored)."""
    if not keys:
        return
    grps, buckets, dims = (list(column) for column in zip(*keys, strict=True))
    conn.execute(
        "DELETE FROM backdrop_rollups r USING unnest(%s::int[], %s::text[], %s::text[]) "
        "AS k(g, b, d) WHERE r.data_set = %s AND r.grp = k.g AND r.bucket = k.b::timestamptz "
        "AND r.dims = k.d::jsonb AND r.counters[1] = 0",
        (grps, buckets, dims, data_set),
    )


def discard(conn: psycopg.Connection[Any], data_set: str) -> None:
    conn.execute("DELETE FROM backdrop_rollups WHERE data_set = %s", (data_set,))


def build(conn: psycopg.Connection[Any], spec: RollupSpec, data_set: str) -> None:
    """Every row from the data set's records, in one statement."""
    discard(conn, data_set)
    source = "(SELECT ctid AS pos, * FROM backdrop_records WHERE data_set = %s) AS stored"
    statement = delta(spec, source, 1, keys=False)
    conn.execute(statement, (data_set, data_set))


def _dimension(name: str) -> sql.Composable:
    """A group field's value in a rollup row, as ``expressions.field`` is in a record."""
    if not storable(name):
        return sql.SQL("NULL::jsonb")
    return sql.SQL("(dims -> {}::text)").format(sql.Literal(name))


def _read_sums(spec: RollupSpec) -> list[sql.Composable]:
    """Counter sums in ``counter_names`` order; when a row met floats, the
    integer sum is folded into the float sum (so ``finish`` makes one float
    of the exact numeric total, as the records' ``sum`` does)."""
    items: list[sql.Composable] = [sql.SQL("sum(counters[1])")]
    for j in range(len(spec.measures)):
        at = {c: 2 + j * len(MEASURE_COUNTERS) + i for i, c in enumerate(MEASURE_COUNTERS)}
        floats = f"sum(counters[{at['floats']}]) > 0"
        isum, fsum = f"sum(counters[{at['isum']}])", f"sum(counters[{at['fsum']}])"
        for counter in MEASURE_COUNTERS:
            if counter == "isum":
                items.append(sql.SQL(f"CASE WHEN {floats} THEN 0 ELSE {isum} END"))
            elif counter == "fsum":
                items.append(sql.SQL(f"CASE WHEN {floats} THEN {isum} + {fsum} ELSE 0 END"))
            else:
                items.append(sql.SQL(f"sum(counters[{at[counter]}])"))
    return items


def _utc(value: Any) -> Any:
    return value.astimezone(UTC) if isinstance(value, datetime) else value


def _number(name: str, value: Decimal | None) -> int | float:
    if name.endswith(":fsum"):
        return float(value or 0)
    return int(value or 0)


def read(
    conn: psycopg.Connection[Any],
    spec: RollupSpec,
    data_set: str,
    group: int,
    where: Where,
    group_by: tuple[str, ...],
    period: str | None,
) -> list[Row]:
    """``RecordStore.rollup_rows`` as one GROUP BY."""
    select, condition = expressions.Clauses(), expressions.Clauses()
    condition.add("data_set = %s AND grp = %s", data_set, group)
    for name in group_by:
        if name in TIME_COLUMNS:
            select.add("({x} #>> '{{}}')::timestamptz", x=_dimension(name))
        else:
            select.add("{x}", x=_dimension(name))
    keys: tuple[str, ...] = group_by
    if period is not None:
        select.add("{x}", x=sql.Identifier(PERIOD_COLUMNS[f"_{period}_start_at"]))
        keys = (*group_by, "_start_at")
    if rollups.uses_all_time(where, period):
        condition.add(f"bucket = {ALL_TIME}")
    else:
        condition.add(f"bucket > {ALL_TIME}")
        if where.start is not None:
            condition.add("bucket >= %s", where.start)
        if where.end is not None:
            condition.add("bucket <= %s" if where.end_inclusive else "bucket < %s", where.end)
    expressions.matching(condition, where, _dimension)
    for item in _read_sums(spec):
        select.add("{x}", x=item)
    statement = sql.SQL("SELECT {select} FROM backdrop_rollups WHERE {condition}").format(
        select=select.joined(", "), condition=condition.joined(" AND ")
    )
    if keys:
        positions = sql.SQL(", ").join(sql.Literal(i + 1) for i in range(len(keys)))
        statement += sql.SQL(" GROUP BY {}").format(positions)
    fetched = conn.execute(statement, [*select.params, *condition.params]).fetchall()
    names = spec.counter_names()
    out = []
    for row in fetched:
        result: Row = {k: _utc(v) for k, v in zip(keys, row, strict=False)}
        counters = row[len(keys) :]
        result.update((n, _number(n, v)) for n, v in zip(names, counters, strict=True))
        out.append(result)
    return out
