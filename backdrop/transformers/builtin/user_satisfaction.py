"""``user_satisfaction``: counts of ratings 1–5 → totals and a 0–1 score.

Reads ``rating_1`` … ``rating_5`` from each result row, as collected sums
(``rating_1:sum``) or plain grouped fields (``rating_1``); missing counts
are 0. Each output record keeps the row's period and group fields and adds
``rating_1`` … ``rating_5``, ``total`` and ``score``: the mean rating mapped
linearly onto 0–1, rating 1 (very dissatisfied) → 0 and rating 5 (very
satisfied) → 1; ``null`` when there are no ratings.
"""

from __future__ import annotations

from typing import Any

from backdrop.transformers.builtin.fields import number, period_of

RATINGS = tuple(f"rating_{n}" for n in range(1, 6))


def _count(row: dict[str, Any], rating: str) -> int | float:
    return number(row.get(f"{rating}:sum", row.get(rating)))


def _group_fields(row: dict[str, Any]) -> dict[str, Any]:
    """Fields the row was grouped by: plain keys, not internal or collected."""
    return {
        key: value
        for key, value in row.items()
        if not key.startswith("_") and ":" not in key and key not in RATINGS
    }


def user_satisfaction(rows: list[dict[str, Any]], options: dict[str, Any]) -> list[dict[str, Any]]:
    output = []
    for row in rows:
        counts = {rating: _count(row, rating) for rating in RATINGS}
        total = sum(counts.values())
        weighted = sum(n * count for n, count in enumerate(counts.values(), start=1))
        score = (weighted / total - 1) / 4 if total else None
        output.append(
            {**period_of(row), **_group_fields(row), **counts, "total": total, "score": score}
        )
    return output
