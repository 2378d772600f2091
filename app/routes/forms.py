"""Receiving an upload form: the request body streamed into a new job's incoming folder as it
arrives, every part counted against its limit (shared by the v1 and Gentle routes)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from app.errors import ApiError
from app.service import Service
from app.uploads import FormReader, PartLimits, ReceivedForm

#: File bytes gathered before a blocking write on a worker thread (uvicorn hands over ~64 KB).
#: Only the writes wait for a batch: every chunk is parsed and counted as it arrives, so a
#: client that stops just past a limit gets its 413 at once.
_BATCH_BYTES = 1024 * 1024


async def receive_form(service: Service, request: Request) -> ReceivedForm:
    """The form, its files already in the incoming folder of a new job id; on any failure
    nothing is left behind."""
    room = service.files.room_problem(service.settings.min_free_bytes)
    if room is not None:
        raise room
    job_id = uuid.uuid4().hex
    form = ReceivedForm(job_id, await run_in_threadpool(service.files.incoming, job_id))
    limits = PartLimits(service.settings.max_upload_bytes, service.settings.max_transcript_bytes)
    reader: FormReader | None = None
    try:
        reader = FormReader(request.headers.get("content-type", ""), form, limits)
        return await _stream_into(request, reader)
    except BaseException as exc:
        if reader is not None:
            reader.close()
        await run_in_threadpool(service.files.discard, job_id)
        if isinstance(exc, ClientDisconnect):
            raise ApiError(400, "upload_interrupted", "The upload stopped before its end.") from exc
        raise


async def _stream_into(request: Request, reader: FormReader) -> ReceivedForm:
    async for chunk in request.stream():
        reader.feed(chunk)
        if reader.unwritten_bytes >= _BATCH_BYTES:
            await run_in_threadpool(reader.flush)
    return await run_in_threadpool(reader.finish)


def multipart_body(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    """The OpenAPI request body of a route that reads its form with `receive_form`."""
    schema = {"type": "object", "properties": properties, "required": required}
    return {
        "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": schema}}}
    }
