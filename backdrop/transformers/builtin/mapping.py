"""``mapping``: re-label grouped values by regexes and sum what then coincides.

Options: ``mappingKeys`` (the grouped fields to re-label), ``mappings``
(``{regex: label}``, tried in order, matched from the start of the value;
a value no regex matches keeps its own value) and ``valueAttribute`` (the
result key to sum, default ``_count``). The hyphenated names of older
configs (``mapping-keys``, ``value-attribute``) are accepted too.

One record per period and combination of labels, holding the labels and the
sum under the value attribute's record key (``_count`` → ``count``).
"""

from __future__ import annotations

import re
from typing import Any

from backdrop.transformers.builtin.fields import number, option, period_of, record_key, required


def _mappings(options: dict[str, Any]) -> list[tuple[re.Pattern, Any]]:
    mappings = option(options, "mappings")
    if not isinstance(mappings, dict) or not mappings:
        raise ValueError("options.mappings must be an object of {regex: label}")
    compiled = []
    for pattern, label in mappings.items():
        try:
            compiled.append((re.compile(pattern), label))
        except re.error as error:
            message = f"options.mappings: {pattern!r} is not a valid regex: {error}"
            raise ValueError(message) from None
    return compiled


def _keys(options: dict[str, Any]) -> list[str]:
    keys = option(options, "mappingKeys", "mapping-keys")
    if isinstance(keys, str):
        keys = [keys]
    if not (isinstance(keys, list) and keys and all(isinstance(k, str) and k for k in keys)):
        raise ValueError("options.mappingKeys must be a list of field names")
    return keys


def _label(value: Any, mappings: list[tuple[re.Pattern, Any]]) -> Any:
    if value is None:
        return None
    for pattern, label in mappings:
        if pattern.match(str(value)):
            return label
    return value


def mapping(rows: list[dict[str, Any]], options: dict[str, Any]) -> list[dict[str, Any]]:
    keys = _keys(options)
    mappings = _mappings(options)
    value_attribute = required(options, "valueAttribute", "value-attribute", default="_count")
    output_key = record_key(value_attribute)

    sums: dict[tuple, dict[str, Any]] = {}
    for row in rows:
        period = period_of(row)
        labels = {key: _label(row.get(key), mappings) for key in keys}
        group = (tuple(sorted(period.items())), tuple(map(repr, labels.values())))
        record = sums.setdefault(group, {**period, **labels, output_key: 0})
        record[output_key] += number(row.get(value_attribute))
    return list(sums.values())
