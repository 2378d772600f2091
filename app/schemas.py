"""The JSON shapes of the HTTP API (pydantic, at the edge only) and their conversion from rows."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from app.db import Job

Status = Literal["queued", "running", "succeeded", "failed", "canceled"]


class ErrorInfo(BaseModel):
    code: str = Field(examples=["audio_decode_failed"])
    message: str = Field(
        examples=[
            "The file could not be read as audio (Invalid data found when processing "
            "input). Send MP3, M4A/AAC, WAV, FLAC, OGG/Opus, or a video file with an audio track."
        ]
    )


class ErrorBody(BaseModel):
    error: ErrorInfo


class WordCounts(BaseModel):
    aligned: int | None = None
    not_found: int | None = None
    non_speech: int | None = None


class JobOut(BaseModel):
    id: str = Field(examples=["3f2c9a0e5b7d4c1e8a6f0b2d4c6e8a0b"])
    status: Status
    stage: str = Field(examples=["align"])
    progress: float = Field(ge=0.0, le=1.0, examples=[0.42])
    queue_position: int | None = Field(None, description="1 = next to run; null unless queued")
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    attempts: int
    model: str = Field(examples=["tiny.en"])
    language: str | None = Field(None, description="as requested; null = detect")
    detected_language: str | None = None
    audio_filename: str | None = None
    audio_bytes: int
    audio_duration_s: float | None = None
    words: WordCounts
    metadata: Any = None
    error: ErrorInfo | None = None
    links: dict[str, str]


class JobPage(BaseModel):
    items: list[JobOut]
    total: int
    limit: int
    offset: int


def _time(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


def job_out(job: Job, queue_position: int | None = None) -> JobOut:
    base = f"/v1/alignments/{job.id}"
    return JobOut(
        id=job.id,
        status=job.status,  # type: ignore[arg-type]
        stage=job.stage,
        progress=job.progress,
        queue_position=queue_position,
        created_at=_time(job.created_at),  # type: ignore[arg-type]
        started_at=_time(job.started_at),
        finished_at=_time(job.finished_at),
        attempts=job.attempts,
        model=job.model,
        language=job.language,
        detected_language=job.detected_language,
        audio_filename=job.audio_filename,
        audio_bytes=job.audio_bytes,
        audio_duration_s=job.audio_duration_s,
        words=WordCounts(
            aligned=job.words_aligned,
            not_found=job.words_not_found,
            non_speech=job.words_non_speech,
        ),
        metadata=json.loads(job.client_metadata) if job.client_metadata else None,
        error=ErrorInfo(code=job.error_code, message=job.error_message or "")
        if job.error_code
        else None,
        links={
            "self": base,
            "words": f"{base}/words",
            "captions": f"{base}/captions.vtt",
            "audio": f"{base}/audio",
        },
    )
