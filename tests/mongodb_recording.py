"""A recording proxy over a mongomock client, so tests can check every filter
and pipeline the MongoDB engine sends against what MongoDB 4.4 accepts."""

from __future__ import annotations

from typing import Any

# Query, update, stage and expression operators of MongoDB 4.4 that the engine may use.
ALLOWED_OPERATORS = frozenset(
    "$eq $ne $gt $gte $lt $lte $in $nin $and $or $not $exists $type $regex "
    "$set $inc $unset $setOnInsert "
    "$match $group $sort $project $limit "
    "$sum $max $min $cond $isNumber $bsonSize $ifNull $map $objectToArray $addToSet".split()
)
VARIABLES = frozenset({"$$ROOT", "$$this"})
RECORDED = frozenset(
    "find find_one aggregate count_documents insert_one update_one replace_one "
    "find_one_and_update find_one_and_delete delete_one delete_many create_indexes".split()
)


def operators(value: Any) -> set[str]:
    """Every ``$`` key and ``$$`` variable inside ``value``."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            if key.startswith("$"):
                found.add(key)
            found |= operators(item)
    elif isinstance(value, list | tuple):
        for item in value:
            found |= operators(item)
    elif isinstance(value, str) and value.startswith("$$"):
        found.add(value.split(".")[0])
    return found


def regexes(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [v for k, v in value.items() if k == "$regex"] + [
            r for item in value.values() for r in regexes(item)
        ]
    if isinstance(value, list | tuple):
        return [r for item in value for r in regexes(item)]
    return []


class Call:
    def __init__(self, namespace: str, method: str, args: tuple, kwargs: dict):
        self.namespace, self.method, self.args, self.kwargs = namespace, method, args, kwargs

    def problems(self) -> list[str]:
        found = []
        unknown = operators(self.args) - ALLOWED_OPERATORS - VARIABLES
        if unknown:
            found.append(f"{self.method} uses operators beyond MongoDB 4.4: {sorted(unknown)}")
        if any("\0" in pattern for pattern in regexes(self.args)):
            found.append(f"{self.method} sends a regex holding NUL")
        sorted_find = self.method in ("find", "find_one") and self.kwargs.get("sort")
        sorted_pipeline = self.method == "aggregate" and "$sort" in operators(self.args[0])
        if sorted_find and not self.kwargs.get("allow_disk_use"):
            found.append(f"{self.method} sorts without allow_disk_use")
        if sorted_pipeline and not self.kwargs.get("allowDiskUse"):
            found.append("aggregate sorts without allowDiskUse")
        if len(self.namespace.encode()) > 255:
            found.append(f"namespace over 255 bytes: {self.namespace[:40]}…")
        return found


class _Collection:
    def __init__(self, collection: Any, calls: list[Call]):
        self._collection, self._calls = collection, calls

    def with_options(self, **options: Any) -> _Collection:
        return _Collection(self._collection.with_options(**options), self._calls)

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._collection, name)
        if name not in RECORDED:
            return attribute

        def recorded(*args: Any, **kwargs: Any) -> Any:
            self._calls.append(Call(self._collection.full_name, name, args, kwargs))
            return attribute(*args, **kwargs)

        return recorded


class _Database:
    def __init__(self, database: Any, calls: list[Call]):
        self._database, self._calls = database, calls

    def __getitem__(self, name: str) -> _Collection:
        return _Collection(self._database[name], self._calls)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._database, name)


class RecordingClient:
    """Wraps a mongomock client; ``calls`` lists every collection call made."""

    def __init__(self, client: Any):
        self._client = client
        self.calls: list[Call] = []

    def get_database(self, name: str, **options: Any) -> _Database:
        return _Database(self._client.get_database(name, **options), self.calls)

    def __getitem__(self, name: str) -> _Database:
        return _Database(self._client[name], self.calls)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def problems(self) -> list[str]:
        return [problem for call in self.calls for problem in call.problems()]
