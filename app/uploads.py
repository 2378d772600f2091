"""A multipart/form-data body read as it arrives: file parts go straight into the job's incoming
folder and every part is counted against its own limit, so an upload is never held twice, nor
past its limit."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from app.errors import ApiError

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

#: Parts that may be files, and the server-chosen name each is stored under.
_FILE_NAMES = {"audio": "audio", "transcript": "transcript.upload"}


@dataclass(frozen=True)
class PartLimits:
    """The most each part may hold, in bytes, and how many parts a form may have."""

    audio_bytes: int
    transcript_bytes: int
    #: Any other field (options, metadata, unknown names).
    field_bytes: int = 64 * 1024
    parts: int = 16
    header_bytes: int = 8 * 1024


@dataclass(frozen=True)
class ReceivedFile:
    path: Path
    #: The client's name for it (display only; None when the part had none).
    filename: str | None
    size: int


@dataclass
class ReceivedForm:
    """What a form held: files on disk in `folder` (the incoming folder of job `job_id`),
    other fields as raw bytes."""

    job_id: str
    folder: Path
    files: dict[str, ReceivedFile] = field(default_factory=dict)
    fields: dict[str, bytes] = field(default_factory=dict)

    def text(self, name: str) -> str | None:
        raw = self.fields.get(name)
        if raw is None:
            return None
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ApiError(422, "invalid_request", f"The field `{name}` is not UTF-8.") from exc


class _Part:
    """The part being read: how many bytes it has had and may have, and where they go. A
    file's bytes wait in `pending` until `flush` writes them (on a worker thread)."""

    def __init__(self, name: str, limit: int, path: Path | None) -> None:
        self.name, self.limit, self.path = name, limit, path
        self.size = 0
        self.pending = bytearray()  # a field's whole value, or a file's unwritten bytes
        self.ended = False
        self._sink: BinaryIO | None = None

    def take(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.limit:
            raise _too_large(self.name, self.limit)
        self.pending += data

    def flush(self) -> None:
        """Write the pending bytes of a file part (blocking); close the file once it ended."""
        if self.path is None:
            return
        if self._sink is None:
            self._sink = self.path.open("wb")
        self._sink.write(self.pending)
        self.pending.clear()
        if self.ended:
            self._sink.close()

    def close(self) -> None:
        if self._sink is not None:
            self._sink.close()


class FormReader:
    """Feed it the body chunk by chunk as it arrives (`feed`: parsing and counting only, no
    disk), `flush` when `unwritten_bytes` has grown, then `finish`. `flush` and `finish` write
    files: call them from a worker thread. The caller owns `folder` and removes it on any
    error."""

    def __init__(self, content_type: str, form: ReceivedForm, limits: PartLimits) -> None:
        self.form = form
        self._limits = limits
        self._parser = MultipartParser(_boundary(content_type), self._callbacks())
        self._headers: dict[str, str] = {}
        self._header = (bytearray(), bytearray())
        self._header_bytes = 0
        self._part: _Part | None = None
        #: File parts with bytes not yet written, or not yet closed.
        self._unwritten: list[_Part] = []
        self._parts = 0
        self._ended = False

    def feed(self, chunk: bytes) -> None:
        try:
            self._parser.write(chunk)
        except MultipartParseError as exc:
            raise _malformed(str(exc)) from exc

    @property
    def unwritten_bytes(self) -> int:
        return sum(len(part.pending) for part in self._unwritten)

    def flush(self) -> None:
        """Write what the files have received so far (blocking)."""
        for part in self._unwritten:
            part.flush()
        self._unwritten = [part for part in self._unwritten if not part.ended]

    def finish(self) -> ReceivedForm:
        self._parser.finalize()
        if not self._ended:
            raise _malformed("the body ends before its closing boundary")
        self.flush()
        return self.form

    def close(self) -> None:
        """Close the files being written, if any (after an error)."""
        for part in self._unwritten:
            part.close()

    def _callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self._begin_part,
            "on_header_field": lambda data, start, end: self._header_bytes_of(0, data[start:end]),
            "on_header_value": lambda data, start, end: self._header_bytes_of(1, data[start:end]),
            "on_header_end": self._end_header,
            "on_headers_finished": self._open_part,
            "on_part_data": lambda data, start, end: self._current().take(data[start:end]),
            "on_part_end": self._end_part,
            "on_end": self._end,
        }

    def _begin_part(self) -> None:
        self._parts += 1
        if self._parts > self._limits.parts:
            raise _malformed(f"it has more than {self._limits.parts} parts")
        self._headers, self._header_bytes = {}, 0

    def _header_bytes_of(self, which: int, data: bytes) -> None:
        self._header_bytes += len(data)
        if self._header_bytes > self._limits.header_bytes:
            raise _malformed("a part's headers are too long")
        self._header[which].extend(data)

    def _end_header(self) -> None:
        name, value = (bytes(b).decode("latin-1") for b in self._header)
        self._headers[name.strip().lower()] = value.strip()
        self._header = (bytearray(), bytearray())

    def _open_part(self) -> None:
        disposition, options = parse_options_header(self._headers.get("content-disposition", ""))
        name = options.get(b"name", b"").decode("utf-8", "replace")
        if disposition != b"form-data" or not name:
            raise _malformed("a part has no Content-Disposition: form-data name")
        if name in self.form.files or name in self.form.fields:
            raise ApiError(422, "invalid_request", f"The field `{name}` is sent twice.")
        filename = options.get(b"filename")
        is_file = name in _FILE_NAMES and (filename is not None or name == "audio")
        path = self.form.folder / _FILE_NAMES[name] if is_file else None
        self._part = _Part(name, self._limit(name), path)
        if path is not None:
            shown = filename.decode("utf-8", "replace") if filename is not None else None
            self.form.files[name] = ReceivedFile(path, shown, 0)
            self._unwritten.append(self._part)

    def _limit(self, name: str) -> int:
        if name == "audio":
            return self._limits.audio_bytes
        if name in ("transcript", "text"):
            return self._limits.transcript_bytes
        return self._limits.field_bytes

    def _current(self) -> _Part:
        if self._part is None:
            raise _malformed("data outside a part")
        return self._part

    def _end_part(self) -> None:
        part = self._current()
        part.ended = True
        if part.path is not None:
            received = self.form.files[part.name]
            self.form.files[part.name] = ReceivedFile(received.path, received.filename, part.size)
        else:
            self.form.fields[part.name] = bytes(part.pending)
        self._part = None

    def _end(self) -> None:
        self._ended = True


