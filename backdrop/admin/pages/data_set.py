"""One data set's page: its latest records (paginated), the fields seen,
transforms, and a curl command for writing to it."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from backdrop.admin import links
from backdrop.admin.declare import page
from backdrop.core import uploads
from backdrop.core.catalog import Catalog
from backdrop.core.data_sets import DataSetConfig
from backdrop.core.query import Sort, Where
from backdrop.core.storage.base import RecordStore
from backdrop.errors import BadRequest
from backdrop.web.extension import services

blueprint = Blueprint("data_set", __name__)

PAGE_SIZE = 25
MAX_PAGE = 200  # deeper than this, the export API (/records) pages through everything
FIELD_SAMPLE = 500  # the fields seen are those of the latest records
NEWEST_FIRST = Sort("_updated_at", descending=True)


def page_number(text: str | None) -> int:
    if text is None:
        return 1
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_PAGE:
        raise BadRequest(
            f"page must be a whole number from 1 to {MAX_PAGE}",
            detail=f"got {text[:40]!r}; older records are in the read app's export "
            "(GET /data/<group>/<type>/records)",
        )
    return int(text)


def fields_seen(records: list[dict]) -> list[str]:
    """Every key of ``records``, the data's own first, then the internal ones."""
    keys = {key for record in records for key in record}
    return sorted(keys, key=lambda key: (key.startswith("_"), key))


def rollup_built(store: RecordStore, config: DataSetConfig) -> bool | None:
    """Whether the engine has built the rollup the config declares (None: it
    declares none); until then queries read the records."""
    if config.rollup is None:
        return None
    state = store.state(config.name)
    return state.ready and state.rollup == config.rollup


@blueprint.get("/data-sets/<name>")
@page("A data set: latest records (?page=), fields, transforms, curl", 400, 404)
def show(name: str) -> str:
    backdrop = services()
    config = backdrop.registry.get(name)
    page = page_number(request.args.get("page"))
    store = backdrop.engine.records
    found = store.find(name, Where(), NEWEST_FIRST, page * PAGE_SIZE + 1)
    records = found[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    fields = fields_seen(store.find(name, Where(), NEWEST_FIRST, FIELD_SAMPLE))
    curl = (
        f"curl -X POST '{links.write_url()}/data/{config.data_group}/{config.data_type}' \\\n"
        '  -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" \\\n'
        """  -d '[{"_timestamp": "2024-01-01T00:00:00Z", "value": 1}]'"""
    )
    return render_template(
        "data_sets/show.html",
        config=config,
        count=store.count(name),
        last_updated=store.last_updated(name),
        records=records,
        columns=fields_seen(records),
        fields=fields,
        page=page,
        has_next=len(found) > page * PAGE_SIZE and page < MAX_PAGE,
        transforms=Catalog(backdrop.engine).list_transforms(name),
        uploads=uploads.history(backdrop.engine, config),
        rollup_built=rollup_built(store, config),
        curl=curl,
        read_url=f"{links.read_url()}/data/{config.data_group}/{config.data_type}",
    )
