"""Liveness, readiness and metrics (metrics behind a key when PODALIGN_METRICS_REQUIRE_KEY)."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, Response

from app.routes.auth import require_metrics_caller
from app.schemas import ErrorBody
from app.service import ServiceDep

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process answers")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="Database and job folder writable, workers working, model loaded")
def readyz(service: ServiceDep) -> JSONResponse:
    problems = service.problems()
    aligner = service.models.loaded(service.settings.model)
    body = {
        "status": "ready" if not problems else "not_ready",
        "problems": problems,
        "model": service.settings.model,
        "device": aligner.model.device if aligner is not None else None,
        "compute_type": aligner.model.compute_type if aligner is not None else None,
        "workers": len(service.workers),
        # Which GPU (or the CPU) each worker aligns on.
        "worker_devices": {
            worker.name: worker.models.where(service.settings.model) for worker in service.workers
        },
    }
    return JSONResponse(body, status_code=200 if not problems else 503)


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    dependencies=[Depends(require_metrics_caller)],
    response_class=Response,
    responses={
        200: {"content": {"text/plain": {}}},
        401: {"model": ErrorBody, "description": "API key missing (PODALIGN_METRICS_REQUIRE_KEY)"},
        403: {"model": ErrorBody, "description": "API key not valid"},
    },
)
def metrics(service: ServiceDep) -> Response:
    return Response(service.metrics.render(), media_type="text/plain; version=0.0.4")