def _boundary(content_type: str) -> bytes:
    kind, options = parse_options_header(content_type)
    boundary = options.get(b"boundary", b"")
    if kind != b"multipart/form-data" or not boundary:
        raise ApiError(
            422,
            "invalid_request",
            "Send the form as multipart/form-data (curl -F, or FormData in a browser).",
        )
    return boundary


def _too_large(name: str, limit: int) -> ApiError:
    if name == "audio":
        return ApiError(
            413,
            "audio_too_large",
            f"The audio file is over {_size(limit)}, the limit here. "
            "Send a compressed file (MP3, M4A, Opus).",
        )
    if name in ("transcript", "text"):
        return ApiError(
            413,
            "transcript_too_large",
            f"The transcript is over {_size(limit)}, the limit here.",
        )
    return ApiError(422, "invalid_option", f"The field `{name}` is over {_size(limit)}.")


def _size(count: int) -> str:
    """A byte count in the largest unit that keeps it at least 1 (1.5 GB, 600 KB, 512 bytes)."""
    for unit, size in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if count >= size:
            return f"{count / size:.1f}".removesuffix(".0") + f" {unit}"
    return f"{count} bytes"


def _malformed(reason: str) -> ApiError:
    return ApiError(422, "invalid_request", f"The body is not a valid multipart form: {reason}.")
