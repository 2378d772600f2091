"""`/v1/alignments`: submit an episode, follow the job, fetch words, captions and audio."""

from __future__ import annotations

import hashlib
from pathlib import PurePosixPath
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import FileResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool

from alignment.captions import FORMATS, CaptionOptions
from app.errors import ApiError
from app.jobs import FINISHED
from app.objectstore import ObjectStoreFiles
from app.routes.auth import CallerDep
from app.routes.forms import multipart_body, receive_form
from app.schemas import ErrorBody, JobOut, JobPage, Status, job_out
from app.service import RENDER_VERSION, ServiceDep, wait_until_finished
from app.submissions import Submission, submit

router = APIRouter(prefix="/v1/alignments", tags=["alignments"])

CaptionFormat = Literal["vtt", "srt", "ttml", "ass", "textgrid", "json", "gentle"]
_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "API key missing"},
    403: {"model": ErrorBody, "description": "API key not valid"},
    404: {"model": ErrorBody, "description": "no alignment with this id"},
}


#: The submission form's fields, documented in the OpenAPI schema; no others are taken.
_FORM_FIELDS: dict[str, Any] = {
    "audio": {
        "type": "string",
        "format": "binary",
        "description": "the episode: MP3, M4A, WAV, FLAC, Opus, MP4…",
    },
    "transcript": {"type": "string", "format": "binary", "description": "the text, UTF-8/16"},
    "text": {"type": "string", "description": "the text, instead of a file"},
    "language": {"type": "string", "examples": ["en"], "description": "ISO 639-1"},
    "model": {"type": "string", "examples": ["tiny.en"]},
    "refine": {
        "type": "string",
        "enum": ["acoustic", "precise", "signal", "none"],
        "description": "how word boundaries are sharpened (default: the server's setting, "
        "acoustic; languages other than English and Spanish get signal)",
    },
    "callback_url": {
        "type": "string",
        "maxLength": 2000,
        "pattern": "^https?://",
        "examples": ["https://cms.example/hooks/podalign"],
    },
    "metadata": {
        "type": "string",
        "description": "JSON (at most 16 KB) that comes back with the job",
        "examples": ['{"episode": 42}'],
    },
}
_FORM = multipart_body(_FORM_FIELDS, ["audio"])
FORM_FIELDS = tuple(_FORM_FIELDS)


@router.post(
    "",
    status_code=202,
    response_model=JobOut,
    responses={
        200: {"model": JobOut, "description": "finished within `wait` seconds"},
        413: {"model": ErrorBody, "description": "audio or transcript too large or too long"},
        415: {"model": ErrorBody, "description": "the file is not audio we can read"},
        422: {"model": ErrorBody, "description": "bad transcript or option"},
        **_ERRORS,
    },
    summary="Submit audio and its transcript",
    openapi_extra=_FORM,
)
async def create_alignment(
    service: ServiceDep,
    caller: CallerDep,
    request: Request,
    response: Response,
    wait: Annotated[float, Query(ge=0, description="seconds to wait for the result")] = 0,
) -> JobOut:
    """Queue an alignment (multipart form: `audio` and `transcript` or `text`, options). Answers
    202 with the job and its `Location`; with `?wait=N` answers 200 with the finished job when
    it ends within N seconds (capped by the server)."""
    form = await receive_form(service, request)
    # Probing the upload blocks, so it runs on a worker thread; waiting for the result does
    # not hold a thread.
    submission = Submission(form, caller, ("text", "transcript"), FORM_FIELDS)
    job = await run_in_threadpool(submit, service, submission)
    response.headers["Location"] = f"/v1/alignments/{job.id}"
    job = await wait_until_finished(service, job, caller, min(wait, service.settings.max_wait_s))
    if job.status in FINISHED:
        response.status_code = 200
    return job_out(job, await run_in_threadpool(service.store.queue_position, job))


