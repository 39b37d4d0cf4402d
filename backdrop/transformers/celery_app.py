"""The Celery configuration shared by the worker and the write app's dispatcher.

JSON only, one message per task kept until the task finishes (``acks_late``),
short broker timeouts so a write never waits long on a broker that is down,
and Celery never touches the root logger.
"""

from __future__ import annotations

from celery import Celery

DISPATCH_TASK = "backdrop.transformers.dispatch"
RUN_TASK = "backdrop.transformers.run_transform"
REQUEST_ID_HEADER = "backdrop_request_id"  # message header: the request that queued the task
BROKER_TIMEOUT_SECONDS = 2


def make_celery(broker_url: str) -> Celery:
    app = Celery("backdrop", broker=broker_url, set_as_current=False)
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        result_serializer="json",
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        worker_hijack_root_logger=False,
        enable_utc=True,
        timezone="UTC",
        # A write publishes once and gives up fast; the dispatcher logs the range.
        broker_connection_timeout=BROKER_TIMEOUT_SECONDS,
        broker_connection_retry_on_startup=True,
        task_publish_retry=False,
        broker_transport_options={
            "socket_connect_timeout": BROKER_TIMEOUT_SECONDS,
            "socket_timeout": BROKER_TIMEOUT_SECONDS * 2,
            "max_retries": 0,
        },
    )
    return app


def add_beat_entry(app: Celery, name: str, task: str, seconds: float, queue: str) -> None:
    """Add one periodic task to beat's schedule, beside the others already
    there, expiring unless taken before its next run."""
    app.conf.beat_schedule = {
        **(app.conf.beat_schedule or {}),
        name: {
            "task": task,
            "schedule": float(seconds),
            "options": {"queue": queue, "expires": seconds},
        },
    }
