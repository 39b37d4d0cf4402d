"""``rollup``: store the read query's result rows as records."""

from __future__ import annotations

from typing import Any

from backdrop.transformers.builtin.fields import record_key


def rollup(rows: list[dict[str, Any]], options: dict[str, Any]) -> list[dict[str, Any]]:
    """One record per result row, keys made writable (``_count`` → ``count``,
    ``value:sum`` → ``value_sum``); the period bounds are kept."""
    output = []
    for row in rows:
        record = {}
        for key, value in row.items():
            record[key if key in ("_start_at", "_end_at") else record_key(key)] = value
        output.append(record)
    return output
