"""Gentle's HTTP interface (`POST /transcriptions`), so Gentle's clients work unchanged."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from alignment.captions import CaptionOptions
from app.keys import Caller
from app.routes.auth import CallerDep
from app.routes.forms import multipart_body, receive_form
from app.schemas import ErrorBody
from app.service import Service, ServiceDep, wait_until_finished
from app.submissions import Submission, submit

router = APIRouter(tags=["gentle"])

_AUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "API key missing"},
    403: {"model": ErrorBody, "description": "API key not valid"},
}


_FORM = multipart_body(
    {
        "audio": {"type": "string", "format": "binary"},
        "transcript": {"type": "string", "description": "the text: a file or a field"},
        "language": {"type": "string", "examples": ["en"]},
        "refine": {
            "type": "string",
            "enum": ["acoustic", "precise", "signal", "none"],
            "description": "how word boundaries are sharpened (default: the server's setting)",
        },
    },
    ["audio"],
)


@router.post(
    "/transcriptions",
    responses={
        200: {
            "description": "Gentle's JSON (async=false), or the job's status when it is not "
            "done within the server's wait limit (PODALIGN_MAX_WAIT_S; poll `Location`)"
        },
        302: {"description": "where to poll (async=true)"},
        413: {"model": ErrorBody},
        415: {"model": ErrorBody},
        422: {"model": ErrorBody},
        **_AUTH_ERRORS,
    },
    summary="Gentle-compatible alignment",
    openapi_extra=_FORM,
)
async def transcriptions(
    service: ServiceDep,
    caller: CallerDep,
    request: Request,
    async_: Annotated[bool, Query(alias="async")] = True,
) -> Response:
    """Like Gentle: `async=false` answers its JSON when done within PODALIGN_MAX_WAIT_S (else the
    job's status, with a `Location` to poll); otherwise a redirect to poll."""
    form = await receive_form(service, request)
    job = await run_in_threadpool(submit, service, Submission(form, caller, ("transcript",)))
    where = f"/transcriptions/{job.id}"
    if async_:
        return RedirectResponse(where, status_code=302)
    job = await wait_until_finished(service, job, caller, service.settings.max_wait_s)
    answer = await run_in_threadpool(_gentle, service, caller, job.id)
    answer.headers["Location"] = where
    return answer


@router.get(
    "/transcriptions/{job_id}",
    summary="Gentle-compatible result or status",
    responses={
        200: {"content": {"application/json": {}}},
        404: {"model": ErrorBody, "description": "no alignment with this id"},
        **_AUTH_ERRORS,
    },
)
def transcription(service: ServiceDep, caller: CallerDep, job_id: str) -> Response:
    return _gentle(service, caller, job_id)


def _gentle(service: Service, caller: Caller, job_id: str) -> Response:
    job = service.job(job_id, caller)
    if job.status != "succeeded":
        return JSONResponse({"status": job.status.upper(), "id": job.id, "progress": job.progress})
    document = service.rendering(job, "gentle", CaptionOptions())
    if isinstance(document, str):
        return Response(document, media_type="application/json")
    return FileResponse(document, media_type="application/json")
