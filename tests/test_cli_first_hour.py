"""What a newcomer meets on the command line: the version, which database a
command used, no silently created database, whole plain help, one error line."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import click
import pytest
import requests
from click.testing import CliRunner

from backdrop import __version__, cli
from backdrop.testing import ROOT, free_port, stop


def invoke(*args, env=None):
    return CliRunner().invoke(cli.main, list(args), env=env or {})


def test_version():
    result = invoke("--version")
    assert result.exit_code == 0 and result.stdout.strip() == f"backdrop, version {__version__}"


def test_commands_name_their_database_and_an_empty_list_says_so(tmp_path):
    env = {"BACKDROP_DATABASE_URL": f"sqlite:///{tmp_path}/c.db"}
    assert invoke("data-sets", "create", "things", env=env).exit_code == 0
    invoke("data-sets", "delete", "things", "--yes", env=env)
    result = invoke("data-sets", "list", env=env)
    assert result.exit_code == 0 and result.stdout == ""
    assert result.stderr.splitlines() == [
        f"database: SQLite file {tmp_path}/c.db",
        f"no data sets in SQLite file {tmp_path}/c.db",
    ]


@pytest.mark.parametrize(
    "args", [("data-sets", "list"), ("data-sets", "show", "x"), ("transforms", "list", "x")]
)
def test_read_only_commands_never_create_a_missing_sqlite_file(tmp_path, monkeypatch, args):
    monkeypatch.chdir(tmp_path)
    result = invoke(*args)
    assert result.exit_code == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"Error: no database at {tmp_path}/var/backdrop.db ")
    assert "BACKDROP_DATABASE_URL" in line
    assert not (tmp_path / "var").exists()


def _commands(group: click.Group, prefix=()):
    for name, command in group.commands.items():
        yield (*prefix, name), command
        if isinstance(command, click.Group):
            yield from _commands(command, (*prefix, name))


@pytest.mark.parametrize("path", [p for p, _ in _commands(cli.main)], ids=" ".join)
def test_help_texts_are_whole_and_plain(path):
    command = dict(_commands(cli.main))[path]
    short = command.get_short_help_str(limit=80)
    assert not short.endswith("...") and not short.endswith("e.g."), short
    result = invoke(*path, "--help")
    assert result.exit_code == 0
    assert "``" not in result.stdout and "``" not in short


def test_an_unreachable_postgresql_is_one_error_line():
    env = {**os.environ, "BACKDROP_DATABASE_URL": f"postgresql://u@127.0.0.1:{free_port()}/db"}
    result = subprocess.run(
        [sys.executable, "-m", "backdrop", "data-sets", "create", "x"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    errors = [line for line in result.stderr.splitlines() if not line.startswith("database: ")]
    assert errors == [
        "Error: The database is unavailable (cannot reach PostgreSQL), please retry later"
    ]


@pytest.mark.slow
def test_start_app_goes_through_backdrop_serve_with_an_access_log(tmp_path):
    port = free_port()
    env = {**os.environ, "BACKDROP_DATABASE_URL": f"sqlite:///{tmp_path}/s.db"}
    log = tmp_path / "app.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["./start-app.sh", "read", str(port), "127.0.0.1"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                requests.get(f"http://127.0.0.1:{port}/", timeout=2)
                break
            except requests.RequestException:
                time.sleep(0.1)
        time.sleep(0.5)
    finally:
        stop(process)
    text = log.read_text()
    assert f"Listening at: http://127.0.0.1:{port}" in text
    assert '"GET / HTTP/1.1" 200' in text
