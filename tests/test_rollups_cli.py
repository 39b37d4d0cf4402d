"""``backdrop rollups status|build``, and data-set commands that set a rollup
building it before they return (no broker)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

from backdrop import cli
from backdrop.core.data_sets import Registry
from backdrop.core.records import prepare_records
from backdrop.core.storage import open_engine

ROLLUP = ['dimensions=["channel", ["region", "page"]]', 'measures=["count"]']


@pytest.fixture
def database_url(tmp_path):
    return f"sqlite:///{tmp_path}/cli.db"


@pytest.fixture
def run(database_url):
    runner = CliRunner()

    def invoke(*args, code=0):
        env = {"BACKDROP_DATABASE_URL": database_url, "BACKDROP_BROKER_URL": ""}
        result = runner.invoke(cli.main, list(args), env=env)
        assert result.exit_code == code, result.output
        return result

    return invoke


@pytest.fixture
def engine(database_url):
    engine = open_engine(database_url)
    yield engine
    engine.close()


def seed(engine, name: str, count: int) -> None:
    config = Registry(engine).get(name)
    record = {"_timestamp": "2024-01-01T10:00:00Z", "channel": "web"}
    records = [{**record, "count": i} for i in range(count)]
    engine.records.save(name, prepare_records(records, config, datetime.now(UTC)))


def test_status_of_a_data_set_without_a_rollup(run):
    run("data-sets", "create", "plain")
    shown = json.loads(run("rollups", "status", "plain").stdout)
    assert shown["state"] == "none" and shown["rollup"] is None
    assert isinstance(shown["version"], int)


def test_update_builds_before_returning_and_status_shows_it(run, engine):
    run("data-sets", "create", "visits")
    seed(engine, "visits", 3)
    result = run("data-sets", "update", "visits", *ROLLUP)
    assert "built the rollup of visits in" in result.stderr
    shown = json.loads(run("rollups", "status", "visits").stdout)
    assert shown["state"] == "built" and shown["records"] == 3
    assert shown["rollup"] == {
        "groups": [[], ["channel"], ["region", "page"]],
        "measures": ["count"],
        "grain": "day",
    }


def test_status_lists_every_data_set(run):
    run("data-sets", "create", "aaa", *ROLLUP)
    run("data-sets", "create", "bbb")
    shown = json.loads(run("rollups", "status").stdout)
    assert [(s["data_set"], s["state"]) for s in shown] == [("aaa", "built"), ("bbb", "none")]


def test_build_sets_and_builds_a_rollup_that_is_not_built(run, engine):
    run("data-sets", "create", "visits", *ROLLUP)
    engine.records.set_rollup("visits", None)  # as if the set had failed
    seed(engine, "visits", 2)
    assert "not set" in json.loads(run("rollups", "status", "visits").stdout)["state"]
    result = run("rollups", "build", "visits")
    assert result.stdout.startswith("built the rollup of visits in ")
    assert "(version " in result.stdout
    assert json.loads(run("rollups", "status", "visits").stdout)["records"] == 2


def test_build_of_a_data_set_without_a_rollup_says_how_to_declare_one(run):
    run("data-sets", "create", "plain")
    result = run("rollups", "build", "plain", code=1)
    assert "plain declares no dimensions or measures" in result.output
    assert "backdrop data-sets update plain" in result.output


def test_an_unknown_data_set(run):
    run("data-sets", "create", "plain")
    assert "no data set named 'nope'" in run("rollups", "build", "nope", code=1).output
    assert "no data set named 'nope'" in run("rollups", "status", "nope", code=1).output
