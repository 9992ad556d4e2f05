"""The Celery peer: one task that publishes a post, on Redis.

The worker runs as `celery -A bench.spike.celery_app worker -P gevent -c N …`: Celery's docs
recommend the gevent (or eventlet) pool for I/O-bound tasks, with hundreds or thousands of
green threads. Tasks are synchronous, so the request goes through http.client (made
cooperative by gevent's monkey-patching), one kept-alive connection per green thread.

Configuration comes from the environment (the bench sets it): ONTHEDOT_SPIKE_BROKER,
ONTHEDOT_SPIKE_QUEUE, ONTHEDOT_SPIKE_SANDBOX.

- ETA tasks (`apply_async(eta=T)`): the worker receives them at once and holds them until
  their ETA. On Redis, a task not acknowledged within the visibility timeout is delivered
  again: the docs say to raise `visibility_timeout` above the longest ETA in use, so it is
  set to one hour here (T is seconds away).
- No result backend (`task_ignore_result`), JSON serialisation, early acknowledgement (the
  default).
"""

from __future__ import annotations

import os
from typing import Any

from bench.spike.workload import Planned, SyncPublisher
from celery import Celery
from celery.signals import worker_ready

QUEUE = os.environ.get("ONTHEDOT_SPIKE_QUEUE", "onthedot-spike")

app = Celery(
    "onthedot_spike", broker=os.environ.get("ONTHEDOT_SPIKE_BROKER", "redis://127.0.0.1:6379/0")
)
app.conf.update(
    task_default_queue=QUEUE,
    task_ignore_result=True,
    task_serializer="json",
    accept_content=["json"],
    broker_transport_options={"visibility_timeout": 3600},
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
    enable_utc=True,
)
_publisher: SyncPublisher | None = None


@app.task(name="spike.publish")
def publish(row: dict[str, Any]) -> int:
    global _publisher
    if _publisher is None:
        _publisher = SyncPublisher(os.environ["ONTHEDOT_SPIKE_SANDBOX"])
    return _publisher.publish(Planned.from_row(row))


@worker_ready.connect
def _ready(**_: Any) -> None:
    print("ready: celery worker", flush=True)
