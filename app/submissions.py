"""Turning an upload into a queued job: checks, files on disk, then the row."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from alignment import AlignmentError
from alignment.audio import AudioProbe, inspect_audio
from alignment.engine import is_known_language
from alignment.text import decode_transcript
from app.db import Job
from app.errors import ApiError, from_alignment_error
from app.files import TooLarge, copy_limited
from app.jobs import NewJob
from app.service import Service

_MAX_METADATA_BYTES = 16 * 1024


@dataclass
class Submission:
    audio: BinaryIO
    audio_filename: str | None
    transcript_file: BinaryIO | None
    text: str | None
    language: str | None
    model: str | None
    callback_url: str | None
    metadata: str | None


def submit(service: Service, form: Submission) -> Job:
    """Check everything, store the files under a new id, and queue the job; on any failure
    nothing is left behind."""
    room = service.files.room_problem(service.settings.min_free_bytes)
    if room is not None:
        raise room
    model, language = _model_and_language(service, form)
    callback = _callback(form.callback_url)
    metadata = _metadata(form.metadata)
    job_id = uuid.uuid4().hex
    folder = service.files.incoming(job_id)
    try:
        _store_transcript(service, form, folder / "transcript.txt")
        size = _store_audio(service, form.audio, folder / "audio")
        probe = _checked_probe(service, folder / "audio")
        service.files.publish(job_id)
        name = _display_name(form.audio_filename)
        new = NewJob(
            model,
            language,
            name,
            size,
            probe.duration_s or None,
            callback,
            metadata,
            probe.media_type,
        )
        return service.store.create(new, job_id)
    except AlignmentError as exc:
        service.files.discard(job_id)
        raise from_alignment_error(exc) from exc
    except BaseException:
        service.files.discard(job_id)
        raise


def _model_and_language(service: Service, form: Submission) -> tuple[str, str | None]:
    model = form.model or service.settings.model
    if model not in service.settings.models:
        raise ApiError(
            422,
            "invalid_option",
            f"Model {model!r} is not offered here; choose one of {service.settings.models}.",
        )
    language = (form.language or "").strip().lower() or None
    if language is not None and not is_known_language(language):
        raise ApiError(
            422,
            "unsupported_language",
            f"{language!r} is not a language Whisper knows; use an ISO 639-1 code.",
        )
    return model, language


def _checked_probe(service: Service, audio: Path) -> AudioProbe:
    """Decodes the header and first packets (never trusting the name or content type)."""
    probe = inspect_audio(audio)
    duration = probe.duration_s
    limit = service.settings.max_audio_s
    if duration > limit:
        raise ApiError(
            413,
            "audio_too_long",
            f"The audio lasts {duration / 3600:.2f} h; the limit here is {limit / 3600:.2f} h. "
            "Split the episode.",
        )
    return probe


def _store_transcript(service: Service, form: Submission, path: Path) -> None:
    limit = service.settings.max_transcript_bytes
    if form.transcript_file is not None and form.text:
        raise ApiError(
            422,
            "invalid_request",
            "Send the transcript as `transcript` (a file) or as `text` (a field), not both.",
        )
    if form.transcript_file is not None:
        raw = form.transcript_file.read(limit + 1)
    elif form.text:
        raw = form.text.encode("utf-8")
    else:
        raise ApiError(
            422, "transcript_missing", "Send the transcript: a `transcript` file or a `text` field."
        )
    if len(raw) > limit:
        raise ApiError(
            413,
            "transcript_too_large",
            f"The transcript is over {limit // 1024} KB, the limit here.",
        )
    text = decode_transcript(raw)  # raises transcript_encoding / transcript_empty
    path.write_text(text, encoding="utf-8")


def _store_audio(service: Service, audio: BinaryIO, path: Path) -> int:
    limit = service.settings.max_upload_bytes
    try:
        size = copy_limited(audio, path, limit)
    except TooLarge as exc:
        raise ApiError(
            413,
            "audio_too_large",
            f"The audio file is over {exc.limit / 1024**3:.2f} GB, the limit here. "
            "Send a compressed file (MP3, M4A, Opus).",
        ) from exc
    if size == 0:
        raise ApiError(415, "audio_empty", "The audio file is empty. Send the episode's audio.")
    return size


def _callback(url: str | None) -> str | None:
    if not url:
        return None
    if not url.startswith(("http://", "https://")) or len(url) > 2000:
        raise ApiError(422, "invalid_option", "callback_url must be an http:// or https:// URL.")
    return url


def _metadata(raw: str | None) -> Any:
    if raw is None or raw == "":
        return None
    if len(raw.encode()) > _MAX_METADATA_BYTES:
        raise ApiError(422, "invalid_option", "metadata must be at most 16 KB of JSON.")
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise ApiError(
            422, "invalid_option", f'metadata must be JSON ({exc}); e.g. {{"episode": 42}}.'
        ) from exc


def _display_name(name: str | None) -> str | None:
    """The client's file name, kept for display only (never used as a path)."""
    if not name:
        return None
    return name.replace("\\", "/").rsplit("/", 1)[-1][:300] or None
