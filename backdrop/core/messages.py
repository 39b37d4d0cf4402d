"""Messages that more than one module raises, defined once.

The wording of ``no_data_set`` is the original Backdrop's, which clients
match on (docs/api.md, "Write API"); the others are Backdrop's own.
"""

from __future__ import annotations


def no_data_set(name: str) -> str:
    return f'No collection exists with name "{name}"'


def name_taken(name: str) -> str:
    return f'A data set named "{name}" already exists'


def address_taken(owner: str, data_group: str, data_type: str) -> str:
    return f'Data set "{owner}" already has data_group "{data_group}" and data_type "{data_type}"'


def unstorable(where: str, key: str, reason: str) -> str:
    """A value an engine cannot keep: ``where`` names the record (``record 2``)."""
    return f"{where}: {key} cannot be stored ({reason})"
