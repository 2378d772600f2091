"""Turning an upload into a queued job: checks, files on disk, then the row."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alignment import AlignmentError
from alignment.audio import AudioProbe, inspect_audio
from alignment.engine import is_english_only, is_known_language
from alignment.text import decode_transcript
from alignment.types import REFINEMENTS
from app.db import Job
from app.destinations import Refused, check_url
from app.errors import ApiError, from_alignment_error
from app.jobs import NewJob
from app.keys import Caller
from app.limits import check_word_count
from app.service import Service
from app.uploads import ReceivedFile, ReceivedForm

_MAX_METADATA_BYTES = 16 * 1024
_MAX_METADATA_DEPTH = 32


@dataclass
class Submission:
    """A received form, by meaning: the files are already in `form.folder`."""

    form: ReceivedForm
    #: Who sends it: the job's owner.
    caller: Caller
    #: Where the transcript may be: a file part, or text fields (the first non-empty wins,
    #: and more than one is an error).
    text_fields: tuple[str, ...]
    #: The form's fields: another is refused (a misspelt `langauge` would otherwise be
    #: ignored and the job run with the default). None: any (Gentle's clients send their own).
    known_fields: tuple[str, ...] | None = None

    def field(self, name: str) -> str | None:
        return self.form.text(name) or None


def submit(service: Service, submission: Submission) -> Job:
    """Check everything, keep the files under the form's id, and queue the job; on any
    failure nothing is left behind."""
    form = submission.form
    try:
        _check_fields(submission)
        model, language = _model_and_language(service, submission)
        callback = _callback(service, submission.field("callback_url"))
        metadata = _metadata(submission.field("metadata"))
        text = _store_transcript(service, submission, service.files.incoming_path(form.job_id))
        audio = _received_audio(form)
        probe = _checked_probe(service, audio.path)
        if probe.duration_s:  # the worker checks again against the decoded audio
            check_word_count(text, probe.duration_s, service.settings.max_words_per_s)
        service.files.publish(form.job_id)
        name = _display_name(audio.filename)
        new = NewJob(
            model,
            language,
            name,
            audio.size,
            probe.duration_s or None,
            callback,
            metadata,
            probe.media_type,
            submission.caller.owner,
            _refine(submission.field("refine")),
        )
        job = service.store.create(new, form.job_id)
    except AlignmentError as exc:
        service.files.discard(form.job_id)
        raise from_alignment_error(exc) from exc
    except BaseException:
        service.files.discard(form.job_id)
        raise
    service.enqueue(job)
    return job


def _check_fields(submission: Submission) -> None:
    known = submission.known_fields
    if known is None:
        return
    form = submission.form
    unknown = [name for name in [*form.files, *form.fields] if name not in known]
    if unknown:
        names = ", ".join(f"`{name}`" for name in unknown)
        raise ApiError(
            422,
            "invalid_request",
            f"The form has fields this API does not know: {names}. Check their spelling; "
            f"the fields are {', '.join(known)}.",
        )


def _model_and_language(service: Service, form: Submission) -> tuple[str, str | None]:
    model = form.field("model") or service.settings.model
    if model not in service.settings.models:
        raise ApiError(
            422,
            "invalid_option",
            f"Model {model!r} is not offered here; choose one of {service.settings.models}.",
        )
    language = (form.field("language") or "").strip().lower() or None
    if language is not None and not is_known_language(language):
        raise ApiError(
            422,
            "unsupported_language",
            f"{language!r} is not a language Whisper knows; use an ISO 639-1 code.",
        )
    if language not in (None, "en") and is_english_only(model):
        others = [name for name in service.settings.models if not is_english_only(name)]
        hint = (
            f"choose a multilingual model: {others}"
            if others
            else "this service offers none that knows other languages (PODALIGN_MODELS)"
        )
        raise ApiError(
            422,
            "unsupported_language",
            f"The model {model!r} only knows English; for {language!r} {hint}.",
        )
    return model, language


def _refine(value: str | None) -> str | None:
    refine = (value or "").strip().lower() or None
    if refine is not None and refine not in REFINEMENTS:
        raise ApiError(
            422,
            "invalid_option",
            "refine must be 'acoustic', 'precise', 'signal' or 'none' (or left out).",
        )
    return refine


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


def _store_transcript(service: Service, submission: Submission, folder: Path) -> str:
    """The transcript as UTF-8 in `transcript.txt`, from whichever part held it."""
    form = submission.form
    upload = form.files.get("transcript")
    sources = [form.fields[n] for n in submission.text_fields if form.fields.get(n)]
    if upload is not None and upload.size:
        sources.append(upload.path.read_bytes())
    if len(sources) > 1:
        raise ApiError(
            422,
            "invalid_request",
            "Send the transcript as `transcript` (a file) or as `text` (a field), not both.",
        )
    if not sources:
        sent = upload is not None or any(n in form.fields for n in submission.text_fields)
        if sent:  # an empty file or field: the same code as a blank one
            raise ApiError(
                422,
                "transcript_empty",
                "The transcript is empty. Send the text that is said in the audio.",
            )
        raise ApiError(
            422, "transcript_missing", "Send the transcript: a `transcript` file or a `text` field."
        )
    text = decode_transcript(sources[0])  # raises transcript_encoding / transcript_empty
    (folder / "transcript.txt").write_text(text, encoding="utf-8")
    if upload is not None:
        upload.path.unlink()
    return text


def _received_audio(form: ReceivedForm) -> ReceivedFile:
    audio = form.files.get("audio")
    if audio is None:
        raise ApiError(422, "audio_missing", "Send the episode's audio as the `audio` file.")
    if audio.size == 0:
        raise ApiError(415, "audio_empty", "The audio file is empty. Send the episode's audio.")
    return audio


def _callback(service: Service, url: str | None) -> str | None:
    if not url:
        return None
    if not url.startswith(("http://", "https://")) or len(url) > 2000:
        raise ApiError(422, "invalid_option", "callback_url must be an http:// or https:// URL.")
    if not service.settings.webhook_secret:
        raise ApiError(
            422,
            "callbacks_disabled",
            "This service signs every callback and has no secret to sign with "
            "(PODALIGN_WEBHOOK_SECRET): poll the job instead, or ask the operator to set one.",
        )
    try:
        check_url(url, service.settings.webhook_allow_private_networks)
    except Refused as exc:
        raise ApiError(422, "callback_not_allowed", str(exc)) from exc
    return url


def _metadata(raw: str | None) -> Any:
    if raw is None or raw == "":
        return None
    if len(raw.encode()) > _MAX_METADATA_BYTES:
        raise ApiError(422, "invalid_option", "metadata must be at most 16 KB of JSON.")
    if _nesting(raw) > _MAX_METADATA_DEPTH:
        raise ApiError(
            422,
            "invalid_option",
            f"metadata may nest objects and arrays at most {_MAX_METADATA_DEPTH} deep.",
        )
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise ApiError(
            422, "invalid_option", f'metadata must be JSON ({exc}); e.g. {{"episode": 42}}.'
        ) from exc


def _nesting(raw: str) -> int:
    """How deep brackets nest in JSON text, strings skipped (parsing deeper ones recurses)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in raw:
        if in_string:
            escaped, in_string = (False, True) if escaped else (char == "\\", char != '"')
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def _display_name(name: str | None) -> str | None:
    """The client's file name, kept for display only (never used as a path)."""
    if not name:
        return None
    return name.replace("\\", "/").rsplit("/", 1)[-1][:300] or None
