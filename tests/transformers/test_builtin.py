"""The built-in transforms on small, hand-computed examples."""

from datetime import UTC, datetime

import pytest

from backdrop.transformers import registry
from backdrop.transformers.builtin.mapping import mapping
from backdrop.transformers.builtin.rate import rate
from backdrop.transformers.builtin.rollup import rollup
from backdrop.transformers.builtin.user_satisfaction import user_satisfaction

W1 = datetime(2024, 1, 1, tzinfo=UTC)
W2 = datetime(2024, 1, 8, tzinfo=UTC)
W3 = datetime(2024, 1, 15, tzinfo=UTC)


def row(start, end, **fields):
    return {"_start_at": start, "_end_at": end, **fields}


def test_registry_lists_the_builtins_from_entry_points():
    assert {"rollup", "rate", "mapping", "user_satisfaction"} <= set(registry.names())
    assert registry.get("rate") is rate


def test_registry_refuses_unregistered_names_and_import_paths():
    for name in ("nope", "os:system", "backdrop.transformers.builtin.rate:rate"):
        with pytest.raises(registry.UnknownTransform, match="Unknown transform type"):
            registry.get(name)


def test_rollup_makes_result_keys_writable():
    rows = [
        row(W1, W2, stage="a", _count=3, **{"value:sum": 12, "value:mean": 4.0}),
        row(W1, W2, stage="b", _count=0, **{"value:sum": None, "value:mean": None}),
    ]
    assert rollup(rows, {}) == [
        {
            "_start_at": W1,
            "_end_at": W2,
            "stage": "a",
            "count": 3,
            "value_sum": 12,
            "value_mean": 4.0,
        },
        {
            "_start_at": W1,
            "_end_at": W2,
            "stage": "b",
            "count": 0,
            "value_sum": None,
            "value_mean": None,
        },
    ]


def test_rollup_without_a_period_keeps_just_the_groups():
    assert rollup([{"stage": "a", "_count": 2}], {}) == [{"stage": "a", "count": 2}]


RATE_OPTIONS = {
    "matchingAttribute": "stage",
    "numeratorMatcher": "done",
    "denominatorMatcher": "(start|done)",
}


def test_rate_divides_matching_sums_per_period():
    rows = [
        row(W1, W2, stage="start", _count=10),
        row(W1, W2, stage="done", _count=4),
        row(W1, W2, stage="other", _count=99),
        row(W2, W3, stage="start", _count=3),
        row(W2, W3, stage="done", _count=0),
    ]
    # week 1: 4 / (10 + 4); week 2: 0 / 3
    assert rate(rows, RATE_OPTIONS) == [
        {"_start_at": W1, "_end_at": W2, "rate": pytest.approx(4 / 14)},
        {"_start_at": W2, "_end_at": W3, "rate": 0.0},
    ]


def test_rate_sums_the_value_attribute_and_gives_null_for_a_zero_denominator():
    rows = [
        row(W1, W2, stage="done", **{"value:sum": 6}),
        row(W1, W2, stage="start", **{"value:sum": 2}),
        row(W2, W3, stage="done", **{"value:sum": 5}),
        row(W2, W3, stage="start", **{"value:sum": None}),
    ]
    options = {**RATE_OPTIONS, "denominatorMatcher": "start", "valueAttribute": "value:sum"}
    assert rate(rows, options) == [
        {"_start_at": W1, "_end_at": W2, "rate": 3.0},
        {"_start_at": W2, "_end_at": W3, "rate": None},
    ]


def test_rate_matches_from_the_start_of_the_value():
    rows = [row(W1, W2, stage="undone", _count=5), row(W1, W2, stage="done", _count=1)]
    assert rate(rows, {**RATE_OPTIONS, "denominatorMatcher": ".*"})[0]["rate"] == 1 / 6


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, "options.matchingAttribute must be a non-empty string"),
        (
            {**RATE_OPTIONS, "numeratorMatcher": "("},
            "options.numeratorMatcher is not a valid regex",
        ),
        ({**RATE_OPTIONS, "denominatorMatcher": 3}, "options.denominatorMatcher must be"),
    ],
)
def test_rate_rejects_bad_options_even_without_rows(options, message):
    with pytest.raises(ValueError, match=message):
        rate([], options)


