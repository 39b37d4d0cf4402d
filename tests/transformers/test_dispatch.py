"""Choosing a dispatcher, and a broker that is down never failing a write."""

import logging
import socket
import time
import uuid
from datetime import UTC, datetime

import pytest

from backdrop.core.catalog import Catalog
from backdrop.core.query import Where
from backdrop.settings import Settings
from backdrop.transformers.dispatch import Enqueue, InProcess, make_dispatcher
from backdrop.write import create_app
from tests.transformers.conftest import ADMIN, ADMIN_TOKEN

START = datetime(2024, 1, 1, 10, tzinfo=UTC)
END = datetime(2024, 1, 2, 10, tzinfo=UTC)


@pytest.fixture
def closed_port():
    """A local port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def silent_port():
    """A local port that accepts connections and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock.getsockname()[1]


def test_no_broker_runs_in_process_and_a_broker_enqueues(write_engine):
    engine = write_engine
    assert isinstance(make_dispatcher(Settings(), engine), InProcess)
    dispatcher = make_dispatcher(Settings(broker_url="redis://127.0.0.1:1/0"), engine)
    assert isinstance(dispatcher, Enqueue)
    assert dispatcher._celery is None  # nothing connects until a write dispatches


def broker_url(scheme: str, port: int) -> str:
    if scheme == "amqp":
        return f"amqp://guest:guest@127.0.0.1:{port}//"
    return f"redis://127.0.0.1:{port}/0"


@pytest.mark.parametrize("scheme", ["amqp", "redis"])
def test_a_closed_broker_is_logged_with_the_range_to_re_run(scheme, closed_port, caplog):
    url = broker_url(scheme, closed_port)
    began = time.monotonic()
    with caplog.at_level(logging.ERROR, logger="backdrop"):
        Enqueue(url).dispatch("src", START, END)
    assert time.monotonic() - began < 5
    (failure,) = caplog.records
    message = failure.getMessage()
    assert "could not queue the transforms of src" in message
    assert "2024-01-01T10:00:00+00:00 – 2024-01-02T10:00:00+00:00" in message
    assert (
        "re-run: backdrop transforms run src --start 2024-01-01T10:00:00+00:00 "
        "--end 2024-01-02T10:00:00+00:00"
    ) in message
    assert failure.data_set == "src"


@pytest.mark.slow  # waits out the broker timeouts (2 s amqp, 4 s redis)
@pytest.mark.parametrize("scheme", ["amqp", "redis"])
def test_a_broker_that_never_answers_gives_up_within_seconds(scheme, silent_port, caplog):
    url = broker_url(scheme, silent_port)
    began = time.monotonic()
    with caplog.at_level(logging.ERROR, logger="backdrop"):
        Enqueue(url).dispatch("src", START, END)
    assert time.monotonic() - began < 8
    assert "could not queue the transforms of src" in caplog.records[0].getMessage()


def test_writes_succeed_while_the_broker_is_down(tmp_path, closed_port, caplog):
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/t.db",
        admin_token=ADMIN_TOKEN,
        broker_url=f"amqp://guest:guest@127.0.0.1:{closed_port}//",
    )
    app = create_app(settings)
    client = app.test_client()
    token = client.post("/data-sets", json={"name": "src"}, headers=ADMIN).json["bearer_token"]
    records = [
        {"_timestamp": "2024-01-01T10:00:00Z", "stage": "a"},
        {"_timestamp": "2024-01-02T10:00:00Z", "stage": "b"},
    ]
    with caplog.at_level(logging.ERROR, logger="backdrop"):
        response = client.post(
            "/data/src/src", json=records, headers={"Authorization": f"Bearer {token}"}
        )
    assert (response.status_code, response.json) == (200, {"status": "ok"})
    messages = [r.getMessage() for r in caplog.records]
    assert any(
        "could not queue the transforms of src over "
        "2024-01-01T10:00:00+00:00 – 2024-01-02T10:00:00+00:00" in m
        for m in messages
    ), messages
    # The write itself was committed.
    engine = app.extensions["backdrop"].engine
    assert Catalog(engine).get("src") is not None
    assert len(engine.records.find("src", Where())) == 2
    engine.close()


def test_closing_one_dispatcher_leaves_others_for_the_same_broker_working(caplog):
    url = "amqp://guest:guest@127.0.0.1:5672//"
    try:
        socket.create_connection(("127.0.0.1", 5672), timeout=1).close()
    except OSError:
        pytest.skip("no RabbitMQ listening on 127.0.0.1:5672")
    import kombu

    queue = f"backdrop-test-{uuid.uuid4().hex}"
    with kombu.Connection(url) as connection:
        channel = connection.channel()
        try:
            for _ in range(2):
                dispatcher = Enqueue(url)
                dispatcher.celery.conf.task_default_queue = queue
                with caplog.at_level(logging.ERROR, logger="backdrop"):
                    dispatcher.dispatch("src", START, END)
                dispatcher.close()
                dispatcher.close()
            assert caplog.records == []
            deadline = time.monotonic() + 5  # the broker counts asynchronously
            while channel.queue_declare(queue, passive=True).message_count < 2:
                assert time.monotonic() < deadline, "both dispatches should be queued"
                time.sleep(0.05)
        finally:
            channel.queue_delete(queue)
