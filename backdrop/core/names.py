"""The naming rules shared by data sets, records, queries and transforms (SPEC 2, 3).

One place, so the registry, record validation and the query parser can never
disagree on what a valid name or key is.
"""

from __future__ import annotations

import re

NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
"""Data-set names, data groups and data types."""

KEY_PATTERN = re.compile(r"^[a-z_][a-z0-9_]+$", re.IGNORECASE)
"""Record keys (two or more characters; a leading underscore marks Backdrop's own)."""

# KEY_PATTERN in words, for the ``detail`` of errors about a bad key.
KEY_RULE = (
    "keys match ^[a-z_][a-z0-9_]+$ in any case "
    "(at least two characters: letters, digits and _, not starting with a digit)"
)
