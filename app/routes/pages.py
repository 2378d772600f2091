"""The web page (static files, no build step) and what it needs to know about the service."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, RedirectResponse

from app.routes.auth import keys_required
from app.service import ServiceDep

STATIC = Path(__file__).resolve().parent.parent / "static"

router = APIRouter(tags=["page"])


@router.get("/", include_in_schema=False)
def index() -> FileResponse:
    return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})


@router.get("/docs", include_in_schema=False)
def docs() -> FileResponse:
    """The API docs, drawn by the service's own viewer: they work without the internet."""
    return FileResponse(STATIC / "docs.html", headers={"Cache-Control": "no-cache"})


@router.get("/redoc", include_in_schema=False)
def redoc() -> RedirectResponse:
    return RedirectResponse("/docs", status_code=308)


@router.get("/favicon.ico", include_in_schema=False)
def favicon() -> FileResponse:
    return FileResponse(STATIC / "favicon.svg", media_type="image/svg+xml")


@router.get("/info", summary="Models offered, limits, and whether API keys are needed")
def info(service: ServiceDep) -> dict[str, object]:
    settings = service.settings
    return {
        "model": settings.model,
        "models": settings.models,
        "api_keys_required": keys_required(service),
        "max_upload_bytes": settings.max_upload_bytes,
        "max_audio_s": settings.max_audio_s,
        "max_transcript_bytes": settings.max_transcript_bytes,
    }
