"""The `backdrop` command line: serve, and data-set management on the database."""

from __future__ import annotations

import json
import sys

import pytest
from click.testing import CliRunner

from backdrop import cli
from backdrop.core.data_sets import Registry
from backdrop.core.storage import open_engine


@pytest.fixture
def database_url(tmp_path):
    return f"sqlite:///{tmp_path}/cli.db"


@pytest.fixture
def run(database_url):
    runner = CliRunner()

    def invoke(*args, input=None, code=0):
        result = runner.invoke(
            cli.main, list(args), input=input, env={"BACKDROP_DATABASE_URL": database_url}
        )
        assert result.exit_code == code, result.output
        return result

    return invoke


@pytest.fixture
def registry(database_url):
    engine = open_engine(database_url)
    yield Registry(engine)
    engine.close()


def test_create_prints_config_and_token(run, registry):
    result = run("data-sets", "create", "things", "realtime=true", "--config", '{"data_type": "t"}')
    shown = json.loads(result.stdout)
    assert shown["name"] == "things" and shown["realtime"] is True and shown["data_type"] == "t"
    config = registry.get("things")
    assert config.token_matches(shown["bearer_token"])


def test_create_reports_bad_config_and_conflicts(run):
    result = run("data-sets", "create", "Bad Name", code=1)
    assert "name is required and must match" in result.output
    run("data-sets", "create", "things")
    assert "Error" in run("data-sets", "create", "things", code=1).output


def test_list_and_show_never_print_tokens(run):
    token = json.loads(run("data-sets", "create", "bbb").stdout)["bearer_token"]
    run("data-sets", "create", "aaa", "data_group=g", "data_type=t")
    listing = run("data-sets", "list").stdout
    assert listing.splitlines() == ["aaa\t/data/g/t", "bbb\t/data/bbb/bbb"]
    as_json = json.loads(run("data-sets", "list", "--json").stdout)
    assert [c["name"] for c in as_json] == ["aaa", "bbb"]
    shown = run("data-sets", "show", "bbb").stdout
    assert json.loads(shown)["name"] == "bbb"
    assert token not in shown + listing and "token_hash" not in shown


def test_show_unknown_fails_saying_where_it_looked(run, database_url):
    run("data-sets", "create", "things")
    result = run("data-sets", "show", "nope", code=1)
    path = database_url.removeprefix("sqlite:///")
    assert result.stderr.splitlines()[-1] == (
        f"Error: no data set named 'nope' in SQLite file {path}; "
        "'backdrop data-sets list' shows the ones there"
    )


def test_update(run, registry):
    run("data-sets", "create", "things")
    run("data-sets", "update", "things", "published=false", "max_age_expected=null")
    config = registry.get("things")
    assert config.published is False and config.max_age_expected is None
    assert "cannot be changed" in run("data-sets", "update", "things", "name=x", code=1).output
    run("data-sets", "update", "things", code=2)


def test_rotate_token(run, registry):
    old = json.loads(run("data-sets", "create", "things").stdout)["bearer_token"]
    new = run("data-sets", "rotate-token", "things").stdout.strip()
    config = registry.get("things")
    assert config.token_matches(new) and not config.token_matches(old)


def test_delete_asks_first(run, registry):
    run("data-sets", "create", "things")
    run("data-sets", "delete", "things", input="n\n", code=1)
    assert registry.find_by_name("things") is not None
    assert "Deleted things" in run("data-sets", "delete", "things", "--yes").output
    assert registry.find_by_name("things") is None
    run("data-sets", "delete", "things", "--yes", code=1)


STAGECRAFT = [
    {
        "name": "carers_allowance_journey",
        "data_group": "carers-allowance",
        "data_type": "journey",
        "bearer_token": "plain-old-token",
        "raw_queries_allowed": False,
        "upload_format": "",
        "upload_filters": None,
        "auto_ids": "_timestamp, stage",
        "queryable": True,
        "realtime": False,
        "capped_size": None,
        "max_age_expected": 86400,
        "published": True,
        "schema": {},
        "id": 41,
    },
    {"name": "no_token", "bearer_token": None},
    {"name": "Bad Name"},
]


def test_import_a_stagecraft_export_keeps_tokens(run, registry, tmp_path):
    path = tmp_path / "export.json"
    path.write_text(json.dumps(STAGECRAFT))
    result = run("data-sets", "import", str(path), code=1)
    assert "created carers_allowance_journey (ignored: id)" in result.output
    assert "2 created, 0 skipped, 1 failed" in result.output
    config = registry.get("carers_allowance_journey")
    assert config.token_matches("plain-old-token")
    assert config.auto_ids == ["_timestamp", "stage"]
    assert config.raw_queries_allowed is False and config.upload_format == "csv"
    assert config.capped_size is None and config.max_age_expected == 86400
    line = next(x for x in result.output.splitlines() if x.startswith("created no_token"))
    new_token = line.split("new bearer token ")[1]
    assert registry.get("no_token").token_matches(new_token)
    again = run("data-sets", "import", str(path), code=1)
    assert "0 created, 2 skipped, 1 failed" in again.output


def test_import_rejects_a_file_that_is_not_a_list_of_objects(run, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text("[1, 2]")
    assert "must hold a JSON list" in run("data-sets", "import", str(path), code=1).output
    path.write_text("{oops")
    assert "is not JSON" in run("data-sets", "import", str(path), code=1).output


def test_a_bad_setting_is_a_readable_error(tmp_path):
    result = CliRunner().invoke(
        cli.main, ["data-sets", "list"], env={"BACKDROP_MAX_BODY_BYTES": "lots"}
    )
    assert result.exit_code == 1
    assert "BACKDROP_MAX_BODY_BYTES" in result.output


@pytest.mark.parametrize(
    ("args", "target", "bind"),
    [
        (["read"], "backdrop.read:create_app()", "0.0.0.0:3038"),
        (["write"], "backdrop.write:create_app()", "0.0.0.0:3039"),
        (
            ["write", "--port", "8000", "--host", "localhost"],
            "backdrop.write:create_app()",
            "localhost:8000",
        ),
    ],
)
def test_serve_execs_gunicorn_on_the_app_factory(monkeypatch, args, target, bind):
    calls = []
    monkeypatch.setattr(cli.os, "execv", lambda path, argv: calls.append((path, argv)))
    result = CliRunner().invoke(cli.main, ["serve", *args], env={})
    assert result.exit_code == 0, result.output
    ((path, argv),) = calls
    assert path == sys.executable
    assert argv[1:6] == ["-m", "gunicorn", "--config", "python:backdrop.gunicorn_conf", target]
    assert argv[argv.index("--bind") + 1] == bind


def test_serve_rejects_unknown_apps():
    assert CliRunner().invoke(cli.main, ["serve", "worker"]).exit_code == 2
