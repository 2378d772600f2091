"""`podalign worker` in distributed mode: one process, one model loaded once, one Celery
consumer (threads pool, one job at a time) on that model's queue."""

from __future__ import annotations

import logging
from typing import Any

from app.broker import TASK, queue_name
from app.cluster import QueueWorker, process_identity
from app.service import Service
from app.worker import Worker

logger = logging.getLogger(__name__)


def consume(service: Service, model: str) -> None:
    """Run jobs of `model` from the queue until the process is told to stop (SIGTERM, Ctrl-C:
    the running job finishes first; SIGKILL: RabbitMQ gives its message to another worker)."""
    dispatcher = service.dispatcher
    assert dispatcher is not None, "distributed mode only"
    identity = process_identity()
    runner = Worker(
        service.settings,
        service.store,
        service.files,
        service.models,
        service.webhooks,
        name="queue-worker",
        claimant=identity,
    )
    aligner = service.models.get(model)  # before consuming: no job waits for a model load
    logger.info(
        "model %s ready on %s (%s); consuming queue %s as %s",
        model,
        aligner.model.device,
        aligner.model.compute_type,
        queue_name(model),
        identity,
    )
    handler = QueueWorker(runner, dispatcher, model)
    app = dispatcher.app

    @app.task(name=TASK, bind=True)  # type: ignore[untyped-decorator]
    def align(task: Any, job_id: str) -> None:
        delivery = task.request.delivery_info or {}
        handler.handle(job_id, bool(delivery.get("redelivered")))

    worker = app.Worker(
        queues=[queue_name(model)],
        hostname=f"{queue_name(model)}@{identity.replace('/', '.')}",
        without_gossip=True,
        without_mingle=True,
        without_heartbeat=True,
        loglevel="INFO",
        quiet=True,
    )
    worker.start()
