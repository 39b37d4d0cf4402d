"""The worker's rollup tasks, run eagerly, beat's sweep entry, and what a
write app does with and without a broker."""

from __future__ import annotations

import logging
import socket

import pytest

from backdrop.core import rollup_builds
from backdrop.core.data_sets import Registry
from backdrop.settings import Settings
from backdrop.transformers import rollup_tasks, source_tasks, tasks
from backdrop.transformers.celery_app import make_celery
from backdrop.write import create_app

ROLLUP = {"dimensions": ["channel"], "measures": ["count"]}


class Recording:
    def __init__(self):
        self.started = []

    def start(self, data_set):
        self.started.append(data_set)


@pytest.fixture
def settings(tmp_path):
    return Settings(database_url=f"sqlite:///{tmp_path}/t.db")


@pytest.fixture
def worker(settings):
    app = make_celery("memory://")
    app.conf.task_always_eager = True
    source_tasks.register(app, settings)
    rollup_tasks.register(app, settings)
    engine = tasks.engine(settings)
    yield app, engine
    engine.close()
    tasks._engines.clear()


def test_the_build_task_builds_the_rollup(worker):
    app, engine = worker
    Registry(engine, Recording()).create({"name": "visits", **ROLLUP})
    assert app.tasks[rollup_tasks.BUILD_TASK].delay("visits").get() is True
    assert engine.records.state("visits").ready


def test_the_sweep_task_builds_every_rollup_left_unbuilt(worker):
    app, engine = worker
    registry = Registry(engine, Recording())
    registry.create({"name": "first", **ROLLUP})
    registry.create({"name": "second", **ROLLUP})
    registry.create({"name": "plain"})
    assert sorted(app.tasks[rollup_tasks.SWEEP_TASK].delay().get()) == ["first", "second"]
    assert app.tasks[rollup_tasks.SWEEP_TASK].delay().get() == []


def test_beat_sweeps_every_minute_beside_the_sources_tick(worker, settings):
    app, _ = worker
    schedule = app.conf.beat_schedule
    assert set(schedule) == {"backdrop-sources-tick", "backdrop-rollups-sweep"}
    sweep = schedule["backdrop-rollups-sweep"]
    assert sweep["task"] == rollup_tasks.SWEEP_TASK and sweep["schedule"] == 60.0
    assert sweep["options"] == {"queue": settings.sources_queue, "expires": 60}


def test_beat_keeps_both_entries_whichever_registers_first(settings):
    app = make_celery("memory://")
    rollup_tasks.register(app, settings)
    source_tasks.register(app, settings)
    assert set(app.conf.beat_schedule) == {"backdrop-sources-tick", "backdrop-rollups-sweep"}


def test_without_a_broker_the_apps_build_in_a_thread(settings):
    app = create_app(settings)
    assert isinstance(app.extensions["backdrop"].registry.builds, rollup_builds.InThread)
    app.extensions["backdrop"].engine.close()


@pytest.fixture
def closed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_with_a_broker_a_build_is_queued_and_a_failure_logged(tmp_path, closed_port, caplog):
    url = f"amqp://guest:guest@127.0.0.1:{closed_port}//"
    settings = Settings(database_url=f"sqlite:///{tmp_path}/t.db", broker_url=url)
    app = create_app(settings)
    builds = app.extensions["backdrop"].registry.builds
    assert isinstance(builds, rollup_tasks.Enqueue)
    with caplog.at_level(logging.ERROR, "backdrop.core.rollup_builds"):
        builds.start("visits")
    assert "could not build the rollup of visits" in caplog.text
    assert "backdrop rollups build visits" in caplog.text
    builds.close()
    app.extensions["backdrop"].engine.close()
