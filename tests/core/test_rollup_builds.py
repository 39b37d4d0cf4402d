"""Saving a config hands its rollup to the engine and has it built; the sweep
repairs a lost build; a failed build is logged with the command to run. On
every engine (the ``engine`` fixture of tests/conftest.py)."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime

import pytest

from backdrop.core import rollup_builds
from backdrop.core.data_sets import Registry
from backdrop.core.records import prepare_records
from backdrop.core.rollups import RollupSpec
from backdrop.core.storage.sqlite import SQLiteEngine

NOW = datetime(2024, 3, 1, tzinfo=UTC)
ROLLUP = {"dimensions": ["channel"], "measures": ["count"]}


class Recording:
    """Builds that only remember what they were asked to build."""

    def __init__(self):
        self.started: list[str] = []

    def start(self, data_set):
        self.started.append(data_set)


@pytest.fixture
def builds():
    return Recording()


@pytest.fixture
def registry(engine, builds):
    return Registry(engine, builds)


def seed(engine, registry, name="visits"):
    config = registry.get(name)
    records = [{"_timestamp": "2024-01-01T10:00:00Z", "channel": "web", "count": 2}]
    engine.records.save(name, prepare_records(records, config, NOW))


def test_create_with_dimensions_sets_the_rollup_and_starts_a_build(engine, registry, builds):
    config, _ = registry.create({"name": "visits", **ROLLUP})
    state = engine.records.state("visits")
    assert state.rollup == config.rollup == RollupSpec(((), ("channel",)), ("count",), "day")
    assert not state.ready
    assert builds.started == ["visits"]


def test_create_without_dimensions_starts_nothing(engine, registry, builds):
    registry.create({"name": "visits"})
    assert engine.records.state("visits").rollup is None
    assert builds.started == []


def test_changing_the_dimensions_resets_and_rebuilds(engine, registry, builds):
    registry.create({"name": "visits", **ROLLUP})
    engine.records.build_rollup("visits")
    registry.update("visits", {"dimensions": ["channel", "region"]})
    state = engine.records.state("visits")
    assert state.rollup.groups == ((), ("channel",), ("region",)) and not state.ready
    assert builds.started == ["visits", "visits"]


def test_other_changes_leave_a_built_rollup_alone(engine, registry, builds):
    registry.create({"name": "visits", **ROLLUP})
    engine.records.build_rollup("visits")
    registry.update("visits", {"realtime": True, "measures": ["count"]})
    assert engine.records.state("visits").ready
    assert builds.started == ["visits"]


def test_saving_the_same_rollup_again_restarts_a_lost_build(engine, registry, builds):
    registry.create({"name": "visits", **ROLLUP})
    registry.update("visits", {"realtime": True})
    assert builds.started == ["visits", "visits"]


def test_removing_the_dimensions_and_measures_removes_the_rollup(engine, registry, builds):
    registry.create({"name": "visits", **ROLLUP})
    engine.records.build_rollup("visits")
    registry.update("visits", {"dimensions": None, "measures": []})
    assert engine.records.state("visits").rollup is None
    assert builds.started == ["visits"]


def test_the_sweep_sets_and_builds_what_was_lost(engine, registry):
    registry.create({"name": "lost", **ROLLUP})  # set, never built
    registry.create({"name": "unset", **ROLLUP})
    engine.records.set_rollup("unset", None)  # as if set_rollup had failed
    registry.create({"name": "built", **ROLLUP})
    engine.records.build_rollup("built")
    registry.create({"name": "plain"})
    seed(engine, registry, "lost")
    built = registry.sweep_rollups()
    assert sorted(b.data_set for b in built) == ["lost", "unset"]
    assert all(b.ready for b in built)
    for name in ("lost", "unset", "built"):
        state = engine.records.state(name)
        assert state.ready and state.rollup == registry.get(name).rollup
    assert registry.sweep_rollups() == []


def test_a_failing_build_is_logged_and_the_config_kept(engine, monkeypatch, caplog):
    def broken(data_set):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(engine.records, "build_rollup", broken)
    registry = Registry(engine, rollup_builds.Now(engine))
    with caplog.at_level(logging.ERROR, "backdrop.core.rollup_builds"):
        registry.create({"name": "visits", **ROLLUP})
    assert registry.get("visits").dimensions == ["channel"]
    assert "could not build the rollup of visits (RuntimeError: disk on fire)" in caplog.text
    assert "backdrop rollups build visits" in caplog.text
    assert not engine.records.state("visits").ready


def test_a_failing_sweep_entry_does_not_stop_the_others(engine, registry, monkeypatch, caplog):
    registry.create({"name": "first", **ROLLUP})
    registry.create({"name": "second", **ROLLUP})
    real = engine.records.build_rollup
    monkeypatch.setattr(
        engine.records,
        "build_rollup",
        lambda name: (_ for _ in ()).throw(RuntimeError("no")) if name == "first" else real(name),
    )
    with caplog.at_level(logging.ERROR, "backdrop.core.rollup_builds"):
        built = registry.sweep_rollups()
    assert [b.data_set for b in built] == ["second"]
    assert "could not build the rollup of first" in caplog.text


def test_the_default_builds_at_once(engine):
    registry = Registry(engine)
    registry.create({"name": "visits", **ROLLUP})
    assert engine.records.state("visits").ready


def test_a_thread_builds_it_on_an_engine_of_its_own(tmp_path):
    engine = SQLiteEngine(f"sqlite:///{tmp_path}/t.db")
    opened = []

    def connect():
        opened.append(SQLiteEngine(f"sqlite:///{tmp_path}/t.db"))
        return opened[-1]

    registry = Registry(engine, rollup_builds.InThread(connect))
    registry.create({"name": "visits"})
    seed(engine, registry)
    registry.update("visits", ROLLUP)
    for thread in threading.enumerate():
        if thread.name == "rollup-build-visits":
            thread.join()
    assert engine.records.state("visits").ready
    assert len(opened) == 1 and opened[0] is not engine
    engine.close()


def test_the_sweep_gives_up_on_a_spec_the_engine_refused_until_it_changes(
    engine, registry, monkeypatch, caplog
):
    registry.create({"name": "huge", **ROLLUP})
    attempts = []

    def refuse(name):  # as an engine does when a counter would pass 64 bits
        attempts.append(name)
        return False

    monkeypatch.setattr(engine.records, "build_rollup", refuse)
    given_up = {}
    with caplog.at_level(logging.WARNING, "backdrop.core.rollup_builds"):
        assert [b.ready for b in registry.sweep_rollups(given_up)] == [False]
    assert "the engine gave up building the rollup of huge" in caplog.text
    assert registry.sweep_rollups(given_up) == [] and attempts == ["huge"]
    registry.update("huge", {"measures": ["count", "value"]})  # a new spec is tried again
    assert [b.data_set for b in registry.sweep_rollups(given_up)] == ["huge"]


def test_a_start_during_a_thread_build_builds_once_more_after_it(tmp_path):
    engine = SQLiteEngine(f"sqlite:///{tmp_path}/t.db")
    registry = Registry(engine, Recording())
    registry.create({"name": "visits", **ROLLUP})
    inside, release, specs = threading.Event(), threading.Event(), []

    class Slow:
        def __init__(self):
            self.records = self

        def build_rollup(self, name):
            specs.append(engine.records.state(name).rollup)
            if len(specs) == 1:
                inside.set()
                release.wait()
            return engine.records.build_rollup(name)

        def close(self):
            pass

    builds = rollup_builds.InThread(Slow)
    builds.start("visits")
    inside.wait()
    engine.records.set_rollup("visits", RollupSpec(((), ("region",)), ("count",)))
    builds.start("visits")  # the spec changed while the first build ran
    release.set()
    while any(t.name == "rollup-build-visits" for t in threading.enumerate()):
        for thread in threading.enumerate():
            if thread.name == "rollup-build-visits":
                thread.join()
    assert len(specs) == 2 and specs[1].groups == ((), ("region",))
    assert engine.records.state("visits").ready
    engine.close()
