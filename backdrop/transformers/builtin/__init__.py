"""Built-in transforms: pure functions from a flattened query result to records.

Each takes ``(rows, options)``: ``rows`` are the flat rows of the transform's
read query (group fields, ``_start_at``/``_end_at`` as datetimes when the
query has a period, ``_count`` and ``field:method`` collect keys), and
returns output records. The runner adds ``_id``, ``_timestamp`` and
``options.additionalFields``.
"""
