"""What the HTTP handlers share: settings, the job store, files, models, workers, metrics."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from alignment.captions import FORMATS, CaptionOptions, render, run_of
from alignment.types import Word
from app.broker import Dispatcher
from app.claims import ClaimSlot
from app.cluster import Housekeeper
from app.db import Job
from app.errors import ApiError
from app.files import JobFiles
from app.jobs import FINISHED, JobStore
from app.keys import Caller, KeyStore
from app.metrics import Metrics
from app.renders import Renders
from app.settings import Settings
from app.storage import describe, storage_problem
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
    keys: KeyStore
    renders: Renders
    #: Held while this process runs workers (see app.claims).
    claim_slot: ClaimSlot | None = None
    #: Distributed mode: sends each new job's queue message, and the cluster's periodic duties.
    dispatcher: Dispatcher | None = None
    housekeeper: Housekeeper | None = None

    def enqueue(self, job: Job) -> None:
        """Distributed mode: send the job's message, after its row is committed. The embedded
        workers poll the job store instead."""
        if self.dispatcher is not None:
            self.dispatcher.publish(job.id, job.model)

    def job(self, job_id: str, caller: Caller) -> Job:
        """The job, when `caller` may see it (another owner's job is as unknown as none)."""
        job = self.store.get(job_id) if len(job_id) <= 64 else None
        if job is None or not caller.may_see(job):
            raise ApiError(
                404,
                "not_found",
                f"No alignment has the id {job_id!r}. List them at /v1/alignments.",
            )
        return job

    def problems(self) -> list[str]:
        """Why this process cannot do its work now: an empty list when it can."""
        problems = [*self._storage_problems(), *self._worker_problems()]
        if self.workers and self.models.loaded(self.settings.model) is None:
            problems.append(f"model {self.settings.model!r} not loaded yet")
        return problems

    def _storage_problems(self) -> list[str]:
        problems: list[str] = []
        try:
            self.store.check()
        except Exception as exc:
            problems.append(f"the database cannot be written: {describe(exc)}")
        try:
            self.files.probe_write()
            room = self.files.room_problem(self.settings.min_free_bytes)
        except Exception as exc:
            problems.append(f"the job folder cannot be written: {describe(exc)}")
        else:
            if room is not None:
                problems.append(room.message)
        return problems

    def _worker_problems(self) -> list[str]:
        return [
            f"{worker.name} has stopped" if not worker.alive else f"{worker.name} {worker.problem}"
            for worker in self.workers
            if not worker.alive or worker.problem is not None
        ]

    def remove(self, job: Job) -> None:
        """Cancel the job (a running one stops at its next progress report) and delete its
        files; a finished job's row goes too. Works on a full disk: when the store cannot
        record the cancellation, the files go first, which makes the room to record it."""
        try:
            previous = self.store.cancel(job.id)
        except Exception as exc:
            if storage_problem(exc) is None:
                raise
            self.files.discard(job.id)
            previous = self.store.cancel(job.id)
        self.files.discard(job.id)
        if previous in FINISHED:
            self.store.delete(job.id)

    def finished_path(self, job: Job) -> Path:
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
        path = self.files.stored_result(job.id, job.attempts)
        if path is None:
            raise ApiError(404, "not_found", "This alignment's files were deleted.")
        return path

    def rendering(self, job: Job, fmt: str, options: CaptionOptions) -> Path | str:
        """The job's words in format `fmt` with `options`: rendered once, then kept."""
        path = self.finished_path(job)

        def make() -> str:
            result = json.loads(path.read_text(encoding="utf-8"))
            return render(
                fmt,
                words_of(result),
                options,
                language=result.get("language"),
                duration_s=result.get("duration_s"),
                transcript=result.get("transcript"),
                about=run_of(result),
            )

        key = f"{RENDER_VERSION}|{job.finished_at}|{fmt}|{options!r}"
        try:
            return self.renders.get(job.id, key, FORMATS[fmt].extension, make)
        except FileNotFoundError as exc:  # deleted meanwhile
            raise ApiError(404, "not_found", "This alignment's files were deleted.") from exc


#: Part of every rendering's cache key and ETag: raised when a format's output changes, so
#: that renderings kept from before (and clients' cached copies) are not served for it.
#: 2: the JSON carries the run (model, language, options).
RENDER_VERSION = 2


async def wait_until_finished(service: Service, job: Job, caller: Caller, timeout_s: float) -> Job:
    """Poll the job until it is finished or `timeout_s` passed, without holding a thread."""
    deadline = time.monotonic() + timeout_s
    while job.status not in FINISHED and time.monotonic() < deadline:
        await asyncio.sleep(0.25)
        job = await run_in_threadpool(service.job, job.id, caller)
    return job


def words_of(result: dict[str, Any]) -> list[Word]:
    return [Word(**word) for word in result["words"]]


def get_service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


ServiceDep = Annotated[Service, Depends(get_service)]
