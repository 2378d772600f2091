"""The FastAPI application: `create_app(settings)` builds it; nothing happens at import time."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import make_url
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from alignment.types import AlignmentResult
from app.claims import ClaimSlot
from app.db import Job, connect, migrate
from app.errors import JsonErrors, error_body, install_handlers
from app.files import JobFiles
from app.headers import SecurityHeaders
from app.jobs import JobStore
from app.keys import KeyStore
from app.metrics import Metrics
from app.placement import place_workers, sharing
from app.renders import Renders
from app.routes import alignments, gentle, health, pages
from app.service import Service
from app.settings import Settings
from app.storage import StorageError, storage_problem
from app.webhooks import WebhookSender
from app.worker import Models, Worker

logger = logging.getLogger(__name__)

DESCRIPTION = """Align an episode's audio with its transcript and get word timings and captions.

1. `POST /v1/alignments` with the `audio` file and the `transcript` (file) or `text` (field).
2. Poll `GET /v1/alignments/{id}` until `status` is `succeeded` (or use `?wait=30`, or a
   `callback_url`).
3. Fetch `GET /v1/alignments/{id}/captions.vtt` (or `.srt`, `.ttml`, `.ass`, `.textgrid`,
   `.json`, `.gentle`) or the words at `GET /v1/alignments/{id}/words`.

Errors are JSON: `{"error": {"code": "...", "message": "..."}}`.
"""


def open_storage(settings: Settings) -> tuple[JobStore, JobFiles]:
    """The job store (migrated) and the job folder, checked: a damaged, read-only or
    unreachable store or folder raises one StorageError that says which and what to do."""
    database = make_url(settings.database).render_as_string(hide_password=True)
    try:
        engine = connect(settings.database)
        migrate(engine)
        store = JobStore(engine)
        store.check(thorough=True)
    except (SQLAlchemyError, OSError, StorageError) as exc:
        raise _startup_error(f"the database {database}", exc) from exc
    try:
        files = JobFiles(settings.jobs_dir)
        files.probe_write()
        files.sweep_incoming()
    except OSError as exc:
        raise _startup_error(f"the job folder {settings.jobs_dir.resolve()}", exc) from exc
    return store, files


def _startup_error(what: str, exc: Exception) -> StorageError:
    problem = storage_problem(exc)
    reason = exc.message if isinstance(exc, StorageError) else _first_line(exc)
    return StorageError(
        problem.code if problem is not None else "storage_unavailable",
        f"{what} cannot be used ({reason}). Check that it exists, is writable and not full; "
        "a damaged database must be restored from a backup or moved away.",
    )


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip().splitlines()
    return text[0][:300] if text else type(orig).__name__


def build_service(settings: Settings, workers: int | None = None) -> Service:
    """Everything but HTTP. `workers` threads (default: the setting; 0: an API-only process
    whose jobs a separate `podalign worker` runs)."""
    store, files = open_storage(settings)
    engine = store.engine
    metrics = Metrics(store.counts_by_status)
    webhooks = WebhookSender(
        engine, settings.webhook_secret, settings.webhook_allow_private_networks
    )

    def finished(job: Job, result: AlignmentResult | None, elapsed_s: float) -> None:
        metrics.finished.labels(job.status).inc()
        metrics.duration.observe(elapsed_s)
        if result is not None:
            metrics.audio_seconds.inc(result.duration_s)

    count = max(0, settings.workers if workers is None else workers)
    slot = _claim_slot(settings, store) if count else None
    claimant = slot.identity if slot is not None else None
    threads = [
        Worker(settings, store, files, models, webhooks, finished, f"worker-{i + 1}", claimant)
        for i, models in enumerate(worker_models(settings, count))
    ]
    models = threads[0].models if threads else Models(settings)
    keys, renders = KeyStore(engine), Renders(files)
    return Service(settings, store, files, models, webhooks, metrics, threads, keys, renders, slot)


def worker_models(settings: Settings, count: int) -> list[Models]:
    """Each worker's models. On the CPU every worker has its own copy, so that N workers align
    N jobs at once; on GPUs the workers are spread over PODALIGN_DEVICE_INDEX in turn and the
    workers of one GPU share one copy there, which CTranslate2 runs side by side."""
    placement = place_workers(settings.device, settings.device_index, count)
    per_gpu = {index: Models(settings, index, calls) for index, calls in sharing(placement).items()}
    return [Models(settings) if index is None else per_gpu[index] for index in placement]


def _claim_slot(settings: Settings, store: JobStore) -> ClaimSlot:
    """This process's claim slot; the jobs its previous holder left running go back to the
    queue now rather than when their leases end."""
    slot = ClaimSlot.acquire(settings.data_dir)
    requeued, failed = store.take_back(slot.identity, settings.max_attempts)
    if requeued or failed:
        logger.warning(
            "%s: took back the jobs of its previous run: %d requeued, %d failed",
            slot.identity,
            requeued,
            failed,
        )
    return slot


def start_workers(service: Service) -> None:
    """Load the default model in every worker, then start them and the webhook sender."""
    for worker in service.workers:
        aligner = worker.models.get(service.settings.model)
        logger.info(
            "%s: model %s ready on %s (%s)",
            worker.name,
            service.settings.model,
            worker.models.where(service.settings.model),
            aligner.model.compute_type,
        )
    if service.workers:
        service.webhooks.start()
    for worker in service.workers:
        worker.start()


def stop_workers(service: Service) -> None:
    for worker in service.workers:
        worker.stop()
    if service.workers:
        service.webhooks.stop()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        service = await run_in_threadpool(build_service, settings)
        app.state.service = service
        await run_in_threadpool(start_workers, service)
        yield
        await run_in_threadpool(stop_workers, service)

    app = FastAPI(
        title="podalign",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        # FastAPI's docs pages load Swagger UI from a CDN: blank offline. The page router
        # serves /docs from the service's own files instead.
        docs_url=None,
        redoc_url=None,
    )
    install_handlers(app)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "If-None-Match"],
            expose_headers=["Location", "ETag", "Content-Disposition"],
        )
    limit = settings.max_upload_bytes + settings.max_transcript_bytes + 1024 * 1024

    @app.middleware("http")
    async def refuse_oversized(request: Request, call_next):  # type: ignore[no-untyped-def]
        """Refuse a body whose declared length is over the limits before reading it."""
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > limit:
            return JSONResponse(
                error_body(
                    "audio_too_large",
                    f"The request is over {limit} bytes, the limit "
                    "here. Send a compressed file (MP3, M4A, Opus).",
                ),
                413,
            )
        return await call_next(request)

    # Added last, so they wrap the others: every answer gets the headers, refusals included,
    # and every error is JSON.
    app.add_middleware(JsonErrors)
    app.add_middleware(SecurityHeaders)
    app.include_router(alignments.router)
    app.include_router(gentle.router)
    app.include_router(health.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=pages.STATIC), name="static")
    return app
