"""Data-set configuration (SPEC 2) and the registry that stores it.

The registry owns the rules: names, defaults, unique addresses, and write
tokens, which are stored only as SHA-256 hashes and compared in constant
time. Engines just keep the plain JSON documents it hands them.
"""

from __future__ import annotations

import builtins
import hashlib
import hmac
import secrets
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import jsonschema

from backdrop.audit import audit
from backdrop.core import messages, rollup_builds, rollup_config
from backdrop.core.catalog import Catalog
from backdrop.core.names import KEY_PATTERN, NAME_PATTERN
from backdrop.core.rollups import RollupSpec, spec_from_config
from backdrop.core.storage.base import StorageEngine
from backdrop.errors import BadRequest, NotFound

DEFAULT_MAX_AGE = 31 * 24 * 3600


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class DataSetConfig:
    name: str
    data_group: str
    data_type: str
    raw_queries_allowed: bool = True
    queryable: bool = True
    published: bool = True
    realtime: bool = False
    max_age_expected: int | None = DEFAULT_MAX_AGE
    capped_size: int | None = 0
    schema: dict[str, Any] | None = None
    auto_ids: list[str] | None = None
    upload_format: str = "csv"
    upload_filters: list[str] = field(default_factory=list)
    dimensions: list[str | list[str]] | None = None
    measures: list[str] | None = None
    rollup_grain: str = "day"
    token_hash: str = ""

    @property
    def cache_seconds(self) -> int:
        return 120 if self.realtime else 1800

    @property
    def rollup(self) -> RollupSpec | None:
        """The rollup its ``dimensions`` and ``measures`` declare, if any."""
        return spec_from_config(self.dimensions, self.measures, self.rollup_grain)

    def public(self) -> dict[str, Any]:
        """The configuration as the API shows it: never the token or its hash."""
        document = asdict(self)
        del document["token_hash"]
        return document

    def document(self) -> dict[str, Any]:
        """The stored form, handed to the storage engine."""
        return asdict(self)

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> DataSetConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in document.items() if k in known})

    def token_matches(self, token: str) -> bool:
        return bool(self.token_hash) and hmac.compare_digest(hash_token(token), self.token_hash)


_BOOLEAN_FIELDS = ("raw_queries_allowed", "queryable", "published", "realtime")
_EDITABLE = {f.name for f in fields(DataSetConfig)} - {"name", "token_hash"}


def _check_fields(values: dict[str, Any]) -> None:
    """Raise BadRequest naming the first config field with a wrong type or value."""
    for key in _BOOLEAN_FIELDS:
        if key in values and not isinstance(values[key], bool):
            raise BadRequest(f"{key} must be true or false")
    for key in ("data_group", "data_type"):
        value = values.get(key, "")
        if key in values and not (isinstance(value, str) and NAME_PATTERN.fullmatch(value)):
            raise BadRequest(f"{key} must match {NAME_PATTERN.pattern}")
    for key in ("max_age_expected", "capped_size"):
        value = values.get(key)
        is_count = isinstance(value, int) and not isinstance(value, bool) and value >= 0
        if value is not None and not is_count:
            raise BadRequest(f"{key} must be a non-negative integer or null")
    if values.get("schema") is not None:
        schema = values["schema"]
        if not isinstance(schema, dict):
            raise BadRequest("schema must be a JSON Schema object")
        try:
            jsonschema.validators.validator_for(schema).check_schema(schema)
        except jsonschema.SchemaError as error:
            raise BadRequest(f"schema is not a valid JSON Schema: {error.message}") from None
    auto_ids = values.get("auto_ids")
    if auto_ids is not None and not (
        isinstance(auto_ids, list)
        and auto_ids
        and all(isinstance(k, str) and KEY_PATTERN.fullmatch(k) for k in auto_ids)
    ):
        raise BadRequest("auto_ids must be a non-empty list of field names")
    if "upload_format" in values and values["upload_format"] not in ("csv", "excel"):
        raise BadRequest("upload_format must be 'csv' or 'excel'")
    if "upload_filters" in values and not (
        isinstance(values["upload_filters"], list)
        and all(isinstance(f, str) for f in values["upload_filters"])
    ):
        raise BadRequest("upload_filters must be a list of filter names")


