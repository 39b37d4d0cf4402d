"""``backdrop sources …`` against a SQLite file and a real file server."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from backdrop import cli
from backdrop.core.data_sets import Registry
from backdrop.core.storage import open_engine
from tests.file_server import FileServer, Reply


@pytest.fixture
def server():
    with FileServer() as running:
        running.routes["/ok.csv"] = Reply(b"_id,count\na,1\nb,2\n")
        running.routes["/bad.csv"] = Reply(b"down", 503)
        yield running


@pytest.fixture
def run(tmp_path):
    url = f"sqlite:///{tmp_path}/cli.db"
    engine = open_engine(url)
    Registry(engine).create({"name": "pulled"})
    engine.close()
    env = {"BACKDROP_DATABASE_URL": url, "BACKDROP_SOURCES_ALLOW_PRIVATE": "true"}

    def invoke(*args, code=0):
        result = CliRunner().invoke(cli.main, list(args), env=env)
        assert result.exit_code == code, result.output
        return result

    return invoke


def add(run, url, **fields):
    body = {"url": url, "format": "csv", "schedule": "every 1h", **fields}
    return json.loads(run("sources", "add", "pulled", json.dumps(body)).stdout)["id"]


def test_add_list_run_history_remove(run, server):
    source = add(run, f"{server.url}/ok.csv")
    assert [s["id"] for s in json.loads(run("sources", "list", "pulled").stdout)] == [source]
    ran = run("sources", "run", "pulled")
    assert f"source {source} of pulled: ok (2 record(s)" in ran.stdout
    again = run("sources", "run", source)
    assert "unchanged" in again.stdout
    history = json.loads(run("sources", "history", source).stdout)
    assert [h["status"] for h in history] == ["unchanged", "ok"]
    assert json.loads(run("sources", "list").stdout)[0]["last_run"]["status"] == "unchanged"
    assert "removed source" in run("sources", "remove", source).stdout
    assert json.loads(run("sources", "list", "pulled").stdout) == []


def test_a_failed_run_exits_1_and_says_why(run, server):
    add(run, f"{server.url}/bad.csv")
    failed = run("sources", "run", "--all", code=1)
    assert "failed (HTTP 503 from" in failed.stderr


def test_bad_commands_are_one_clear_error(run, server):
    assert "not JSON" in run("sources", "add", "pulled", "{nope", code=2).output
    bad = run("sources", "add", "pulled", '{"url": "x", "format": "csv", "schedule": "x"}', code=1)
    assert "url must be an http:// or https:// URL" in bad.output
    assert "no data set named 'nope'" in run("sources", "run", "nope", code=1).output
    assert "give a data set name or a source id, or --all" in run("sources", "run", code=2).output
    assert "No source with id 'zz'" in run("sources", "history", "zz", code=1).output
