"""Shared fixtures: the ``engine`` fixture runs a test once per storage engine.

- ``sqlite``: a temporary file per test, always.
- ``mongodb``: a real mongod when ``BACKDROP_TEST_MONGODB_URL`` is set (a fresh
  database per test, dropped after it); otherwise mongomock, an in-process
  stand-in, which the terminal report says, behind a recording proxy: after
  each test every filter and pipeline sent is checked against MongoDB 4.4's
  operators, allowDiskUse on sorts, NUL-free regexes and namespace length.
- ``postgresql``: the real server at ``BACKDROP_TEST_POSTGRES_URL`` or
  127.0.0.1:5432, in a scratch database created once per run and dropped at
  the end; every document and record is deleted before and after each test.
  Skipped, with the URL, when the server does not answer.

The terminal summary lists each engine that ran, what it was and its counts.
"""

from __future__ import annotations

import importlib
import os
import secrets
import socket
from collections import Counter, defaultdict
from urllib.parse import urlsplit, urlunsplit

import pytest

ENGINES = ("sqlite", "mongodb", "postgresql")
MODULES = {"sqlite": "sqlite", "mongodb": "mongodb", "postgresql": "postgres"}
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"

_outcomes: dict[str, dict[str, str]] = defaultdict(dict)  # engine → nodeid → outcome
_skip_reasons: dict[str, Counter] = defaultdict(Counter)
_labels: dict[str, str] = {}


def _public(url: str) -> str:
    """The URL without its password, fit for a terminal."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


def _with_database(url: str, database: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{database}"))


def _postgres_url() -> str:
    return os.environ.get("BACKDROP_TEST_POSTGRES_URL") or DEFAULT_POSTGRES_URL


def _mongodb_url() -> str | None:
    return os.environ.get("BACKDROP_TEST_MONGODB_URL") or None


def _accepts_connections(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 5432), 1):
            return True
    except OSError:
        return False


def _engine_module(engine_name: str):
    """The engine's module, or a skip while it is still being written."""
    module_name = f"backdrop.core.storage.{MODULES[engine_name]}"
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name == module_name:
            _labels.setdefault(engine_name, "no engine module")
            pytest.skip("engine module not written yet")
        raise


def _mongodb_label() -> str:
    url = _mongodb_url()
    if url:
        return f"real mongod at {_public(url)} (fresh database per test)"
    return "mongomock, in-process stand-in (set BACKDROP_TEST_MONGODB_URL for a real mongod)"


def _postgres_label(url: str) -> str:
    return f"real server at {_public(url)}"


def pytest_report_header(config):
    postgres = _postgres_url()
    reachable = _accepts_connections(postgres)
    return [
        "storage engines under test:",
        "  sqlite: temporary file per test",
        f"  mongodb: {_mongodb_label()}",
        "  postgresql: "
        + (
            _postgres_label(postgres) + " (scratch database per run)"
            if reachable
            else f"not reachable at {_public(postgres)}: skipped"
        ),
    ]


