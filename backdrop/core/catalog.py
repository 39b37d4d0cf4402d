"""Data-set configs and transforms as documents, with unique names and addresses.

Every engine keeps these in its document store (``backdrop.core.storage.base``):

- ``data_set/<name>``: the config, as ``DataSetConfig.document()`` gives it;
- ``data_set_address/<group>/<type>``: ``{"name": …}``, so that an address
  belongs to one data set even when two processes create data sets at once
  (the create-only put decides the race);
- ``transform/<id>``: ``{"data_set": …, "transform": {…}}``; ids sort oldest first.

``backdrop.core.data_sets.Registry`` owns the rules of configs and tokens;
this module only keeps them consistent in storage.
"""

from __future__ import annotations

import builtins
import os
import time
from typing import Any

from backdrop.core import messages
from backdrop.core.sources.store import Sources
from backdrop.core.storage.base import JSONObject, StorageEngine
from backdrop.errors import Conflict, NotFound, VersionConflict

DATA_SET = "data_set"
ADDRESS = "data_set_address"
TRANSFORM = "transform"
UPLOAD = "upload"  # upload history entries (backdrop.core.uploads)


def _address(data_group: str, data_type: str) -> str:
    return f"{data_group}/{data_type}"


def _transform_id() -> str:
    """Nanoseconds since the epoch (16 hex digits until 2554), then 32 random bits."""
    return f"{time.time_ns():016x}{os.urandom(4).hex()}"


class Catalog:
    """The stored configs and transforms of every data set."""

    def __init__(self, engine: StorageEngine):
        self.engine = engine
        self.documents = engine.documents

    def create(self, config: JSONObject) -> None:
        """Store a new config and prepare its records. ``Conflict`` names what
        clashed when the name or the (data_group, data_type) pair is taken."""
        name = config["name"]
        try:
            self.documents.put(DATA_SET, name, config, expected_version=0)
        except VersionConflict:
            raise Conflict(messages.name_taken(name)) from None
        try:
            self._claim(name, config["data_group"], config["data_type"])
            self.engine.records.create(name)
        except BaseException:
            # _release frees the address only if this create got it.
            self._release(name, config["data_group"], config["data_type"])
            self.documents.delete(DATA_SET, name)
            raise

    def _release(self, name: str, data_group: str, data_type: str) -> None:
        """Give up an address, if ``name`` holds it."""
        address = _address(data_group, data_type)
        owner = self.documents.get(ADDRESS, address)
        if owner is not None and owner.body["name"] == name:
            self.documents.delete(ADDRESS, address, expected_version=owner.version)

    def _claim(self, name: str, data_group: str, data_type: str) -> None:
        address = _address(data_group, data_type)
        try:
            self.documents.put(ADDRESS, address, {"name": name}, expected_version=0)
        except VersionConflict:
            owner = self.documents.get(ADDRESS, address)
            if owner is not None and owner.body["name"] == name:
                return
            owner_name = owner.body["name"] if owner else "another"
            raise Conflict(messages.address_taken(owner_name, data_group, data_type)) from None

    def get(self, name: str) -> JSONObject | None:
        document = self.documents.get(DATA_SET, name)
        return None if document is None else document.body

    def find(self, data_group: str, data_type: str) -> JSONObject | None:
        owner = self.documents.get(ADDRESS, _address(data_group, data_type))
        if owner is None:
            return None
        config = self.get(owner.body["name"])
        if config is None or (config["data_group"], config["data_type"]) != (data_group, data_type):
            return None  # an address left behind by a create or update that failed midway
        return config

    def list(self) -> builtins.list[JSONObject]:
        """Every config, sorted by name."""
        return [document.body for document in self.documents.list(DATA_SET)]

    def update(self, name: str, config: JSONObject) -> None:
        """Replace the config of ``name`` (its name never changes); ``Conflict``
        if the new address is another data set's, ``NotFound`` if unknown."""
        config = {**config, "name": name}
        current = self.documents.get(DATA_SET, name)
        if current is None:
            raise NotFound(messages.no_data_set(name))
        old = (current.body["data_group"], current.body["data_type"])
        new = (config["data_group"], config["data_type"])
        if new != old:
            self._claim(name, *new)
        try:
            self.documents.put(DATA_SET, name, config, expected_version=current.version)
        except BaseException:
            if new != old:
                self._release(name, *new)
            raise
        if new != old:
            self.documents.delete(ADDRESS, _address(*old))

    def delete(self, name: str) -> bool:
        """Remove the config, its address, its transforms, its upload history,
        its sources (with their runs) and all its records."""
        current = self.documents.get(DATA_SET, name)
        if current is None:
            return False
        for kind in (TRANSFORM, UPLOAD):  # the data set's own documents go with it
            for document in self.documents.list(kind, {"data_set": name}):
                self.documents.delete(kind, document.id)
        sources = Sources(self.engine)
        for source in sources.list(name):
            sources.remove(source.id)
        self.engine.records.drop(name)
        self.documents.delete(DATA_SET, name)
        self._release(name, current.body["data_group"], current.body["data_type"])
        return True

    def add_transform(self, data_set: str, transform: JSONObject) -> str:
        """Store a transform of ``data_set``; returns its new id."""
        body = {k: v for k, v in transform.items() if k != "id"}
        transform_id = _transform_id()
        self.documents.put(
            TRANSFORM, transform_id, {"data_set": data_set, "transform": body}, expected_version=0
        )
        return transform_id

    def list_transforms(self, data_set: str) -> builtins.list[dict[str, Any]]:
        """The data set's transforms, oldest first, each with its ``id``."""
        documents = self.documents.list(TRANSFORM, {"data_set": data_set})
        return [{**document.body["transform"], "id": document.id} for document in documents]

    def remove_transform(self, data_set: str, transform_id: str) -> bool:
        document = self.documents.get(TRANSFORM, transform_id)
        if document is None or document.body["data_set"] != data_set:
            return False
        return self.documents.delete(TRANSFORM, transform_id)
