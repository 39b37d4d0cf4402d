"""Four processes creating dashboards at once against a small quota: usage
never ends above the quota, the usage document matches what is stored, and
no whitelisted or protected dashboard is evicted (SPEC 11)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from backdrop.core.dashboards.eviction import Limits
from backdrop.core.dashboards.store import Dashboards
from backdrop.core.storage import open_engine
from backdrop.testing import stop
from tests.core.dashboards.conftest import sized

pytestmark = pytest.mark.slow

PROCESSES = 4
EACH = 15
LIMITS = Limits(max_bytes=1000, quota_bytes=3000, threshold=0.9, target=0.5)

# Each process creates its dashboards and prints, as JSON, the highest usage
# it saw after each create and how many creates were refused with 507.
WRITER = """
import json, sys
from backdrop.core.dashboards.eviction import InsufficientStorage, Limits
from backdrop.core.dashboards.store import Dashboards
from backdrop.core.storage import open_engine
from backdrop.testing import stop
from tests.core.dashboards.conftest import sized
url, name, each = sys.argv[1], sys.argv[2], int(sys.argv[3])
store = Dashboards(open_engine(url), Limits(1000, 3000, 0.9, 0.5))
highest, refused = 0, 0
for n in range(each):
    try:
        store.create(sized(f"{name} {n}", 150))
    except InsufficientStorage:
        refused += 1
    highest = max(highest, store.usage()["bytes"])
print(json.dumps({"highest": highest, "refused": refused}))
"""


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/dashboards.db"
    url = request.getfixturevalue("postgres_database_url")
    engine = open_engine(url)
    engine.ping()
    for document in engine.documents.list("dashboard"):
        engine.documents.delete("dashboard", document.id)
    for kind in ("dashboard_quota", "dashboard_fetch"):
        for document in engine.documents.list(kind):
            engine.documents.delete(kind, document.id)
    engine.close()
    return url


def test_concurrent_creates_never_overrun_the_quota_or_evict_exempt_ones(database_url):
    engine = open_engine(database_url)
    store = Dashboards(engine, LIMITS)
    for name, flag in (
        ("keep-a", "whitelisted"),
        ("keep-b", "whitelisted"),
        ("keep-c", "protected"),
    ):
        store.create(sized(name, 100), name)
        store.set_flags(name, **{flag: True})
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, database_url, f"p{n}", str(EACH)],
            stdout=subprocess.PIPE,
            text=True,
            cwd=root,
        )
        for n in range(PROCESSES)
    ]
    results = []
    try:
        for writer in writers:
            out, _ = writer.communicate(timeout=180)
            assert writer.returncode == 0
            results.append(json.loads(out))
    finally:
        for writer in writers:
            stop(writer)
    stored = store.list()
    total = sum(item["size"] for item in stored)
    assert total <= LIMITS.quota_bytes
    assert store.usage() == {"bytes": total, "count": len(stored)}
    assert all(result["highest"] <= LIMITS.quota_bytes for result in results)
    assert sum(result["refused"] for result in results) == 0
    ids = {item["id"] for item in stored}
    assert {"keep-a", "keep-b", "keep-c"} <= ids
    assert len(ids) > 3  # the writers' newest dashboards are there too
    engine.close()
