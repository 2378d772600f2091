"""What the HTTP handlers share: settings, the job store, files, models, workers, metrics."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from alignment.types import Word
from app.db import Job
from app.errors import ApiError
from app.files import JobFiles
from app.jobs import FINISHED, JobStore
from app.metrics import Metrics
from app.settings import Settings
from app.webhooks import WebhookSender
from app.worker import Models, Worker


@dataclass
class Service:
    settings: Settings
    store: JobStore
    files: JobFiles
    models: Models
    webhooks: WebhookSender
    metrics: Metrics
    workers: list[Worker]

    def job(self, job_id: str) -> Job:
        job = self.store.get(job_id) if len(job_id) <= 64 else None
        if job is None:
            raise ApiError(
                404,
                "not_found",
                f"No alignment has the id {job_id!r}. List them at /v1/alignments.",
            )
        return job

    def finished_result(self, job: Job) -> dict[str, Any]:
        """The stored result of a succeeded job; 409 while it is not there yet."""
        if job.status != "succeeded":
            hint = {
                "queued": "It is waiting in the queue; poll the job until it succeeds.",
                "running": "It is still running; poll the job until it succeeds.",
                "failed": f"It failed ({job.error_code}): {job.error_message}",
                "canceled": "It was canceled.",
            }[job.status]
            raise ApiError(
                409, "not_ready", f"The alignment has no result. {hint}", job_status=job.status
            )
        data: dict[str, Any] = json.loads(self.files.result(job.id).read_text(encoding="utf-8"))
        return data


async def wait_until_finished(service: Service, job: Job, timeout_s: float) -> Job:
    """Poll the job until it is finished or `timeout_s` passed, without holding a thread."""
    deadline = time.monotonic() + timeout_s
    while job.status not in FINISHED and time.monotonic() < deadline:
        await asyncio.sleep(0.25)
        job = await run_in_threadpool(service.job, job.id)
    return job


def words_of(result: dict[str, Any]) -> list[Word]:
    return [Word(**word) for word in result["words"]]


def get_service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


ServiceDep = Annotated[Service, Depends(get_service)]
