"""``backdrop transforms list|add|remove|run`` on a temporary SQLite file."""

import json

import pytest
from click.testing import CliRunner

from backdrop.cli import main
from backdrop.core.query import Where
from backdrop.core.storage import open_engine
from tests.transformers.conftest import seed_source

ROLLUP = {
    "type": "rollup",
    "query": {"period": "day", "group_by": ["stage"]},
    "output": {"data_group": "src", "data_type": "daily"},
}


@pytest.fixture
def database_url(tmp_path):
    url = f"sqlite:///{tmp_path}/cli.db"
    engine = open_engine(url)
    seed_source(engine, ("2024-04-01", "2024-04-02"))
    engine.close()
    return url


@pytest.fixture
def run(database_url):
    def invoke(*args, input=None):
        return CliRunner().invoke(
            main, ["transforms", *args], input=input, env={"BACKDROP_DATABASE_URL": database_url}
        )

    return invoke


def stored(database_url, name):
    engine = open_engine(database_url)
    try:
        return engine.records.find(name, Where())
    finally:
        engine.close()


def test_add_list_run_remove(run, database_url, tmp_path):
    added = run("add", "src", json.dumps(ROLLUP))
    assert added.exit_code == 0, added.output
    transform_id = json.loads(added.stdout)["id"]

    config_file = tmp_path / "copy.json"
    config_file.write_text(
        json.dumps({**ROLLUP, "output": {"data_group": "src", "data_type": "copy"}})
    )
    assert run("add", "src", str(config_file)).exit_code == 0
    assert (
        run(
            "add",
            "src",
            "-",
            input=json.dumps({**ROLLUP, "output": {"data_group": "x", "data_type": "y"}}),
        ).exit_code
        == 0
    )

    listed = run("list", "src")
    assert listed.exit_code == 0
    assert [t["output"]["data_type"] for t in json.loads(listed.stdout)] == ["daily", "copy", "y"]

    ran = run("run", "src", "--start", "2024-04-01T00:00:00Z", "--end", "2024-04-02T12:00:00Z")
    assert ran.exit_code == 0, ran.output
    assert (
        f"transform {transform_id}: 4 record(s) to src_daily over "
        "2024-04-01T00:00:00+00:00 – 2024-04-03T00:00:00+00:00"
    ) in ran.output
    assert len(stored(database_url, "src_daily")) == 4

    removed = run("remove", "src", transform_id)
    assert removed.exit_code == 0
    assert transform_id not in [t["id"] for t in json.loads(run("list", "src").stdout)]


def test_errors_are_readable(run):
    unknown = run("add", "src", json.dumps({**ROLLUP, "type": "nope"}))
    assert unknown.exit_code == 1
    assert "Unknown transform type 'nope'" in unknown.output
    assert "not JSON" in run("add", "src", "{oops").output
    missing = run("list", "missing")
    assert missing.exit_code == 1
    assert (
        missing.stderr.strip()
        .splitlines()[-1]
        .startswith("Error: no data set named 'missing' in SQLite file ")
    )
    assert "No transform with id '9'" in run("remove", "src", "9").output
    bad_time = run("run", "src", "--start", "yesterday")
    assert bad_time.exit_code == 2 and "'yesterday' is not an ISO 8601 time" in bad_time.output
    backwards = run("run", "src", "--start", "2024-04-02T00:00:00", "--end", "2024-04-01T00:00:00")
    assert backwards.exit_code == 2 and "must not be before --start" in backwards.output


def test_a_failing_run_exits_non_zero(run):
    failing = {
        **ROLLUP,
        "query": {"period": "day", "group_by": ["stage"], "collect": ["stage2:sum"]},
    }
    assert run("add", "src", json.dumps(failing)).exit_code == 0
    assert run("run", "src", "--start", "2024-04-01T00:00:00Z").exit_code == 0  # nothing to sum
    # A collect over text fails when it runs; the command says so.
    text = {**ROLLUP, "query": {"period": "day", "collect": ["stage:sum"]}}
    text["output"] = {"data_group": "src", "data_type": "bad"}
    assert run("add", "src", json.dumps(text)).exit_code == 0
    result = run("run", "src", "--start", "2024-04-01T00:00:00Z")
    assert result.exit_code == 1
    assert "FAILED" in result.output