@router.get("", response_model=JobPage, responses=_ERRORS, summary="List alignments")
def list_alignments(
    service: ServiceDep,
    caller: CallerDep,
    status: Status | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> JobPage:
    """Newest first."""
    jobs, total = service.store.page(status, limit, offset, caller)
    items = [job_out(job, service.store.queue_position(job)) for job in jobs]
    return JobPage(items=items, total=total, limit=limit, offset=offset)


@router.get("/{job_id}", response_model=JobOut, responses=_ERRORS, summary="One alignment")
def get_alignment(service: ServiceDep, caller: CallerDep, job_id: str) -> JobOut:
    job = service.job(job_id, caller)
    return job_out(job, service.store.queue_position(job))


@router.delete(
    "/{job_id}", status_code=204, responses=_ERRORS, summary="Cancel and delete an alignment"
)
def delete_alignment(service: ServiceDep, caller: CallerDep, job_id: str) -> Response:
    """Cancels a queued or running job and deletes its files; a finished job is removed."""
    service.remove(service.job(job_id, caller))
    return Response(status_code=204)


@router.get(
    "/{job_id}/words",
    responses={**_ERRORS, 409: {"model": ErrorBody, "description": "not finished"}},
    summary="The aligned words",
)
def get_words(service: ServiceDep, caller: CallerDep, job_id: str) -> FileResponse:
    """Every word of the transcript with its status, times and score, plus what produced them."""
    path = service.finished_path(service.job(job_id, caller))
    return FileResponse(path, media_type="application/json")  # streamed from disk


#: The caption routes' layout parameters (`get_captions`); any other is refused.
CAPTION_PARAMETERS = (
    "max_chars_per_line",
    "max_lines",
    "min_duration_s",
    "max_duration_s",
    "max_chars_per_s",
    "min_gap_s",
    "highlight",
    "speakers",
)


@router.get(
    "/{job_id}/captions.{fmt}",
    responses={
        **_ERRORS,
        200: {"content": {f.media_type.split(";")[0]: {} for f in FORMATS.values()}},
        304: {"description": "unchanged (If-None-Match)"},
        409: {"model": ErrorBody, "description": "not finished"},
        422: {
            "model": ErrorBody,
            "description": "a layout parameter out of range, unknown, or contradicting another "
            "(min_duration_s above max_duration_s)",
        },
        503: {"model": ErrorBody, "description": "too many renderings under way (Retry-After)"},
    },
    response_class=Response,
    summary="Captions in any format",
)
def get_captions(
    service: ServiceDep,
    caller: CallerDep,
    request: Request,
    job_id: str,
    fmt: CaptionFormat,
    max_chars_per_line: Annotated[int, Query(ge=5, le=500)] = 42,
    max_lines: Annotated[int, Query(ge=1, le=10)] = 2,
    min_duration_s: Annotated[float, Query(ge=0, le=10)] = 1.0,
    max_duration_s: Annotated[float, Query(ge=0.5, le=60)] = 7.0,
    max_chars_per_s: Annotated[float, Query(ge=1, le=100)] = 20.0,
    min_gap_s: Annotated[float, Query(ge=0, le=1)] = 0.08,
    highlight: Literal["none", "words"] = "none",
    speakers: bool = True,
) -> Response:
    """Rendered from the stored words with these layout options (once: repeats are sent
    from disk)."""
    unknown = [name for name in request.query_params if name not in CAPTION_PARAMETERS]
    if unknown:
        raise ApiError(
            422,
            "invalid_request",
            f"Unknown parameter {', '.join(f'`{name}`' for name in unknown)}; the layout "
            f"parameters are {', '.join(CAPTION_PARAMETERS)}.",
        )
    if min_duration_s > max_duration_s:
        raise ApiError(
            422,
            "invalid_request",
            f"min_duration_s ({min_duration_s:g}) is longer than max_duration_s "
            f"({max_duration_s:g}): no cue can be both. Lower the first or raise the second.",
        )
    job = service.job(job_id, caller)
    service.finished_path(job)
    options = CaptionOptions(
        max_chars_per_line=max_chars_per_line,
        max_lines=max_lines,
        min_duration_s=min_duration_s,
        max_duration_s=max_duration_s,
        max_chars_per_s=max_chars_per_s,
        min_gap_s=min_gap_s,
        highlight=highlight,
        speakers=speakers,
    )
    tag = (
        '"'
        + hashlib.sha256(
            f"{RENDER_VERSION}|{job.id}|{job.finished_at}|{options}|{fmt}".encode()
        ).hexdigest()[:32]
        + '"'
    )
    if request.headers.get("if-none-match") == tag:
        return Response(status_code=304, headers={"ETag": tag})
    body = service.rendering(job, fmt, options)
    info = FORMATS[fmt]
    stem = PurePosixPath(job.audio_filename or job.id).stem or job.id
    filename = _ascii_filename(f"{stem}{'.gentle' if fmt == 'gentle' else ''}{info.extension}")
    headers = {"ETag": tag, "Content-Disposition": f'attachment; filename="{filename}"'}
    if isinstance(body, str):
        return Response(body, media_type=info.media_type, headers=headers)
    return FileResponse(body, media_type=info.media_type, headers=headers)


@router.get(
    "/{job_id}/audio",
    response_class=Response,
    responses={**_ERRORS, 200: {"content": {"audio/*": {}}}, 206: {"description": "a range"}},
    summary="The uploaded audio (supports Range)",
)
def get_audio(service: ServiceDep, caller: CallerDep, request: Request, job_id: str) -> Response:
    job = service.job(job_id, caller)
    # The type the probe found, never one guessed from the client's file name.
    media_type = job.audio_media_type or "application/octet-stream"
    path = service.files.local_audio(job.id)
    if path is not None:
        return FileResponse(path, media_type=media_type)
    if isinstance(service.files, ObjectStoreFiles):
        size = service.files.audio_size(job.id)
        if size is not None:
            return _object_range(service.files, job.id, size, request, media_type)
    raise ApiError(404, "not_found", "This alignment's audio was deleted.")


def _object_range(
    files: ObjectStoreFiles, job_id: str, size: int, request: Request, media_type: str
) -> Response:
    """The audio from the object store, whole or the one range asked for (as FileResponse
    answers for a local file: players seek with ranges)."""
    headers = {"Accept-Ranges": "bytes"}
    try:
        wanted = _single_range(request.headers.get("range"), size)
    except ValueError:
        headers["Content-Range"] = f"bytes */{size}"
        return Response(status_code=416, headers=headers)
    first, last = wanted if wanted is not None else (0, size - 1)
    headers["Content-Length"] = str(last - first + 1)
    status = 200
    if wanted is not None:
        headers["Content-Range"] = f"bytes {first}-{last}/{size}"
        status = 206
    body = files.read_audio(job_id, first, last) if size else iter(())
    return StreamingResponse(body, status_code=status, media_type=media_type, headers=headers)


def _single_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(first, last) of a `bytes=` Range with one range; None: send it all (no header, or
    one this does not serve, such as several ranges); ValueError past the end."""
    if not header or not header.startswith("bytes=") or "," in header:
        return None
    start, _, end = header.removeprefix("bytes=").strip().partition("-")
    if not (start.isdigit() or end.isdigit()) or not all(p.isdigit() for p in (start, end) if p):
        return None
    if not start:  # the last `end` bytes
        first, last = max(0, size - int(end)), size - 1
    else:
        first, last = int(start), min(int(end), size - 1) if end else size - 1
    if first >= size or first > last:
        raise ValueError("the range starts past the end")
    return first, last


def _ascii_filename(name: str) -> str:
    safe = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "._- ") else "_" for ch in name)
    return safe.strip() or "captions"
