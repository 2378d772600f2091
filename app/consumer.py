"""`podalign worker` in distributed mode: one process, one model loaded once, one Celery
consumer (threads pool, one job at a time) on that model's queue."""

from __future__ import annotations

import logging
from typing import Any

from app.broker import TASK, Dispatcher, queue_name
from app.cluster import QueueWorker
from app.worker import Worker

logger = logging.getLogger(__name__)


def consume(runner: Worker, dispatcher: Dispatcher, model: str) -> None:
    """Run jobs of `model` from the queue with `runner` (its models on this process's GPU or
    the CPU; not started: the queue feeds it) until the process is told to stop (SIGTERM,
    Ctrl-C: the running job finishes first; SIGKILL: RabbitMQ gives its message to another
    worker)."""
    aligner = runner.models.get(model)  # before consuming: no job waits for a model load
    handler = QueueWorker(runner, dispatcher, model)
    logger.info(
        "model %s ready on %s (%s); consuming queue %s as %s",
        model,
        runner.models.where(model),
        aligner.model.compute_type,
        queue_name(model),
        handler.identity,
    )
    app = dispatcher.app

    @app.task(name=TASK, bind=True)  # type: ignore[untyped-decorator]
    def align(task: Any, job_id: str) -> None:
        delivery = task.request.delivery_info or {}
        handler.handle(job_id, bool(delivery.get("redelivered")))

    worker = app.Worker(
        queues=[queue_name(model)],
        hostname=f"{queue_name(model)}@{handler.identity.replace('/', '.')}",
        without_gossip=True,
        without_mingle=True,
        without_heartbeat=True,
        loglevel="INFO",
        quiet=True,
    )
    worker.start()