MAPPING_OPTIONS = {
    "mappingKeys": ["channel"],
    "mappings": {"^(web|online)": "digital", "^(phone|post)": "assisted"},
}


def test_mapping_relabels_and_sums_per_period():
    rows = [
        row(W1, W2, channel="web", _count=2),
        row(W1, W2, channel="online-form", _count=3),
        row(W1, W2, channel="phone", _count=1),
        row(W1, W2, channel="kiosk", _count=7),
        row(W2, W3, channel="post", _count=4),
    ]
    assert mapping(rows, MAPPING_OPTIONS) == [
        {"_start_at": W1, "_end_at": W2, "channel": "digital", "count": 5},
        {"_start_at": W1, "_end_at": W2, "channel": "assisted", "count": 1},
        {"_start_at": W1, "_end_at": W2, "channel": "kiosk", "count": 7},
        {"_start_at": W2, "_end_at": W3, "channel": "assisted", "count": 4},
    ]


def test_mapping_accepts_the_older_hyphenated_option_names():
    rows = [
        row(W1, W2, channel="web", device="ios", **{"n:sum": 2}),
        row(W1, W2, channel="online", device="ios", **{"n:sum": 3.5}),
        row(W1, W2, channel="web", device="android", **{"n:sum": 1}),
    ]
    options = {
        "mapping-keys": ["channel", "device"],
        "mappings": {"web|online": "digital"},
        "value-attribute": "n:sum",
    }
    assert mapping(rows, options) == [
        {"_start_at": W1, "_end_at": W2, "channel": "digital", "device": "ios", "n_sum": 5.5},
        {"_start_at": W1, "_end_at": W2, "channel": "digital", "device": "android", "n_sum": 1},
    ]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"mappings": {"a": "b"}}, "options.mappingKeys must be a list"),
        ({"mappingKeys": ["c"]}, "options.mappings must be an object"),
        ({"mappingKeys": ["c"], "mappings": {"(": "x"}}, "is not a valid regex"),
    ],
)
def test_mapping_rejects_bad_options_even_without_rows(options, message):
    with pytest.raises(ValueError, match=message):
        mapping([], options)


def test_user_satisfaction_counts_totals_and_scores():
    rows = [
        row(W1, W2, **{"rating_1:sum": 1, "rating_5:sum": 3}),
        row(W2, W3, rating_3=2),
        row(W3, W3, _count=0),
    ]
    # week 1: mean (1*1 + 5*3) / 4 = 4 → (4 - 1) / 4 = 0.75; week 2: all 3s → 0.5
    assert user_satisfaction(rows, {}) == [
        {"_start_at": W1, "_end_at": W2, "rating_1": 1, "rating_2": 0, "rating_3": 0,
         "rating_4": 0, "rating_5": 3, "total": 4, "score": 0.75},
        {"_start_at": W2, "_end_at": W3, "rating_1": 0, "rating_2": 0, "rating_3": 2,
         "rating_4": 0, "rating_5": 0, "total": 2, "score": 0.5},
        {"_start_at": W3, "_end_at": W3, "rating_1": 0, "rating_2": 0, "rating_3": 0,
         "rating_4": 0, "rating_5": 0, "total": 0, "score": None},
    ]  # fmt: skip


def test_user_satisfaction_extremes_and_group_fields():
    rows = [
        {"service": "tax", "rating_1:sum": 5, "_count": 5},
        {"service": "vat", "rating_5:sum": 2, "_count": 2},
    ]
    out = user_satisfaction(rows, {})
    assert [(r["service"], r["total"], r["score"]) for r in out] == [
        ("tax", 5, 0.0),
        ("vat", 2, 1.0),
    ]