@pytest.fixture(scope="session")
def postgres_database_url():
    """A scratch database on the PostgreSQL server, dropped after the run."""
    _engine_module("postgresql")
    import psycopg

    server = _postgres_url()
    admin_url = _with_database(server, "postgres")
    try:
        admin = psycopg.connect(admin_url, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as error:
        _labels["postgresql"] = f"not reachable at {_public(server)}"
        reason = str(error).strip().splitlines()[0]
        pytest.skip(f"PostgreSQL not reachable at {_public(server)}: {reason}")
    name = f"backdrop_test_{secrets.token_hex(6)}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        url = _with_database(server, name)
        _labels["postgresql"] = _postgres_label(url)
        try:
            yield url
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def mongodb_admin():
    """A client of the real mongod, checked once per run."""
    import pymongo

    server = _mongodb_url()
    admin = pymongo.MongoClient(server, serverSelectionTimeoutMS=3000)
    try:
        admin.admin.command("ping")
    except pymongo.errors.PyMongoError as error:
        admin.close()
        _labels["mongodb"] = f"not reachable at {_public(server)}"
        pytest.skip(f"MongoDB not reachable at {_public(server)} ({type(error).__name__})")
    yield admin
    admin.close()


def _wipe_postgres(engine, url: str) -> None:
    """Delete every document and every data set's records (Catalog-listed or
    not) from the run's scratch database; ``ping`` creates the tables first."""
    import psycopg

    engine.ping()
    with psycopg.connect(url, connect_timeout=3) as conn:
        conn.execute("DELETE FROM documents")
        conn.execute("DELETE FROM backdrop_records")
        conn.execute("DELETE FROM backdrop_rollups")
        conn.execute("DELETE FROM backdrop_state")


def _sqlite(request, tmp_path):
    module = _engine_module("sqlite")
    _labels["sqlite"] = "temporary file per test"
    engine = module.SQLiteEngine(f"sqlite:///{tmp_path}/backdrop.db")
    yield engine
    engine.close()


def _mongodb(request, tmp_path):
    module = _engine_module("mongodb")
    database = f"backdrop_test_{secrets.token_hex(6)}"
    server = _mongodb_url()
    if server is None:
        import mongomock

        from tests.mongodb_recording import RecordingClient

        _labels["mongodb"] = _mongodb_label()
        client = RecordingClient(mongomock.MongoClient(tz_aware=True))
        engine = module.MongoEngine(f"mongodb://localhost:27017/{database}", client=client)
        yield engine
        engine.close()
        # Every filter and pipeline sent must be one MongoDB 4.4 accepts.
        assert client.calls and client.problems() == []
        return
    admin = request.getfixturevalue("mongodb_admin")
    _labels["mongodb"] = _mongodb_label()
    engine = module.MongoEngine(_with_database(server, database))
    try:
        yield engine
    finally:
        engine.close()
        admin.drop_database(database)


def _postgresql(request, tmp_path):
    module = _engine_module("postgresql")
    url = request.getfixturevalue("postgres_database_url")
    engine = module.PostgresEngine(url)
    _wipe_postgres(engine, url)
    try:
        yield engine
    finally:
        _wipe_postgres(engine, url)
        engine.close()


_FACTORIES = {"sqlite": _sqlite, "mongodb": _mongodb, "postgresql": _postgresql}


@pytest.fixture(params=ENGINES)
def engine(request, tmp_path):
    """A fresh, empty storage engine of each kind (see the module docstring)."""
    yield from _FACTORIES[request.param](request, tmp_path)


@pytest.fixture
def engines(request, tmp_path_factory):
    """Every engine that can run here, by name, for cross-engine comparisons."""
    available = {}
    finalizers = []
    for name in ENGINES:
        factory = _FACTORIES[name](request, tmp_path_factory.mktemp(name))
        try:
            available[name] = next(factory)
        except pytest.skip.Exception:
            continue
        finalizers.append(factory)
    yield available
    for factory in finalizers:
        next(factory, None)


# --- per-engine report ---

_RANK = {"passed": 0, "skipped": 1, "failed": 2}


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    callspec = getattr(item, "callspec", None)
    engine_name = callspec.params.get("engine") if callspec else None
    if engine_name in ENGINES and "engine" in item.fixturenames:
        outcome = "failed" if report.failed else report.outcome
        if report.when == "call" or outcome != "passed":
            previous = _outcomes[engine_name].get(item.nodeid, "passed")
            if _RANK[outcome] >= _RANK[previous]:
                _outcomes[engine_name][item.nodeid] = outcome
            if outcome == "skipped" and isinstance(report.longrepr, tuple):
                _skip_reasons[engine_name][report.longrepr[2].removeprefix("Skipped: ")] += 1
    return report


def pytest_terminal_summary(terminalreporter):
    if not _outcomes:
        return
    terminalreporter.section("storage engines")
    for name in ENGINES:
        if name not in _outcomes:
            continue
        counts = Counter(_outcomes[name].values())
        summary = ", ".join(f"{counts[k]} {k}" for k in _RANK if counts[k])
        label = _labels.get(name, "not started")
        terminalreporter.write_line(f"{name}: {summary} [{label}]")
        for reason, times in _skip_reasons[name].items():
            terminalreporter.write_line(f"    skipped {times}: {reason}")