def config_from_request(body: Any, *, token_hash: str) -> DataSetConfig:
    """A new data set's config from an admin request body, with defaults filled."""
    if not isinstance(body, dict):
        raise BadRequest("Expected a JSON object describing the data set")
    name = body.get("name")
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise BadRequest("name is required and must match ^[a-z0-9][a-z0-9_-]*$")
    unknown = sorted(set(body) - _EDITABLE - {"name", "bearer_token"})
    if unknown:
        raise BadRequest(f"Unknown data set fields: {', '.join(unknown)}")
    values = {k: v for k, v in body.items() if k in _EDITABLE}
    values.setdefault("data_group", name)
    values.setdefault("data_type", name)
    _check_fields(values)
    rollup_config.check(values)
    return DataSetConfig(name=name, token_hash=token_hash, **values)


class Registry:
    """Data-set configs and write tokens over a storage engine. ``builds``
    builds the rollup a saved config changes (default: at once, here)."""

    def __init__(self, engine: StorageEngine, builds: rollup_builds.Builds | None = None):
        self.engine = engine
        self.catalog = Catalog(engine)
        self.builds = builds or rollup_builds.Now(engine)

    def create(self, body: Any) -> tuple[DataSetConfig, str]:
        """Create a data set; returns its config and the plain token (shown once).

        A ``bearer_token`` in the body is kept (imports from Stagecraft);
        otherwise one is generated.
        """
        token = body.get("bearer_token") if isinstance(body, dict) else None
        if token is not None and not (isinstance(token, str) and token.strip()):
            raise BadRequest("bearer_token must be a non-empty string")
        token = token or new_token()
        config = config_from_request(body, token_hash=hash_token(token))
        self.catalog.create(config.document())
        audit("data_set.create", f"created data set {config.name}", data_set=config.name)
        if config.rollup is not None:
            self._sync_rollup(config.name, config.rollup)
        return config, token

    def get(self, name: str) -> DataSetConfig:
        document = self.catalog.get(name)
        if document is None:
            raise NotFound(messages.no_data_set(name))
        return DataSetConfig.from_document(document)

    def find(self, data_group: str, data_type: str) -> DataSetConfig | None:
        document = self.catalog.find(data_group, data_type)
        return None if document is None else DataSetConfig.from_document(document)

    def find_by_name(self, name: str) -> DataSetConfig | None:
        document = self.catalog.get(name)
        return None if document is None else DataSetConfig.from_document(document)

    def list(self) -> list[DataSetConfig]:
        return [DataSetConfig.from_document(d) for d in self.catalog.list()]

    def update(self, name: str, changes: Any) -> DataSetConfig:
        if not isinstance(changes, dict):
            raise BadRequest("Expected a JSON object of config fields to change")
        unknown = sorted(set(changes) - _EDITABLE)
        if unknown:
            raise BadRequest(f"These fields cannot be changed: {', '.join(unknown)}")
        _check_fields(changes)
        current = self.get(name)
        updated = DataSetConfig.from_document({**current.document(), **changes})
        rollup_config.check(updated.document())
        self.catalog.update(name, updated.document())
        if current.rollup is not None or updated.rollup is not None:
            self._sync_rollup(name, updated.rollup)
        audit(
            "data_set.update",
            f"changed {', '.join(sorted(changes)) or 'nothing'} of data set {name}",
            data_set=name,
            fields=sorted(changes),
        )
        return updated

    def rotate_token(self, name: str) -> str:
        current = self.get(name)
        token = new_token()
        document = {**current.document(), "token_hash": hash_token(token)}
        updated = DataSetConfig.from_document(document)
        self.catalog.update(name, updated.document())
        audit("data_set.rotate_token", f"rotated the token of data set {name}", data_set=name)
        return token

    def _sync_rollup(self, name: str, spec: RollupSpec | None) -> None:
        """Hand the stored config's rollup to the engine. The config is saved
        already, so a failure here is logged, not raised: until the sweep (or
        ``backdrop rollups build``) sets it, queries use the records."""
        try:
            rollup_builds.sync(self.engine, name, spec, self.builds)
        except Exception as error:
            rollup_builds.log_failure(name, error)

    def sweep_rollups(
        self, given_up: dict[str, RollupSpec] | None = None
    ) -> builtins.list[rollup_builds.Built]:
        """Set and build every rollup that a config declares and the engine
        has not built (after a build was lost); see ``rollup_builds.sweep``."""
        wanted = [(c.name, c.rollup) for c in self.list()]
        return rollup_builds.sweep(self.engine, wanted, given_up)

    def delete(self, name: str) -> None:
        if not self.catalog.delete(name):
            raise NotFound(messages.no_data_set(name))
        audit("data_set.delete", f"deleted data set {name} and its records", data_set=name)
