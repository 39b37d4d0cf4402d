"""CSV cells that a spreadsheet would run as formulas are written as text
(OWASP's CSV-injection rule), in the read API's CSV and in the export."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from backdrop.core.records import prepare_records
from backdrop.read import create_app
from backdrop.settings import Settings

HOSTILE = ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tlead", "\rcr"]


@pytest.fixture
def client(tmp_path):
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path}/t.db", log_level="WARNING"))
    services = app.extensions["backdrop"]
    config, _ = services.registry.create({"name": "cells"})
    records = [{"_id": f"r{i}", "text": text, "num": -5} for i, text in enumerate(HOSTILE)]
    records.append({"_id": "plain", "text": "a - b = c", "num": -5})
    services.engine.records.save("cells", prepare_records(records, config, datetime.now(UTC)))
    yield app.test_client()
    services.engine.close()


def cells(body: bytes) -> dict[str, dict[str, str]]:
    return {row["_id"]: row for row in csv.DictReader(io.StringIO(body.decode()))}


@pytest.mark.parametrize(
    "path", ["/data/cells/cells?format=csv", "/data/cells/cells/records?format=csv"]
)
def test_formula_leading_text_is_prefixed_with_a_quote_and_numbers_are_not(client, path):
    response = client.get(path)
    assert response.status_code == 200
    rows = cells(response.get_data())
    for i, text in enumerate(HOSTILE):
        assert rows[f"r{i}"]["text"] == "'" + text
        assert rows[f"r{i}"]["num"] == "-5"
    assert rows["plain"]["text"] == "a - b = c"
