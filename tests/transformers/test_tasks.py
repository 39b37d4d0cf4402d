"""The worker's tasks, run eagerly: fan-out, retries with backoff, no retry
for failures a retry cannot fix."""

import logging

import pytest

from backdrop.core.catalog import Catalog
from backdrop.core.query import Where
from backdrop.errors import StorageUnavailable
from backdrop.settings import Settings
from backdrop.transformers import config, runner, tasks
from backdrop.transformers.celery_app import DISPATCH_TASK, RUN_TASK, make_celery
from tests.transformers.conftest import seed_source

WEEKLY = {
    "type": "rollup",
    "query": {"period": "week", "group_by": ["stage"]},
    "output": {"data_group": "src", "data_type": "weekly"},
}


@pytest.fixture
def worker(tmp_path):
    settings = Settings(database_url=f"sqlite:///{tmp_path}/t.db")
    app = make_celery("memory://")
    app.conf.task_always_eager = True
    tasks.register(app, settings)
    engine = tasks.engine(settings)
    yield app, engine
    engine.close()
    tasks._engines.clear()


@pytest.fixture
def source(worker):
    _app, engine = worker
    seed_source(engine, ("2024-01-01", "2024-01-02"))
    return config.add(engine, "src", WEEKLY)


def test_dispatch_runs_each_transform(worker, source):
    app, engine = worker
    result = app.tasks[DISPATCH_TASK].delay(
        "src", "2024-01-01T10:00:00+00:00", "2024-01-02T10:00:00Z"
    )
    assert result.get() == 1
    stored = engine.records.find("src_weekly", Where())
    assert sorted((r["stage"], r["count"]) for r in stored) == [("a", 1), ("b", 1)]


def test_a_transient_failure_is_retried(worker, source, monkeypatch, caplog):
    app, engine = worker
    real = runner.reading.execute
    calls = []

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) < 3:
            raise StorageUnavailable()
        return real(*args, **kwargs)

    monkeypatch.setattr(runner.reading, "execute", flaky)
    with caplog.at_level(logging.WARNING, logger="backdrop"):
        result = app.tasks[RUN_TASK].delay(
            "src", source["id"], "2024-01-01T10:00:00Z", "2024-01-02T10:00:00Z"
        )
    assert result.get() == 2
    assert len(calls) == 3
    failures = [r.getMessage() for r in caplog.records if "failed over" in r.getMessage()]
    assert len(failures) == 2
    assert "(attempt 1)" in failures[0] and "(attempt 2)" in failures[1]
    assert len(engine.records.find("src_weekly", Where())) == 2


def test_a_broken_config_is_not_retried(worker, source, caplog):
    app, engine = worker
    broken = Catalog(engine).add_transform("src", {**WEEKLY, "type": "not-installed"})
    with caplog.at_level(logging.ERROR, logger="backdrop"):
        result = app.tasks[RUN_TASK].delay(
            "src", broken, "2024-01-01T10:00:00Z", "2024-01-02T10:00:00Z"
        )
    assert result.failed()
    attempts = [r for r in caplog.records if "failed over" in r.getMessage()]
    assert len(attempts) == 1
    assert f"transform {broken} (not-installed) of src failed" in attempts[0].getMessage()
    assert Catalog(engine).get("src_weekly") is None


def test_the_retry_policy(worker):
    app, _engine = worker
    task = app.tasks[RUN_TASK]
    assert task.acks_late and task.retry_backoff and task.max_retries >= 3
    assert StorageUnavailable not in task.dont_autoretry_for
    assert app.conf.task_serializer == "json" and app.conf.accept_content == ["json"]
    assert app.conf.worker_hijack_root_logger is False


def test_a_removed_transform_is_skipped(worker, source):
    app, engine = worker
    Catalog(engine).remove_transform("src", source["id"])
    assert (
        app.tasks[RUN_TASK]
        .delay("src", source["id"], "2024-01-01T10:00:00Z", "2024-01-02T10:00:00Z")
        .get()
        == 0
    )
