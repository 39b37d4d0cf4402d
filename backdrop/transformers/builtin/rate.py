"""``rate``: per period, the ratio of two sums picked out by regexes.

Options: ``matchingAttribute`` (the grouped field to test),
``numeratorMatcher`` and ``denominatorMatcher`` (regexes matched from the
start of that field's value, as ``re.match`` does) and ``valueAttribute``
(the result key to sum, default ``_count``). A row can count towards both.
A period whose denominator is 0 gets ``rate: null``. Bad options raise
ValueError even for no rows, which is how they are checked when added.
"""

from __future__ import annotations

from typing import Any

from backdrop.transformers.builtin.fields import number, period_of, regex, required


def rate(rows: list[dict[str, Any]], options: dict[str, Any]) -> list[dict[str, Any]]:
    attribute = required(options, "matchingAttribute")
    numerator_matcher = regex(options, "numeratorMatcher")
    denominator_matcher = regex(options, "denominatorMatcher")
    value_attribute = required(options, "valueAttribute", default="_count")

    sums: dict[tuple, list] = {}
    for row in rows:
        period = period_of(row)
        key = tuple(sorted(period.items()))
        totals = sums.setdefault(key, [period, 0, 0])
        matched = row.get(attribute)
        if matched is None:
            continue
        value = number(row.get(value_attribute))
        if numerator_matcher.match(str(matched)):
            totals[1] += value
        if denominator_matcher.match(str(matched)):
            totals[2] += value

    return [
        {**period, "rate": numerator / denominator if denominator else None}
        for period, numerator, denominator in sums.values()
    ]
