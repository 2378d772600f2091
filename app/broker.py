"""Distributed mode's queue: Celery over RabbitMQ carries job ids to the workers of each model.
A message only says "look at this job"; the job store decides who runs it, so a lost message is
sent again and a duplicate is dropped. No result backend: results are in the job store."""

from __future__ import annotations

import logging
import re
from typing import Any

from app.jobs import JobStore
from app.settings import Settings

logger = logging.getLogger(__name__)

#: The one task: run the alignment job whose id it carries.
TASK = "podalign.align"


def queue_name(model: str) -> str:
    """One queue per model, so a worker never gets a job for a model it did not load."""
    return "podalign." + re.sub(r"[^A-Za-z0-9._-]", "_", model)[:200]


def celery_app(settings: Settings) -> Any:
    """A Celery application for a GPU-friendly worker and a publisher: each setting answers
    one of the known pitfalls."""
    from celery import Celery

    app = Celery("podalign", broker=settings.broker_url, set_as_current=False)
    app.conf.update(
        # CUDA does not survive fork: one process per GPU, its model loaded once before the
        # consumer starts, and jobs on a thread (the `solo` pool would run them on the thread
        # that answers AMQP heartbeats, so a minutes-long job would lose its connection).
        worker_pool="threads",
        worker_concurrency=1,
        # Take one job at a time; acknowledge it when it ends, so a worker that dies (SIGKILL,
        # OOM, a lost host) gives it back: RabbitMQ requeues it as the connection drops.
        worker_prefetch_multiplier=1,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_acks_on_failure_or_timeout=True,
        # A running job keeps going through a broker outage: its lease is in the database, and
        # the copy RabbitMQ delivers again is dropped while the lease is being renewed.
        worker_cancel_long_running_tasks_on_connection_loss=False,
        # RabbitMQ closes the channel of a delivery unacknowledged past its consumer timeout
        # (30 min by default: raise it on the broker); the worker reconnects rather than
        # stopping, and its job, still renewing its lease, runs on.
        broker_channel_error_retry=True,
        broker_heartbeat=30,
        broker_connection_timeout=5,
        broker_connection_retry=True,
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,
        # The broker confirms each message it took, so a 202 means it was stored (and when it
        # was not, the job row is there and the sweeper sends it again).
        broker_transport_options={"confirm_publish": True},
        task_default_delivery_mode="persistent",
        task_ignore_result=True,
        result_backend=None,
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        worker_enable_remote_control=False,
    )
    return app


#: How long a publish waits for the broker to confirm it took the message.
_CONFIRM_TIMEOUT_S = 5.0


class Dispatcher:
    """Sends a job's message after its row is committed, and records when it did."""

    def __init__(self, settings: Settings, store: JobStore, app: Any = None) -> None:
        self.store = store
        self.app = app if app is not None else celery_app(settings)

    def publish(self, job_id: str, model: str) -> bool:
        """Whether the broker took the message. When it did not (it is down), the job stays
        queued and the sweeper sends it once the broker is back."""
        try:
            self.app.send_task(
                TASK,
                args=[job_id],
                queue=queue_name(model),
                retry=True,
                retry_policy={"max_retries": 1, "interval_start": 0.2, "interval_step": 0.5},
                # Not waiting for ever: a broker in a memory or disk alarm blocks publishers,
                # and the POST (or the sweeper) would hang; the sweeper sends it again later.
                confirm_timeout=_CONFIRM_TIMEOUT_S,
            )
        except Exception as exc:
            logger.warning(
                "job %s: the queue did not take it (%s: %s); it is sent again when it is back",
                job_id,
                type(exc).__name__,
                exc,
            )
            return False
        self.store.mark_published(job_id)
        return True

    def waiting(self, model: str) -> int | None:
        """Messages waiting in `model`'s queue (not yet given to a worker); None when the
        broker cannot say (it is down, or the queue does not exist yet)."""
        try:
            with self.app.connection_for_write() as connection:
                declared = connection.default_channel.queue_declare(
                    queue=queue_name(model), passive=True
                )
        except Exception:
            return None
        return int(declared.message_count)

    def close(self) -> None:
        self.app.close()
